package io.jmagent.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The numeric tokens of the text protocol, parsed as memcached 1.6's safe_strtoull / safe_strtoul /
 * safe_strtol do. Every expectation here was checked against memcached 1.6.18 through a command
 * that stores or echoes the parsed number (flags, value length, exptime, incr delta).
 */
class TextNumbersTest {

    /** The token sits inside a larger buffer, so a parser reading past its bounds is caught. */
    private static <T> T parse(String token, Function<ByteBuf, T> parser) {
        ByteBuf buf = Unpooled.copiedBuffer("9 " + token + " 9", StandardCharsets.US_ASCII);
        try {
            return parser.apply(buf);
        } finally {
            buf.release();
        }
    }

    private static Long unsigned64(String token) {
        return parse(token, b -> TextNumbers.parseUnsigned64(b, 2, 2 + token.length()));
    }

    private static Integer unsigned32(String token) {
        return parse(token, b -> TextNumbers.parseUnsigned32Truncating(b, 2, 2 + token.length()));
    }

    private static Integer int32(String token) {
        return parse(token, b -> TextNumbers.parseInt32Truncating(b, 2, 2 + token.length()));
    }

    @Test
    void unsigned64ParsesTheWholeRangeOfAnIncrDelta() {
        assertThat(unsigned64("0")).isEqualTo(0L);
        assertThat(unsigned64("42")).isEqualTo(42L);
        assertThat(unsigned64("007")).isEqualTo(7L);
        assertThat(unsigned64("9223372036854775808")).isEqualTo(Long.MIN_VALUE);
        assertThat(unsigned64("18446744073709551615")).isEqualTo(-1L);
    }

    @Test
    void unsigned64RefusesAValuePast64Bits() {
        assertThat(unsigned64("18446744073709551616")).isNull();
        assertThat(unsigned64("18446744073709551620")).isNull();
        assertThat(unsigned64("99999999999999999999")).isNull();
    }

    @Test
    void unsigned64AcceptsAPlusSignAndMinusZero() {
        assertThat(unsigned64("+5")).isEqualTo(5L);
        assertThat(unsigned64("-0")).isEqualTo(0L);
    }

    @Test
    void unsigned64RefusesANegativeNumberThatLooksNegative() {
        assertThat(unsigned64("-1")).isNull();
        assertThat(unsigned64("-9223372036854775808")).isNull();
    }

    @Test
    void unsigned64AcceptsANegativeNumberThatWrapsToAPositiveOne() {
        // strtoull negates modulo 2^64; safe_strtoull only refuses results negative as signed
        assertThat(unsigned64("-18446744073709551615")).isEqualTo(1L);
        assertThat(unsigned64("-9223372036854775809")).isEqualTo(Long.MAX_VALUE);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "+", "-", "abc", "12a", "0x10", "1.5", "--1", "+-1", "1-"})
    void unsigned64RefusesAnythingButDigits(String token) {
        assertThat(unsigned64(token)).isNull();
    }

    @Test
    void unsigned32TruncatesFlagsTo32Bits() {
        assertThat(unsigned32("4294967295")).isEqualTo(0xFFFFFFFF);
        assertThat(unsigned32("4294967296")).isEqualTo(0);
        assertThat(unsigned32("4294967297")).isEqualTo(1);
        assertThat(unsigned32("18446744073709551615")).isEqualTo(0xFFFFFFFF);
    }

    @Test
    void unsigned32FollowsTheSignRulesOfUnsigned64() {
        assertThat(unsigned32("+5")).isEqualTo(5);
        assertThat(unsigned32("-0")).isEqualTo(0);
        assertThat(unsigned32("-1")).isNull();
        assertThat(unsigned32("-18446744073709551615")).isEqualTo(1);
        assertThat(unsigned32("-4294967295")).isNull();
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "-", "abc", "18446744073709551616", "1e3"})
    void unsigned32RefusesWhatUnsigned64Refuses(String token) {
        assertThat(unsigned32(token)).isNull();
    }

    @Test
    void int32ParsesSignedNumbers() {
        assertThat(int32("0")).isEqualTo(0);
        assertThat(int32("-1")).isEqualTo(-1);
        assertThat(int32("+5")).isEqualTo(5);
        assertThat(int32("-0")).isEqualTo(0);
        assertThat(int32("2147483647")).isEqualTo(Integer.MAX_VALUE);
        assertThat(int32("-2147483648")).isEqualTo(Integer.MIN_VALUE);
    }

    @Test
    void int32TruncatesALongTo32BitsAsMemcachedsInt32FieldsDo() {
        // memcached stores "set k 0 0 4294967297" as a 1-byte value, and an exptime of 2147483648 as negative
        assertThat(int32("2147483648")).isEqualTo(Integer.MIN_VALUE);
        assertThat(int32("4294967296")).isEqualTo(0);
        assertThat(int32("4294967297")).isEqualTo(1);
        assertThat(int32("9223372036854775807")).isEqualTo(-1);
        assertThat(int32("-9223372036854775808")).isEqualTo(0);
    }

    @Test
    void int32RefusesWhatOverflowsALong() {
        assertThat(int32("9223372036854775808")).isNull();
        assertThat(int32("-9223372036854775809")).isNull();
        assertThat(int32("99999999999999999999")).isNull();
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "+", "-", "abc", "12a", "0x10", "1.5", "--1", "-+1"})
    void int32RefusesAnythingButDigits(String token) {
        assertThat(int32(token)).isNull();
    }
}
