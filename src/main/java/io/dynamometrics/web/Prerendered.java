package io.dynamometrics.web;

import java.util.List;
import java.util.Set;

/**
 * Metric families written as exposition text ahead of the scrape (the fleet's, once per poll),
 * which the scrape takes as they are and leaves out of the registry's own rendering.
 */
public interface Prerendered {
  /**
   * One family, as the client library's writers would write it: its header in the format, then its
   * samples, which both formats write alike.
   *
   * @param name the family's name, as the registry sorts families
   * @param textHeader its {@code # HELP} and {@code # TYPE} lines in text format 0.0.4
   * @param openMetricsHeader the same in OpenMetrics 1.0
   * @param samples its sample lines
   */
  record Family(String name, byte[] textHeader, byte[] openMetricsHeader, byte[] samples) {
    /** Its bytes in one of the two formats. */
    public byte[] header(boolean openMetrics) {
      return openMetrics ? openMetricsHeader : textHeader;
    }
  }

  /** The families as of now, sorted by name; those without samples are left out. */
  List<Family> families();

  /**
   * Every family name this source writes, whether or not it has samples now: the registry's own
   * rendering leaves them all out.
   */
  Set<String> names();
}
