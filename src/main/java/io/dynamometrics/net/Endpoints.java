package io.dynamometrics.net;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Comma-separated server URLs as operators write them (NATS, etcd), checked once with one kind of
 * error.
 */
public final class Endpoints {
  private Endpoints() {}

  private static final java.util.regex.Pattern USERINFO =
      java.util.regex.Pattern.compile("(?<=://)[^/@,\\s]*@");

  /**
   * {@code list} as it may be logged: the user and password or token a URL carries become {@code
   * ***}.
   */
  public static String redacted(String list) {
    return list == null ? null : USERINFO.matcher(list).replaceAll("***@");
  }

  /**
   * The URLs in {@code list}; an entry without a scheme gets {@code defaultScheme}.
   *
   * @param setting the option or variable the list came from, for errors
   * @param schemes the schemes allowed, the first being the plain one
   * @throws IllegalArgumentException naming the setting and the bad entry
   */
  public static List<URI> parse(
      String list, String setting, String defaultScheme, Set<String> schemes, int examplePort) {
    List<URI> out = new ArrayList<>();
    String example =
        String.join(
            " or ", schemes.stream().sorted().map(s -> s + "://host:" + examplePort).toList());
    for (String entry : list.split(",")) {
      String s = entry.strip();
      if (s.isEmpty()) {
        continue;
      }
      URI uri;
      try {
        uri = new URI(s.contains("://") ? s : defaultScheme + "://" + s);
      } catch (URISyntaxException e) {
        throw new IllegalArgumentException(
            setting + " entry '" + s + "' is not a URL like " + example);
      }
      if (uri.getHost() == null || !schemes.contains(uri.getScheme())) {
        throw new IllegalArgumentException(
            setting + " entry '" + s + "' must look like " + example);
      }
      out.add(uri);
    }
    if (out.isEmpty()) {
      throw new IllegalArgumentException(setting + " is empty");
    }
    return out;
  }
}
