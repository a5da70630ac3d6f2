package io.dynamometrics.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.dynamometrics.export.Series;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** Structure of every dashboard: what Grafana would render, and what it would query. */
class DashboardsTest {
  /** Every series the service exposes (metrics.md) plus the client families the dashboards use. */
  private static final Set<String> SERVICE =
      Stream.concat(
              Series.FLEET.stream(),
              Stream.of(
                  "llm_workers_registered",
                  "dynamo_metrics_poll_duration_seconds_bucket",
                  "dynamo_metrics_poll_replies",
                  "dynamo_metrics_decode_errors_total",
                  "dynamo_metrics_events_total",
                  "dynamo_metrics_push_total",
                  "dynamo_metrics_nats_connected",
                  "dynamo_metrics_leader",
                  "process_cpu_seconds_total",
                  "jvm_memory_used_bytes",
                  "up"))
          .collect(Collectors.toUnmodifiableSet());

  /** What the NATS exporter, etcd and dcgm-exporter document (the stack spec lists them). */
  private static final Set<String> EXPORTERS =
      Set.of(
          "gnatsd_varz_connections",
          "gnatsd_varz_in_msgs",
          "gnatsd_varz_out_msgs",
          "gnatsd_varz_in_bytes",
          "gnatsd_varz_out_bytes",
          "gnatsd_varz_slow_consumers",
          "gnatsd_varz_subscriptions",
          "gnatsd_varz_mem",
          "gnatsd_varz_cpu",
          "etcd_server_has_leader",
          "etcd_server_leader_changes_seen_total",
          "etcd_mvcc_db_total_size_in_bytes",
          "etcd_disk_wal_fsync_duration_seconds_bucket",
          "etcd_network_client_grpc_received_bytes_total",
          "DCGM_FI_PROF_GR_ENGINE_ACTIVE",
          "DCGM_FI_PROF_PIPE_TENSOR_ACTIVE",
          "DCGM_FI_PROF_PCIE_RX_BYTES",
          "DCGM_FI_PROF_PCIE_TX_BYTES");

  @Test
  void thereAreTheFourDashboardsWithTheirUids() {
    List<String> uids =
        Dashboards.files().stream()
            .map(p -> Dashboards.read(p).path("uid").asText())
            .sorted()
            .toList();
    assertThat(uids)
        .containsExactly(
            "dcgm-dashboard", "dynamo-metrics-health", "llm-worker-metrics", "nats-etcd");
  }

  @Test
  void panelIdsAreUniqueAndPanelsDoNotOverlap() {
    for (Path p : Dashboards.files()) {
      JsonNode d = Dashboards.read(p);
      Set<Integer> ids = new HashSet<>();
      List<int[]> boxes = new ArrayList<>();
      for (JsonNode panel : d.path("panels")) {
        assertThat(ids.add(panel.path("id").asInt()))
            .as("%s: panel id %s unique", p, panel.path("id"))
            .isTrue();
        JsonNode g = panel.path("gridPos");
        int[] box = {
          g.path("x").asInt(), g.path("y").asInt(), g.path("w").asInt(), g.path("h").asInt()
        };
        assertThat(box[0] + box[2])
            .as("%s: %s fits 24 columns", p, panel.path("title"))
            .isLessThanOrEqualTo(24);
        for (int[] other : boxes) {
          boolean overlap =
              box[0] < other[0] + other[2]
                  && other[0] < box[0] + box[2]
                  && box[1] < other[1] + other[3]
                  && other[1] < box[1] + box[3];
          assertThat(overlap).as("%s: %s overlaps another panel", p, panel.path("title")).isFalse();
        }
        boxes.add(box);
      }
    }
  }

  @Test
  void everyPanelAndQueryUsesTheDatasourceVariable() {
    for (Path p : Dashboards.files()) {
      JsonNode d = Dashboards.read(p);
      JsonNode var = d.path("templating").path("list").get(0);
      assertThat(var.path("name").asText()).as(p.toString()).isEqualTo("datasource");
      assertThat(var.path("type").asText()).isEqualTo("datasource");
      assertThat(var.path("current").path("value").asText())
          .as("defaults to the provisioned uid")
          .isEqualTo("prometheus");
      for (JsonNode panel : d.path("panels")) {
        assertThat(panel.path("datasource").path("uid").asText())
            .as("%s: %s", p, panel.path("title"))
            .isEqualTo("${datasource}");
        for (JsonNode t : panel.path("targets")) {
          assertThat(t.path("datasource").path("uid").asText()).isEqualTo("${datasource}");
        }
      }
      for (JsonNode v : d.path("templating").path("list")) {
        if (v.path("type").asText().equals("query")) {
          assertThat(v.path("datasource").path("uid").asText()).isEqualTo("${datasource}");
        }
      }
    }
  }

  @Test
  void everyMetricNameExistsInTheServiceOrADocumentedExporter() {
    for (Dashboards.Query q : Dashboards.queries()) {
      for (String name : Dashboards.metricNames(q.expr())) {
        assertThat(SERVICE.contains(name) || EXPORTERS.contains(name) || Series.NVML.contains(name))
            .as("%s / %s uses unknown metric %s", q.dashboard(), q.panel(), name)
            .isTrue();
      }
    }
  }

  @Test
  void theReferencePanelsKeepTheirQueries() {
    String sel = "{component=\"$component\", endpoint=\"$endpoint\"}";
    assertThat(
            Dashboards.queries().stream()
                .filter(q -> q.dashboard().equals("llm-worker-metrics"))
                .map(Dashboards.Query::expr))
        .contains(
            "100 * llm_kv_blocks_active" + sel + " / llm_kv_blocks_total" + sel,
            "100 * avg(llm_requests_active_slots"
                + sel
                + ") / avg(llm_requests_total_slots"
                + sel
                + ")",
            "sum(llm_kv_blocks_total" + sel + " - llm_kv_blocks_active" + sel + ")",
            "llm_load_avg" + sel,
            "llm_load_std" + sel);
  }

  @Test
  void pcieRatesAreNotRatedTwice() {
    assertThat(Dashboards.queries())
        .filteredOn(q -> q.expr().contains("PCIE"))
        .isNotEmpty()
        .allMatch(q -> !q.expr().contains("rate("));
  }

  @Test
  void metricNamesAreExtractedFromPromql() {
    assertThat(
            Dashboards.metricNames(
                "histogram_quantile(0.99, sum by (le, instance) (rate(etcd_disk_wal_fsync_duration_seconds_bucket{a=\"b\"}[5m])))"))
        .containsExactly("etcd_disk_wal_fsync_duration_seconds_bucket");
  }
}
