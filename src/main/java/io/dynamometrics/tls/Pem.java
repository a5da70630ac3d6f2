package io.dynamometrics.tls;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.NoSuchAlgorithmException;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.crypto.Cipher;
import javax.crypto.EncryptedPrivateKeyInfo;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;

/**
 * Certificates and private keys from PEM files, in the forms operators have them: certificate
 * chains, and PKCS#8 ({@code BEGIN PRIVATE KEY}), encrypted PKCS#8 ({@code BEGIN ENCRYPTED PRIVATE
 * KEY}, with a password), PKCS#1 RSA ({@code BEGIN RSA PRIVATE KEY}) and SEC1 EC ({@code BEGIN EC
 * PRIVATE KEY}) keys. The one loader for HTTP, NATS and etcd; every error names the file and the
 * setting it came from.
 */
public final class Pem {
  private static final Pattern BLOCK =
      Pattern.compile("-----BEGIN ([A-Z0-9 ]+)-----\\R(.*?)-----END \\1-----", Pattern.DOTALL);
  private static final String[] PKCS8_ALGORITHMS = {
    "RSA", "EC", "Ed25519", "Ed448", "RSASSA-PSS", "X25519"
  };

  private Pem() {}

  /** One PEM block: its label and, for the legacy OpenSSL form, its headers. */
  private record Block(String label, String headers, byte[] der) {}

  /**
   * Every certificate in {@code file}, leaf first as written (a chain may follow its leaf).
   *
   * @param role the option or variable that named the file, for errors
   * @throws IllegalArgumentException naming the file when it holds no readable certificate
   */
  public static List<X509Certificate> certificates(Path file, String role) {
    List<X509Certificate> certs = new ArrayList<>();
    for (Block b : blocks(file, role)) {
      if (!b.label().equals("CERTIFICATE") && !b.label().equals("TRUSTED CERTIFICATE")) {
        continue;
      }
      try {
        certs.add(
            (X509Certificate)
                CertificateFactory.getInstance("X.509")
                    .generateCertificate(new ByteArrayInputStream(b.der())));
      } catch (CertificateException e) {
        throw new IllegalArgumentException(
            role
                + ": certificate "
                + (certs.size() + 1)
                + " in "
                + file
                + " is not readable: "
                + e.getMessage());
      }
    }
    if (certs.isEmpty()) {
      throw new IllegalArgumentException(
          role + ": " + file + " holds no PEM certificate (BEGIN CERTIFICATE)");
    }
    return certs;
  }

  /**
   * The private key in {@code file}.
   *
   * @param password for an encrypted PKCS#8 key, else {@code null}
   * @throws IllegalArgumentException naming the file and what is wrong with it
   */
  public static PrivateKey privateKey(Path file, char[] password, String role) {
    for (Block b : blocks(file, role)) {
      String where = role + ": key file " + file;
      switch (b.label()) {
        case "EC PARAMETERS" -> {
          continue; // openssl ecparam writes these before the key
        }
        case "PRIVATE KEY" -> {
          return pkcs8(b.der(), where);
        }
        case "RSA PRIVATE KEY", "EC PRIVATE KEY" -> {
          if (b.headers().contains("ENCRYPTED")) {
            throw new IllegalArgumentException(
                where
                    + " is encrypted in OpenSSL's legacy form (Proc-Type: 4,ENCRYPTED), "
                    + "which is not supported; convert it with: openssl pkcs8 -topk8 -v2 aes-256-cbc -in OLD -out NEW");
          }
          try {
            byte[] der =
                b.label().startsWith("RSA")
                    ? Der.pkcs8FromPkcs1(b.der())
                    : Der.pkcs8FromSec1(b.der());
            return pkcs8(der, where);
          } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(
                where + " is not a readable " + b.label() + ": " + e.getMessage());
          }
        }
        case "ENCRYPTED PRIVATE KEY" -> {
          if (password == null) {
            throw new IllegalArgumentException(
                where + " is encrypted; give its password (see --help)");
          }
          return pkcs8(decrypt(b.der(), password, where), where);
        }
        default -> {
          // a certificate in the same file, for example: keep looking
        }
      }
    }
    throw new IllegalArgumentException(
        role
            + ": "
            + file
            + " holds no private key (BEGIN PRIVATE KEY, ENCRYPTED PRIVATE KEY, "
            + "RSA PRIVATE KEY or EC PRIVATE KEY)");
  }

  /**
   * Refuses a key that is not the certificate's: signs a random challenge with the key and checks
   * it with the certificate's public key.
   *
   * @throws IllegalArgumentException naming both files
   */
  public static void checkPair(
      PrivateKey key, X509Certificate cert, Path keyFile, Path certFile, String role) {
    String algorithm =
        switch (key.getAlgorithm()) {
          case "RSA" -> "SHA256withRSA";
          case "EC" -> "SHA256withECDSA";
          case "Ed25519", "Ed448", "EdDSA" -> key.getAlgorithm();
          default -> null; // RSASSA-PSS and others: the handshake is the check
        };
    boolean matches;
    try {
      if (algorithm == null) {
        return;
      }
      byte[] challenge = new byte[32];
      new SecureRandom().nextBytes(challenge);
      Signature signer = Signature.getInstance(algorithm);
      signer.initSign(key);
      signer.update(challenge);
      byte[] signature = signer.sign();
      Signature verifier = Signature.getInstance(algorithm);
      verifier.initVerify(cert.getPublicKey());
      verifier.update(challenge);
      matches = verifier.verify(signature);
    } catch (GeneralSecurityException e) {
      matches = false; // for example an EC key beside an RSA certificate
    }
    if (!matches) {
      throw new IllegalArgumentException(
          role
              + ": the key in "
              + keyFile
              + " does not belong to the certificate in "
              + certFile
              + " ("
              + cert.getSubjectX500Principal().getName()
              + ")");
    }
  }

  private static PrivateKey pkcs8(byte[] der, String where) {
    PKCS8EncodedKeySpec spec = new PKCS8EncodedKeySpec(der);
    for (String algorithm : PKCS8_ALGORITHMS) {
      try {
        return KeyFactory.getInstance(algorithm).generatePrivate(spec);
      } catch (GeneralSecurityException | ClassCastException tryNext) {
        // not this algorithm
      }
    }
    throw new IllegalArgumentException(where + " holds no RSA, EC or EdDSA key that Java can read");
  }

  private static byte[] decrypt(byte[] der, char[] password, String where) {
    EncryptedPrivateKeyInfo info;
    try {
      info = new EncryptedPrivateKeyInfo(der);
    } catch (IOException e) {
      throw new IllegalArgumentException(
          where + " is not a readable encrypted PKCS#8 key: " + e.getMessage());
    }
    try {
      String algorithm = info.getAlgName();
      Cipher cipher = Cipher.getInstance(algorithm);
      cipher.init(
          Cipher.DECRYPT_MODE,
          SecretKeyFactory.getInstance(algorithm).generateSecret(new PBEKeySpec(password)),
          info.getAlgParameters());
      return info.getKeySpec(cipher).getEncoded();
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalArgumentException(
          where
              + " is encrypted with "
              + info.getAlgName()
              + ", which Java cannot decrypt; "
              + "re-encrypt it with: openssl pkcs8 -topk8 -v2 aes-256-cbc");
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException(where + " could not be decrypted: wrong password?");
    }
  }

  private static List<Block> blocks(Path file, String role) {
    String text;
    try {
      text = Files.readString(file);
    } catch (IOException e) {
      throw new IllegalArgumentException(
          role + ": " + file + " is not readable (" + e.getClass().getSimpleName() + ")");
    }
    List<Block> blocks = new ArrayList<>();
    Matcher m = BLOCK.matcher(text);
    while (m.find()) {
      String body = m.group(2);
      int blank = body.indexOf("\n\n");
      String headers = body.contains(":") && blank >= 0 ? body.substring(0, blank) : "";
      String base64 = headers.isEmpty() ? body : body.substring(blank + 2);
      try {
        blocks.add(new Block(m.group(1), headers, Base64.getMimeDecoder().decode(base64)));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(
            role + ": the " + m.group(1) + " block in " + file + " is not valid base64");
      }
    }
    if (blocks.isEmpty()) {
      throw new IllegalArgumentException(
          role + ": " + file + " is not a PEM file (no -----BEGIN ...----- block)");
    }
    return blocks;
  }
}
