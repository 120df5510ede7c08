package io.jmagent.protocol;

/** incr / decr &lt;key&gt; &lt;delta&gt; [noreply]; {@code delta} is an unsigned 64-bit value. */
public record ArithmeticRequest(boolean increment, byte[] key, long delta, boolean noreply) implements Request {}
