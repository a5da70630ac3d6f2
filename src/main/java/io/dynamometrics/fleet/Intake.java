package io.dynamometrics.fleet;

/** How a worker's load reached the service; a worker may come by more than one. */
public enum Intake {
  /** Answers to {@code $SRV.STATS} polls (Dynamo 0.1.1 to 0.6.0). */
  STATS("stats", 1),
  /** Pushed on NATS subjects (0.4.1 on). */
  NATS("nats", 2),
  /** Pushed on the ZMQ event plane, from each worker's own publisher (1.3 on, by default). */
  ZMQ("zmq", 4);

  private final String label;
  private final int bit;

  Intake(String label, int bit) {
    this.label = label;
    this.bit = bit;
  }

  public int bit() {
    return bit;
  }

  /** Every combination's label, made once: a label per worker and poll costs nothing. */
  private static final String[] LABELS = new String[8];

  static {
    for (int bits = 0; bits < LABELS.length; bits++) {
      StringBuilder b = new StringBuilder();
      for (Intake i : values()) {
        if ((bits & i.bit) != 0) {
          if (!b.isEmpty()) {
            b.append('+');
          }
          b.append(i.label);
        }
      }
      LABELS[bits] = b.toString();
    }
  }

  /** The intakes of {@code bits} by name, joined with '+', e.g. {@code stats+nats}. */
  public static String label(int bits) {
    return LABELS[bits & (LABELS.length - 1)];
  }
}
