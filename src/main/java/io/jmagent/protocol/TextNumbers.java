package io.jmagent.protocol;

import io.netty.buffer.ByteBuf;

/**
 * Numeric tokens parsed the way memcached's {@code safe_strto*} helpers parse them (util.c): the
 * C library's strtoull/strtol read leading white space, an optional sign and decimal digits; the
 * helper then accepts the number when the digits are followed by the token's end or by any white
 * space ("100\t" and "100\tjunk" are 100; tabs are not token separators). The result is truncated
 * to the width memcached stores (flags and exptime are cast to 32 bits, so "4294967296" stores
 * flags 0). Each method returns null where memcached's helper returns false.
 */
final class TextNumbers {

    private TextNumbers() {}

    /** Parses an unsigned 64-bit decimal like safe_strtoull, or returns null. */
    static Long parseUnsigned64(ByteBuf buf, int start, int end) {
        Scan s = Scan.of(buf, start, end, false);
        if (s == null) {
            return null;
        }
        // strtoull negates; the helpers refuse a '-' anywhere in the token when the result looks negative
        long value = s.negative ? -s.magnitude : s.magnitude;
        if (value < 0 && buf.indexOf(start, end, (byte) '-') >= 0) {
            return null;
        }
        return value;
    }

    /**
     * Parses a signed decimal like strtol on a 64-bit host, then truncated to 32 bits as
     * memcached's int32 fields do; null when the token is not a number or overflows a long.
     */
    static Integer parseInt32Truncating(ByteBuf buf, int start, int end) {
        Scan s = Scan.of(buf, start, end, true);
        if (s == null) {
            return null;
        }
        return (int) (s.negative ? -s.magnitude : s.magnitude);
    }

    /** Parses like safe_strtoul (unsigned long, refusing visible negatives), truncated to 32 bits. */
    static Integer parseUnsigned32Truncating(ByteBuf buf, int start, int end) {
        Long v = parseUnsigned64(buf, start, end);
        return v == null ? null : (int) (long) v;
    }

    /** C's isspace in the "C" locale. */
    private static boolean isSpace(byte b) {
        return b == ' ' || (b >= '\t' && b <= '\r');
    }

    /** What strtoull (or, {@code signed}, strtol) read from a token: a sign and a magnitude in range. */
    private record Scan(boolean negative, long magnitude) {

        /** Null when strto* reads no digits, overflows (ERANGE), or stops at a byte that is not white space. */
        static Scan of(ByteBuf buf, int start, int end, boolean signed) {
            int i = start;
            while (i < end && isSpace(buf.getByte(i))) {
                i++;
            }
            boolean negative = false;
            if (i < end && (buf.getByte(i) == '+' || buf.getByte(i) == '-')) {
                negative = buf.getByte(i) == '-';
                i++;
            }
            int digits = i;
            long magnitude = 0;
            boolean overflow = false;
            for (; i < end; i++) {
                int d = buf.getByte(i) - '0';
                if (d < 0 || d > 9) {
                    break;
                }
                if (!overflow) {
                    // strtoull: below 2^64; strtol: up to 2^63 - 1, or 2^63 for a negative number
                    long next = magnitude * 10 + d;
                    if (Long.compareUnsigned(magnitude, Long.divideUnsigned(-1L, 10)) > 0
                            || Long.compareUnsigned(next, magnitude * 10) < 0
                            || (signed && Long.compareUnsigned(next, negative ? Long.MIN_VALUE : Long.MAX_VALUE) > 0)) {
                        overflow = true;
                    }
                    magnitude = next;
                }
            }
            if (i == digits || overflow) {
                return null;
            }
            if (i < end && !isSpace(buf.getByte(i))) {
                return null;
            }
            return new Scan(negative, magnitude);
        }
    }
}
