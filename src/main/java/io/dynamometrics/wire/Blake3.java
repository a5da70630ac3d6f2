package io.dynamometrics.wire;

/**
 * BLAKE3 in its default hash mode, 32 bytes of output. Dynamo v0.1.1-v0.2.0 (G1) suffix service
 * names with the last 8 hex digits of this hash, so the aggregator must compute it to find G1
 * workers without configuration. Inputs are short names, so clarity wins over speed here.
 */
public final class Blake3 {
  private static final int[] IV = {
    0x6A09E667, 0xBB67AE85, 0x3C6EF372, 0xA54FF53A, 0x510E527F, 0x9B05688C, 0x1F83D9AB, 0x5BE0CD19
  };
  private static final int[] PERMUTATION = {2, 6, 3, 10, 7, 0, 4, 13, 1, 11, 12, 5, 9, 14, 15, 8};
  private static final int CHUNK_START = 1, CHUNK_END = 2, PARENT = 4, ROOT = 8;
  private static final int BLOCK_LEN = 64, CHUNK_LEN = 1024;

  private Blake3() {}

  /** The 32-byte BLAKE3 hash of {@code input}. */
  public static byte[] hash(byte[] input) {
    int chunks = Math.max(1, (input.length + CHUNK_LEN - 1) / CHUNK_LEN);
    int[][] stack = new int[64][];
    int depth = 0;
    for (int c = 0; c < chunks - 1; c++) {
      int[] cv = chunkOutput(input, c).chainingValue();
      // Merge completed subtrees: one merge per trailing zero bit of the chunk count so far.
      for (long total = c + 1L; (total & 1) == 0; total >>= 1) {
        cv = parentOutput(stack[--depth], cv).chainingValue();
      }
      stack[depth++] = cv;
    }
    Output out = chunkOutput(input, chunks - 1);
    while (depth > 0) {
      out = parentOutput(stack[--depth], out.chainingValue());
    }
    return out.rootBytes();
  }

  /** Lowercase hex of {@link #hash}. */
  public static String hex(byte[] input) {
    StringBuilder sb = new StringBuilder(64);
    for (byte b : hash(input)) {
      sb.append(Character.forDigit((b >> 4) & 0xF, 16)).append(Character.forDigit(b & 0xF, 16));
    }
    return sb.toString();
  }

  private record Output(int[] cv, int[] block, long counter, int blockLen, int flags) {
    int[] chainingValue() {
      int[] s = compress(cv, block, counter, blockLen, flags);
      int[] out = new int[8];
      System.arraycopy(s, 0, out, 0, 8);
      return out;
    }

    byte[] rootBytes() {
      int[] s = compress(cv, block, 0, blockLen, flags | ROOT);
      byte[] out = new byte[32];
      for (int i = 0; i < 8; i++) {
        for (int b = 0; b < 4; b++) {
          out[i * 4 + b] = (byte) (s[i] >>> (8 * b));
        }
      }
      return out;
    }
  }

  private static Output chunkOutput(byte[] input, int chunk) {
    int start = chunk * CHUNK_LEN;
    int len = Math.min(CHUNK_LEN, input.length - start);
    int blocks = Math.max(1, (len + BLOCK_LEN - 1) / BLOCK_LEN);
    int[] cv = IV.clone();
    for (int b = 0; b < blocks; b++) {
      int blockLen = Math.min(BLOCK_LEN, len - b * BLOCK_LEN);
      int[] words = words(input, start + b * BLOCK_LEN, blockLen);
      int flags = (b == 0 ? CHUNK_START : 0) | (b == blocks - 1 ? CHUNK_END : 0);
      if (b == blocks - 1) {
        return new Output(cv, words, chunk, blockLen, flags);
      }
      cv = new Output(cv, words, chunk, BLOCK_LEN, flags).chainingValue();
    }
    throw new AssertionError("unreachable");
  }

  private static Output parentOutput(int[] left, int[] right) {
    int[] block = new int[16];
    System.arraycopy(left, 0, block, 0, 8);
    System.arraycopy(right, 0, block, 8, 8);
    return new Output(IV, block, 0, BLOCK_LEN, PARENT);
  }

  private static int[] words(byte[] in, int off, int len) {
    int[] w = new int[16];
    for (int i = 0; i < len; i++) {
      w[i >> 2] |= (in[off + i] & 0xFF) << (8 * (i & 3));
    }
    return w;
  }

  private static int[] compress(int[] cv, int[] block, long counter, int blockLen, int flags) {
    int[] s = {
      cv[0],
      cv[1],
      cv[2],
      cv[3],
      cv[4],
      cv[5],
      cv[6],
      cv[7],
      IV[0],
      IV[1],
      IV[2],
      IV[3],
      (int) counter,
      (int) (counter >>> 32),
      blockLen,
      flags
    };
    int[] m = block.clone();
    for (int round = 0; round < 7; round++) {
      g(s, 0, 4, 8, 12, m[0], m[1]);
      g(s, 1, 5, 9, 13, m[2], m[3]);
      g(s, 2, 6, 10, 14, m[4], m[5]);
      g(s, 3, 7, 11, 15, m[6], m[7]);
      g(s, 0, 5, 10, 15, m[8], m[9]);
      g(s, 1, 6, 11, 12, m[10], m[11]);
      g(s, 2, 7, 8, 13, m[12], m[13]);
      g(s, 3, 4, 9, 14, m[14], m[15]);
      int[] p = new int[16];
      for (int i = 0; i < 16; i++) {
        p[i] = m[PERMUTATION[i]];
      }
      m = p;
    }
    for (int i = 0; i < 8; i++) {
      s[i] ^= s[i + 8];
      s[i + 8] ^= cv[i];
    }
    return s;
  }

  private static void g(int[] s, int a, int b, int c, int d, int x, int y) {
    s[a] += s[b] + x;
    s[d] = Integer.rotateRight(s[d] ^ s[a], 16);
    s[c] += s[d];
    s[b] = Integer.rotateRight(s[b] ^ s[c], 12);
    s[a] += s[b] + y;
    s[d] = Integer.rotateRight(s[d] ^ s[a], 8);
    s[c] += s[d];
    s[b] = Integer.rotateRight(s[b] ^ s[c], 7);
  }
}
