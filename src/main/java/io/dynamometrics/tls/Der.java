package io.dynamometrics.tls;

import java.io.ByteArrayOutputStream;
import java.util.Arrays;

/**
 * The little DER (ASN.1) this package needs: reading one element and writing a SEQUENCE, to turn
 * PKCS#1 RSA and SEC1 EC keys into the PKCS#8 form Java's key factories read.
 */
final class Der {
  static final int INTEGER = 0x02;
  static final int OCTET_STRING = 0x04;
  static final int NULL = 0x05;
  static final int OID = 0x06;
  static final int SEQUENCE = 0x30;
  static final int CONTEXT_0 = 0xA0;

  /** rsaEncryption, 1.2.840.113549.1.1.1 */
  static final byte[] RSA_ENCRYPTION = {
    0x06, 0x09, 0x2A, (byte) 0x86, 0x48, (byte) 0x86, (byte) 0xF7, 0x0D, 0x01, 0x01, 0x01
  };

  /** id-ecPublicKey, 1.2.840.10045.2.1 */
  static final byte[] EC_PUBLIC_KEY = {
    0x06, 0x07, 0x2A, (byte) 0x86, 0x48, (byte) 0xCE, 0x3D, 0x02, 0x01
  };

  private Der() {}

  /**
   * One element: its tag, the whole encoding (tag, length, value) and where its value lies in
   * {@code source}.
   */
  record Element(int tag, byte[] source, int valueStart, int end) {
    byte[] encoded(int start) {
      return Arrays.copyOfRange(source, start, end);
    }
  }

  /**
   * Reads the element starting at {@code offset}. @throws IllegalArgumentException when it is not
   * DER
   */
  static Element read(byte[] der, int offset) {
    if (offset + 2 > der.length) {
      throw new IllegalArgumentException("truncated DER");
    }
    int tag = der[offset] & 0xFF;
    int length = der[offset + 1] & 0xFF;
    int pos = offset + 2;
    if (length > 0x80) {
      int bytes = length & 0x7F;
      if (bytes > 3 || pos + bytes > der.length) {
        throw new IllegalArgumentException("bad DER length");
      }
      length = 0;
      for (int i = 0; i < bytes; i++) {
        length = (length << 8) | (der[pos++] & 0xFF);
      }
    } else if (length == 0x80) {
      throw new IllegalArgumentException("indefinite DER length");
    }
    if (pos + length > der.length) {
      throw new IllegalArgumentException("truncated DER");
    }
    return new Element(tag, der, pos, pos + length);
  }

  /** A TLV with {@code tag} around the concatenated {@code parts}. */
  static byte[] wrap(int tag, byte[]... parts) {
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    for (byte[] p : parts) {
      body.writeBytes(p);
    }
    int n = body.size();
    ByteArrayOutputStream out = new ByteArrayOutputStream(n + 6);
    out.write(tag);
    if (n < 0x80) {
      out.write(n);
    } else if (n < 0x100) {
      out.write(0x81);
      out.write(n);
    } else if (n < 0x10000) {
      out.write(0x82);
      out.write(n >> 8);
      out.write(n);
    } else {
      out.write(0x83);
      out.write(n >> 16);
      out.write(n >> 8);
      out.write(n);
    }
    out.writeBytes(body.toByteArray());
    return out.toByteArray();
  }

  /** PKCS#8 PrivateKeyInfo: version 0, the algorithm identifier, the key in its own format. */
  static byte[] pkcs8(byte[] algorithmIdentifier, byte[] key) {
    return wrap(SEQUENCE, new byte[] {INTEGER, 1, 0}, algorithmIdentifier, wrap(OCTET_STRING, key));
  }

  /** A PKCS#1 RSAPrivateKey as PKCS#8. */
  static byte[] pkcs8FromPkcs1(byte[] rsaPrivateKey) {
    return pkcs8(wrap(SEQUENCE, RSA_ENCRYPTION, new byte[] {NULL, 0}), rsaPrivateKey);
  }

  /**
   * A SEC1 ECPrivateKey as PKCS#8; the curve comes from the key's own parameters ([0] namedCurve),
   * which OpenSSL always writes.
   */
  static byte[] pkcs8FromSec1(byte[] ecPrivateKey) {
    Element seq = read(ecPrivateKey, 0);
    if (seq.tag() != SEQUENCE) {
      throw new IllegalArgumentException("not an EC private key");
    }
    int pos = seq.valueStart();
    Element version = read(ecPrivateKey, pos);
    Element key = read(ecPrivateKey, version.end());
    if (version.tag() != INTEGER || key.tag() != OCTET_STRING) {
      throw new IllegalArgumentException("not an EC private key");
    }
    pos = key.end();
    while (pos < seq.end()) {
      Element e = read(ecPrivateKey, pos);
      if (e.tag() == CONTEXT_0) {
        Element curve = read(ecPrivateKey, e.valueStart());
        if (curve.tag() != OID) {
          throw new IllegalArgumentException("EC key parameters are not a named curve");
        }
        return pkcs8(wrap(SEQUENCE, EC_PUBLIC_KEY, curve.encoded(e.valueStart())), ecPrivateKey);
      }
      pos = e.end();
    }
    throw new IllegalArgumentException("EC key names no curve");
  }
}
