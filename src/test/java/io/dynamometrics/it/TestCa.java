package io.dynamometrics.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A private certificate authority made with openssl for one test: {@code ca.pem}, and for each
 * name a certificate {@code NAME.pem} (valid for 127.0.0.1 and localhost) with its key {@code NAME.key}.
 */
final class TestCa {
  final Path dir;

  TestCa(String... names) throws Exception {
    dir = Files.createTempDirectory("testca");
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=test-ca", "-keyout", "ca.key", "-out", "ca.pem");
    for (String name : names) {
      openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=" + name, "-keyout", name + ".key", "-out", name + ".csr");
      Files.writeString(dir.resolve(name + ".ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
      openssl("x509", "-req", "-in", name + ".csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-days", "1",
          "-extfile", name + ".ext", "-out", name + ".pem");
    }
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
    String out = new String(p.getInputStream().readAllBytes());
    assertThat(p.waitFor()).as(out).isZero();
  }
}
