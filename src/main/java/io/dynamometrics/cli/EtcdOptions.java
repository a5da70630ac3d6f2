package io.dynamometrics.cli;

import io.dynamometrics.etcd.EtcdClient;
import io.dynamometrics.etcd.EtcdSettings;
import io.dynamometrics.etcd.Layout;
import picocli.CommandLine.Option;

/** etcd: off by default; endpoints and credentials from Dynamo's ETCD_* variables. */
final class EtcdOptions {
  @Option(
      names = "--etcd",
      description =
          "Use etcd (ETCD_ENDPOINTS, default http://localhost:2379; ETCD_AUTH_USERNAME/PASSWORD, "
              + "ETCD_AUTH_CA/CLIENT_CERT/CLIENT_KEY): claim the singleton key as Dynamo does, and discover workers "
              + "from their registrations.")
  boolean enabled;

  @Option(
      names = "--etcd-layout",
      defaultValue = "instances",
      paramLabel = "LAYOUT",
      description =
          "Key layout to claim and register under: 'instances' (Dynamo v0.3.0+) or 'components' "
              + "(earlier). Registrations are read in both (default: ${DEFAULT-VALUE}).")
  String layoutName;

  @Option(
      names = "--etcd-claim",
      paramLabel = "KEY",
      description =
          "The singleton key to claim instead of Dynamo's one per namespace (the layout's "
              + "'count/instance' key), so that aggregators of different components of one "
              + "namespace each elect their own leader; each pair of active and standby shares one.")
  String claim;

  /** The key to claim for namespace {@code ns}: {@code --etcd-claim}, else Dynamo's. */
  String claimKey(String ns) {
    if (claim == null) {
      return layout().singleton(ns);
    }
    if (claim.isBlank() || claim.chars().anyMatch(Character::isWhitespace)) {
      throw new UserError("--etcd-claim must be a key without spaces, got '" + claim + "'");
    }
    return claim;
  }

  Layout layout() {
    try {
      return Layout.parse(layoutName);
    } catch (IllegalArgumentException e) {
      throw new UserError("--etcd-layout: " + e.getMessage());
    }
  }

  EtcdClient client() {
    try {
      return EtcdSettings.fromEnv(System.getenv());
    } catch (IllegalArgumentException e) {
      throw new UserError(e.getMessage());
    }
  }
}
