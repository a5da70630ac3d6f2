package io.dynamometrics.wire;

/**
 * The header of Dynamo's event-plane envelope (0.9.0 on): who published, in which order, when and
 * on what topic. Ids are unsigned 64-bit, kept as their bits ({@link Long#toUnsignedString}).
 *
 * @param sequence from 0 per publisher; a new publisher id means the publisher restarted
 * @param publishedAtMillis Unix time in milliseconds
 */
public record Envelope(long publisherId, long sequence, long publishedAtMillis, String topic) {}
