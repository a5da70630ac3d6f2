package io.dynamometrics.cli;

import java.util.List;
import java.util.stream.Collectors;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * The command-line reference ({@code docs/configuration.md}), written from the command definitions
 * themselves so that it cannot drift from {@code --help}: every command, every option with its
 * default and description, and the environment variables the service reads.
 */
public final class ReferenceDoc {
  private ReferenceDoc() {}

  /** An environment variable the service or its launcher reads. */
  record Variable(String name, String meaning) {}

  /** Every environment variable read, besides the defaults of options (named in their rows). */
  static final List<Variable> ENVIRONMENT =
      List.of(
          new Variable(
              "ETCD_ENDPOINTS",
              "with `--etcd`: etcd's client URLs, comma-separated, tried in turn (default"
                  + " `http://localhost:2379`)"),
          new Variable("ETCD_AUTH_USERNAME", "with `--etcd`: etcd user (with the password)"),
          new Variable("ETCD_AUTH_PASSWORD", "with `--etcd`: etcd password"),
          new Variable("ETCD_AUTH_CA", "with `--etcd`: CA certificate (PEM) to trust etcd's TLS"),
          new Variable(
              "ETCD_AUTH_CLIENT_CERT", "with `--etcd`: client certificate (PEM) for mutual TLS"),
          new Variable(
              "ETCD_AUTH_CLIENT_KEY", "with `--etcd`: its private key (PEM, PKCS#8 or PKCS#1)"),
          new Variable(
              "ETCD_AUTH_CLIENT_KEY_PASSWORD",
              "the password of an encrypted `ETCD_AUTH_CLIENT_KEY`"),
          new Variable("ETCD_AUTH_CLIENT_KEY_PASSWORD_FILE", "a file holding that password"),
          new Variable("NATS_AUTH_USERNAME", "NATS user (with the password)"),
          new Variable("NATS_AUTH_PASSWORD", "NATS password"),
          new Variable("NATS_AUTH_TOKEN", "NATS token"),
          new Variable("NATS_AUTH_NKEY", "NATS NKey seed"),
          new Variable("NATS_AUTH_CREDENTIALS_FILE", "NATS credentials file (JWT and seed)"),
          new Variable("NATS_TLS_CA", "CA certificate (PEM) to trust the NATS server's TLS"),
          new Variable("NATS_TLS_CERT", "client certificate (PEM) for NATS mutual TLS"),
          new Variable("NATS_TLS_KEY", "its private key (PEM)"),
          new Variable("NATS_TLS_KEY_PASSWORD", "the password of an encrypted `NATS_TLS_KEY`"),
          new Variable("NATS_TLS_KEY_PASSWORD_FILE", "a file holding that password"),
          new Variable(
              "DYN_LOGGING_JSONL",
              "`1` or `true`: log one JSON object per line (as `--log-format json`)"),
          new Variable(
              "DYN_ZMQ_BROKER_URL",
              "Dynamo's ZMQ broker mode, which the service does not support: set, the service"
                  + " refuses to start, naming it (it reads every worker's own publisher instead)"),
          new Variable("DYN_ZMQ_BROKER_ENABLED", "as `DYN_ZMQ_BROKER_URL`"),
          new Variable(
              "DYN_DISCOVERY_BACKEND",
              "`kubernetes`, as the Dynamo operator sets it for workers: the same as `--discovery"
                  + " kubernetes` (other values leave discovery to the flags)"),
          new Variable(
              "KUBECONFIG",
              "with Kubernetes discovery outside a pod: the kubeconfig file(s) whose current"
                  + " context names the API server, credentials and default namespace (else"
                  + " `~/.kube/config`)"),
          new Variable(
              "KUBERNETES_SERVICE_HOST",
              "set in every pod: Kubernetes discovery then uses the pod's service account"
                  + " (token, CA and namespace under /var/run/secrets/kubernetes.io/serviceaccount)"),
          new Variable(
              "HOSTNAME", "the default Pushgateway grouping key `instance` (`--push-instance`)"),
          new Variable(
              "DYNAMO_METRICS_JAVA_OPTS",
              "`bin/dynamo-metrics`: JVM options replacing the launcher's defaults"),
          new Variable(
              "JAVA_HOME",
              "`bin/dynamo-metrics`: the JDK 21+ to use (else one under /usr/lib/jvm)"));

  /** The whole page, Markdown. */
  public static String markdown() {
    CommandLine root = new CommandLine(new AggregateCommand());
    // defaults as written, not as this machine's environment resolves them
    root.setInterpolateVariables(false);
    StringBuilder b = new StringBuilder();
    b.append("# Configuration\n\n")
        .append(
            "Every command, flag and environment variable of `bin/dynamo-metrics`. This page is"
                + " written from the command definitions (`--help` prints the same), and a test"
                + " fails when the two differ.\n");
    command(b, root, "bin/dynamo-metrics");
    for (CommandLine sub : root.getSubcommands().values()) {
      command(b, sub, "bin/dynamo-metrics " + sub.getCommandName());
    }
    b.append("\n## Environment variables\n\n")
        .append(
            "Besides the defaults named in the tables above (`DYN_NAMESPACE`, `NATS_SERVER`):\n\n")
        .append("| variable | meaning |\n|---|---|\n");
    for (Variable v : ENVIRONMENT) {
      b.append("| `").append(v.name()).append("` | ").append(v.meaning()).append(" |\n");
    }
    return b.toString();
  }

  private static void command(StringBuilder b, CommandLine cl, String usage) {
    CommandSpec spec = cl.getCommandSpec();
    b.append("\n## `").append(usage).append("`\n\n");
    String description =
        String.join(" ", spec.usageMessage().description()).replace("%n", " ").strip();
    if (!description.isEmpty()) {
      b.append(escape(description)).append("\n\n");
    }
    b.append("| flag | default | meaning |\n|---|---|---|\n");
    for (OptionSpec o : spec.options()) {
      if (o.hidden()) {
        continue;
      }
      String names =
          java.util.Arrays.stream(o.names())
              .map(n -> "`" + n + "`")
              .collect(Collectors.joining(", "));
      String label = o.typeInfo().isBoolean() ? "" : " " + o.paramLabel();
      String def = o.defaultValue() == null ? "" : readable(o.defaultValue());
      String text =
          String.join(" ", o.description())
              .replace("${DEFAULT-VALUE}", plain(o.defaultValue()))
              .replace("${COMPLETION-CANDIDATES}", candidates(o))
              .strip();
      b.append("| ")
          .append(names)
          .append(escape(label))
          .append(" | ")
          .append(def.isEmpty() ? "–" : escape(def))
          .append(" | ")
          .append(escape(text))
          .append(" |\n");
    }
  }

  private static final java.util.regex.Pattern ENV_DEFAULT =
      java.util.regex.Pattern.compile("\\$\\{env:(\\w+):-(.*)}");

  /** {@code ${env:NAME:-value}} as "`value` (env `NAME`)"; anything else in backticks. */
  private static String readable(String def) {
    java.util.regex.Matcher m = ENV_DEFAULT.matcher(def);
    return m.matches() ? "`" + m.group(2) + "` (env `" + m.group(1) + "`)" : "`" + def + "`";
  }

  /** The default's value alone, for the description's own "(default: ...)". */
  private static String plain(String def) {
    if (def == null) {
      return "none";
    }
    java.util.regex.Matcher m = ENV_DEFAULT.matcher(def);
    return m.matches() ? m.group(2) : def;
  }

  private static String candidates(OptionSpec o) {
    Iterable<String> c = o.completionCandidates();
    return c == null ? "" : String.join(", ", c);
  }

  /** Table cells: a pipe would end the cell, a line break the row. */
  private static String escape(String s) {
    return s.replace("|", "\\|").replace("\n", " ");
  }
}
