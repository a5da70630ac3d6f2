package io.dynamometrics.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A private certificate authority made with openssl for one test: {@code ca.pem}, and for each name
 * a certificate {@code NAME.pem} (valid for 127.0.0.1 and localhost) with its key {@code NAME.key}
 * (RSA, PKCS#8). More identities, other key types and the other key encodings on request.
 */
final class TestCa {
  /** The password of every encrypted key this CA writes. */
  static final String PASSWORD = "key-pass";

  final Path dir;

  TestCa(String... names) throws Exception {
    dir = Files.createTempDirectory("testca");
    selfSigned("ca"); // the CA: ca.pem, ca.key
    for (String name : names) {
      identity(name, "rsa");
    }
  }

  /**
   * A certificate signed by this CA for a new key of {@code type}: {@code rsa} (PKCS#8), {@code ec}
   * (SEC1 with its EC PARAMETERS block, as {@code openssl ecparam -genkey} writes it) or {@code
   * ed25519} (PKCS#8).
   */
  void identity(String name, String type) throws Exception {
    switch (type) {
      case "rsa" ->
          openssl(
              "genpkey",
              "-algorithm",
              "RSA",
              "-pkeyopt",
              "rsa_keygen_bits:2048",
              "-out",
              name + ".key");
      case "ec" -> openssl("ecparam", "-genkey", "-name", "prime256v1", "-out", name + ".key");
      case "ed25519" -> openssl("genpkey", "-algorithm", "ed25519", "-out", name + ".key");
      default -> throw new IllegalArgumentException(type);
    }
    openssl("req", "-new", "-key", name + ".key", "-subj", "/CN=" + name, "-out", name + ".csr");
    Files.writeString(dir.resolve(name + ".ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
    openssl(
        "x509",
        "-req",
        "-in",
        name + ".csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "1",
        "-extfile",
        name + ".ext",
        "-out",
        name + ".pem");
  }

  /** A certificate no CA signed, with its key: what a stranger presents. */
  void selfSigned(String name) throws Exception {
    openssl(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=" + name,
        "-addext",
        "subjectAltName=DNS:localhost",
        "-keyout",
        name + ".key",
        "-out",
        name + ".pem");
  }

  /**
   * {@code name}'s RSA key re-encoded as {@code form}: {@code pkcs1} (BEGIN RSA PRIVATE KEY),
   * {@code encrypted} (PKCS#8 under AES-256 with {@link #PASSWORD}) or {@code legacy-encrypted}
   * (PKCS#1 with OpenSSL's Proc-Type header).
   */
  String keyAs(String name, String form) throws Exception {
    String out = name + "-" + form + ".key";
    switch (form) {
      case "pkcs1" -> openssl("rsa", "-in", name + ".key", "-traditional", "-out", out);
      case "encrypted" ->
          openssl(
              "pkcs8",
              "-topk8",
              "-v2",
              "aes-256-cbc",
              "-in",
              name + ".key",
              "-passout",
              "pass:" + PASSWORD,
              "-out",
              out);
      case "legacy-encrypted" ->
          openssl(
              "rsa",
              "-in",
              name + ".key",
              "-traditional",
              "-aes256",
              "-passout",
              "pass:" + PASSWORD,
              "-out",
              out);
      default -> throw new IllegalArgumentException(form);
    }
    return dir.resolve(out).toString();
  }

  String ca() {
    return dir.resolve("ca.pem").toString();
  }

  String cert(String name) {
    return dir.resolve(name + ".pem").toString();
  }

  String key(String name) {
    return dir.resolve(name + ".key").toString();
  }

  private void openssl(String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("openssl"));
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor()).as(out).isZero();
  }
}
