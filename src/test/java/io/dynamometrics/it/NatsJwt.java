package io.dynamometrics.it;

import io.nats.client.NKey;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Locale;
import java.util.UUID;

/**
 * Decentralised NATS authentication for tests, without the nsc tool: an operator, one account and
 * its users, as signed JWTs; a server config that trusts the operator, and users' credentials
 * files.
 */
final class NatsJwt {
  private static final String ACCOUNT_LIMITS =
      "{\"limits\":{\"subs\":-1,\"data\":-1,\"payload\":-1,\"imports\":-1,\"exports\":-1,\"wildcards\":true,\"conn\":-1,\"leaf\":-1},"
          + "\"type\":\"account\",\"version\":2}";
  private static final String USER_LIMITS =
      "{\"pub\":{},\"sub\":{},\"subs\":-1,\"data\":-1,\"payload\":-1,\"type\":\"user\",\"version\":2}";

  private final NKey operator;
  private final NKey account;

  NatsJwt() throws Exception {
    operator = NKey.createOperator(null);
    account = NKey.createAccount(null);
  }

  /**
   * A nats-server config trusting this operator, with the account preloaded in a memory resolver.
   */
  Path serverConfig(Path dir) throws Exception {
    String op = jwt(operator, operator, "test-operator", "{\"type\":\"operator\",\"version\":2}");
    String acc = jwt(operator, account, "test-account", ACCOUNT_LIMITS);
    return Files.writeString(
        dir.resolve("jwt-server.conf"),
        "operator: "
            + op
            + "\nresolver: MEMORY\nresolver_preload: {\n  "
            + new String(account.getPublicKey())
            + ": "
            + acc
            + "\n}\n");
  }

  /** A credentials file (user JWT and seed) for a new user of this account. */
  Path userCredentials(Path dir, String name) throws Exception {
    return credentials(dir, name, account);
  }

  /** A well-formed credentials file whose user is signed by an account the server does not know. */
  Path strangerCredentials(Path dir, String name) throws Exception {
    return credentials(dir, name, NKey.createAccount(null));
  }

  private static Path credentials(Path dir, String name, NKey signer) throws Exception {
    NKey user = NKey.createUser(null);
    String jwt = jwt(signer, user, name, USER_LIMITS);
    return Files.writeString(
        dir.resolve(name + ".creds"),
        "-----BEGIN NATS USER JWT-----\n"
            + jwt
            + "\n------END NATS USER JWT------\n\n"
            + "-----BEGIN USER NKEY SEED-----\n"
            + new String(user.getSeed())
            + "\n------END USER NKEY SEED------\n");
  }

  private static String jwt(NKey issuer, NKey subject, String name, String nats) throws Exception {
    String header =
        base64("{\"typ\":\"JWT\",\"alg\":\"ed25519-nkey\"}".getBytes(StandardCharsets.UTF_8));
    String claims =
        base64(
            ("{\"jti\":\""
                    + UUID.randomUUID().toString().replace("-", "").toUpperCase(Locale.ROOT)
                    + "\",\"iat\":"
                    + System.currentTimeMillis() / 1000
                    + ",\"iss\":\""
                    + new String(issuer.getPublicKey())
                    + "\",\"name\":\""
                    + name
                    + "\",\"sub\":\""
                    + new String(subject.getPublicKey())
                    + "\",\"nats\":"
                    + nats
                    + "}")
                .getBytes(StandardCharsets.UTF_8));
    byte[] signature = issuer.sign((header + "." + claims).getBytes(StandardCharsets.US_ASCII));
    return header + "." + claims + "." + base64(signature);
  }

  private static String base64(byte[] bytes) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }
}
