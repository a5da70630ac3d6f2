package io.dynamometrics.bench;

import java.util.List;
import java.util.Locale;

/**
 * A small SVG of gather time and CPU per poll against fleet size (log x axis), written by the
 * harness.
 */
final class Plot {
  private Plot() {}

  static String svg(List<LoadHarness.Run> runs) {
    int w = 720;
    int h = 300;
    StringBuilder sb = new StringBuilder();
    sb.append(
        String.format(
            Locale.ROOT,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" font-family=\"sans-serif\" font-size=\"11\">%n",
            w,
            h));
    sb.append("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
    panel(sb, runs, 0, "Gather time per poll (ms): median, p90", true);
    panel(sb, runs, w / 2, "Aggregator CPU per poll (ms of one core)", false);
    sb.append("</svg>\n");
    return sb.toString();
  }

  private static void panel(
      StringBuilder sb, List<LoadHarness.Run> runs, int x0, String title, boolean gather) {
    int left = x0 + 50;
    int right = x0 + 340;
    int top = 30;
    int bottom = 250;
    double minX = Math.log10(runs.stream().mapToInt(LoadHarness.Run::workers).min().orElse(1));
    double maxX = Math.log10(runs.stream().mapToInt(LoadHarness.Run::workers).max().orElse(10));
    if (maxX - minX < 1e-9) {
      maxX = minX + 1;
    }
    double maxY =
        runs.stream()
                .mapToDouble(r -> gather ? r.gatherP90Ms() : r.cpuPerPollMs())
                .filter(Double::isFinite)
                .max()
                .orElse(1)
            * 1.15;
    maxY = Math.max(maxY, 1e-3);
    sb.append(
        String.format(
            Locale.ROOT, "<text x=\"%d\" y=\"18\" font-weight=\"bold\">%s</text>%n", left, title));
    sb.append(
        String.format(
            Locale.ROOT,
            "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"black\"/>%n",
            left,
            bottom,
            right,
            bottom));
    sb.append(
        String.format(
            Locale.ROOT,
            "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"black\"/>%n",
            left,
            top,
            left,
            bottom));
    for (int i = 0; i <= 4; i++) {
      double v = maxY * i / 4;
      int y = (int) (bottom - (bottom - top) * i / 4.0);
      sb.append(
          String.format(
              Locale.ROOT,
              "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%.1f</text>%n",
              left - 4,
              y + 4,
              v));
      sb.append(
          String.format(
              Locale.ROOT,
              "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#ddd\"/>%n",
              left,
              y,
              right,
              y));
    }
    String[] series = gather ? new String[] {"median", "p90"} : new String[] {"cpu"};
    String[] colors = {"#1f77b4", "#ff7f0e"};
    for (int s = 0; s < series.length; s++) {
      StringBuilder pts = new StringBuilder();
      for (LoadHarness.Run r : runs) {
        double v = gather ? (s == 0 ? r.gatherMedianMs() : r.gatherP90Ms()) : r.cpuPerPollMs();
        if (!Double.isFinite(v)) {
          continue;
        }
        double x = left + (right - left) * (Math.log10(r.workers()) - minX) / (maxX - minX);
        double y = bottom - (bottom - top) * v / maxY;
        pts.append(String.format(Locale.ROOT, "%.1f,%.1f ", x, y));
        sb.append(
            String.format(
                Locale.ROOT,
                "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"/>%n",
                x,
                y,
                colors[s]));
      }
      sb.append(
          String.format(
              Locale.ROOT,
              "<polyline points=\"%s\" fill=\"none\" stroke=\"%s\"/>%n",
              pts,
              colors[s]));
      sb.append(
          String.format(
              Locale.ROOT,
              "<text x=\"%d\" y=\"%d\" fill=\"%s\">%s</text>%n",
              right - 60,
              top + 12 + 14 * s,
              colors[s],
              series[s]));
    }
    for (LoadHarness.Run r : runs) {
      double x = left + (right - left) * (Math.log10(r.workers()) - minX) / (maxX - minX);
      sb.append(
          String.format(
              Locale.ROOT,
              "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%d</text>%n",
              x,
              bottom + 14,
              r.workers()));
    }
    sb.append(
        String.format(
            Locale.ROOT,
            "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">workers (log scale)</text>%n",
            (left + right) / 2,
            bottom + 32));
  }
}
