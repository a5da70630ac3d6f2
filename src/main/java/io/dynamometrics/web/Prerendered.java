package io.dynamometrics.web;

import java.util.List;

/**
 * Metric families written as exposition text ahead of the scrape (the fleet's, once per poll),
 * which the scrape takes as they are and leaves out of the registry's own rendering.
 */
public interface Prerendered {
  /**
   * One family, as the client library's writers would write it.
   *
   * @param name the family's name, as the registry sorts families
   * @param text in text format 0.0.4
   * @param openMetrics in OpenMetrics 1.0 (without the final {@code # EOF})
   */
  record Family(String name, byte[] text, byte[] openMetrics) {}

  /** The families as of now, sorted by name. */
  List<Family> families();
}
