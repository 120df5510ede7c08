package io.jmagent.protocol;

import io.netty.buffer.ByteBuf;

/**
 * Numeric tokens parsed the way memcached's {@code safe_strto*} helpers parse them (util.c):
 * base 10, an optional sign, the whole token must be digits, and the result is truncated to the
 * width memcached stores (flags and exptime are cast to 32 bits, so "4294967296" stores flags 0).
 * Each method returns null where memcached's helper returns false.
 */
final class TextNumbers {

    private TextNumbers() {
    }

    /** Parses an unsigned 64-bit decimal like safe_strtoull, or returns null. */
    static Long parseUnsigned64(ByteBuf buf, int start, int end) {
        int i = start;
        boolean negative = false;
        if (i < end && (buf.getByte(i) == '+' || buf.getByte(i) == '-')) {
            negative = buf.getByte(i) == '-';
            i++;
        }
        if (i >= end) {
            return null;
        }
        long value = 0;
        for (; i < end; i++) {
            int d = buf.getByte(i) - '0';
            if (d < 0 || d > 9) {
                return null;
            }
            // value * 10 + d must stay below 2^64
            if (Long.compareUnsigned(value, Long.divideUnsigned(-1L, 10)) > 0) {
                return null;
            }
            long next = value * 10 + d;
            if (Long.compareUnsigned(next, value * 10) < 0) {
                return null;
            }
            value = next;
        }
        if (negative) {
            // strtoull negates; safe_strtoull refuses a '-' whenever the result looks negative as signed
            long negated = -value;
            if (negated < 0) {
                return null;
            }
            return negated;
        }
        return value;
    }

    /**
     * Parses a signed decimal like strtol on a 64-bit host, then truncated to 32 bits as
     * memcached's int32 fields do; null when the token is not a number or overflows a long.
     */
    static Integer parseInt32Truncating(ByteBuf buf, int start, int end) {
        Long v = parseSigned64(buf, start, end);
        return v == null ? null : (int) (long) v;
    }

    /** Parses like safe_strtoul (unsigned long, refusing visible negatives), truncated to 32 bits. */
    static Integer parseUnsigned32Truncating(ByteBuf buf, int start, int end) {
        Long v = parseUnsigned64(buf, start, end);
        return v == null ? null : (int) (long) v;
    }

    private static Long parseSigned64(ByteBuf buf, int start, int end) {
        int i = start;
        boolean negative = false;
        if (i < end && (buf.getByte(i) == '+' || buf.getByte(i) == '-')) {
            negative = buf.getByte(i) == '-';
            i++;
        }
        if (i >= end) {
            return null;
        }
        long value = 0;
        for (; i < end; i++) {
            int d = buf.getByte(i) - '0';
            if (d < 0 || d > 9) {
                return null;
            }
            if (value > (Long.MAX_VALUE - d) / 10) {
                // strtol clamps and reports ERANGE; "-9223372036854775808" is the one exact fit
                if (negative && value == Long.MAX_VALUE / 10 && d == 8 && i == end - 1) {
                    return Long.MIN_VALUE;
                }
                return null;
            }
            value = value * 10 + d;
        }
        return negative ? -value : value;
    }
}
