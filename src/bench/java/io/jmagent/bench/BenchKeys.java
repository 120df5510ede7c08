package io.jmagent.bench;

import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;

/** Keys shaped like memcaslap's (printable ASCII, a few dozen bytes), the same on every run. */
public final class BenchKeys {

    private static final String ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-";

    private BenchKeys() {
    }

    /** {@code count} keys of {@code length} bytes each, from a fixed seed. */
    public static byte[][] keys(int count, int length) {
        SplittableRandom random = new SplittableRandom(42);
        byte[][] keys = new byte[count][];
        for (int i = 0; i < count; i++) {
            StringBuilder sb = new StringBuilder(length);
            for (int j = 0; j < length; j++) {
                sb.append(ALPHABET.charAt(random.nextInt(ALPHABET.length())));
            }
            keys[i] = sb.toString().getBytes(StandardCharsets.US_ASCII);
        }
        return keys;
    }
}
