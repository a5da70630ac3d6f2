package io.dynamometrics.log;

/**
 * One structured fact of a log event (a worker id, an endpoint, an error reason). Text logs already
 * say it in the message; JSON logs give it its own key.
 *
 * @param key a snake_case key, never one of the keys every line has ({@code time}, {@code level},
 *     {@code target}, {@code message}) or an exception's ({@code exception}, {@code stack})
 * @param value a number or boolean stays one in JSON; anything else is written as its string
 */
public record Field(String key, Object value) {
  public Field {
    if (Logging.RESERVED.contains(key)) {
      throw new IllegalArgumentException("log field key '" + key + "' is reserved");
    }
  }

  public static Field of(String key, Object value) {
    return new Field(key, value);
  }
}
