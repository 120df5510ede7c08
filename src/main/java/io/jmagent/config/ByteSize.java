package io.jmagent.config;

import java.util.Locale;

/** A size in bytes as memcached's {@code -I} takes it: a number, or a number with {@code k} or {@code m}. */
public final class ByteSize {

    private ByteSize() {}

    /** Parses {@code 1048576}, {@code 1024k} or {@code 1m}; a size must be positive and fit an int. */
    public static int parse(String value) {
        String v = value.trim().toLowerCase(Locale.ROOT);
        long unit = 1;
        if (v.endsWith("k")) {
            unit = 1024;
            v = v.substring(0, v.length() - 1);
        } else if (v.endsWith("m")) {
            unit = 1024 * 1024;
            v = v.substring(0, v.length() - 1);
        }
        long n;
        try {
            n = Long.parseLong(v) * unit;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("not a size: '" + value + "'");
        }
        if (n <= 0 || n > Integer.MAX_VALUE - 2) {
            throw new IllegalArgumentException("size out of range: '" + value + "'");
        }
        return (int) n;
    }
}
