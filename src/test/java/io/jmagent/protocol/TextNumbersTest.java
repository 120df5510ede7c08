package io.jmagent.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class TextNumbersTest {

    @Test
    void whiteSpaceAroundTheDigitsIsAcceptedAsStrtoullAndSafeStrtoullDo() {
        assertThat(unsigned64("100\t")).isEqualTo(100L);
        assertThat(unsigned64("100\tjunk")).isEqualTo(100L);
        assertThat(unsigned64("\t100")).isEqualTo(100L);
        assertThat(unsigned64("\u000b\u000c100\r")).isEqualTo(100L);
        assertThat(int32("-5\t")).isEqualTo(-5);
        assertThat(unsigned32("7\r")).isEqualTo(7);
    }

    @Test
    void tokensWithoutDigitsOrWithTrailingJunkAreRefused() {
        assertThat(unsigned64("\t")).isNull();
        assertThat(unsigned64("+")).isNull();
        assertThat(unsigned64("100x")).isNull();
        assertThat(unsigned64("0x10")).isNull();
        assertThat(int32("1.0")).isNull();
        assertThat(int32("")).isNull();
    }

    @Test
    void rangesFollowTheCLibrary() {
        assertThat(unsigned64("18446744073709551615")).isEqualTo(-1L);
        assertThat(unsigned64("18446744073709551616")).isNull();
        assertThat(unsigned64("-1")).isNull();
        assertThat(unsigned64("-0")).isEqualTo(0L);
        assertThat(unsigned64("-18446744073709551615")).isEqualTo(1L);
        assertThat(int32("9223372036854775807")).isEqualTo(-1);
        assertThat(int32("9223372036854775808")).isNull();
        assertThat(int32("-9223372036854775808")).isEqualTo(0);
        assertThat(int32("-9223372036854775809")).isNull();
        assertThat(int32("4294967296")).isEqualTo(0);
        assertThat(unsigned32("4294967296")).isEqualTo(0);
        assertThat(unsigned32("4294967295")).isEqualTo(-1);
    }

    /** A heap buffer over the token's bytes: nothing to release. */
    private static ByteBuf bytes(String token) {
        return Unpooled.wrappedBuffer(token.getBytes(StandardCharsets.ISO_8859_1));
    }

    private static Long unsigned64(String token) {
        ByteBuf b = bytes(token);
        return TextNumbers.parseUnsigned64(b, 0, b.writerIndex());
    }

    private static Integer int32(String token) {
        ByteBuf b = bytes(token);
        return TextNumbers.parseInt32Truncating(b, 0, b.writerIndex());
    }

    private static Integer unsigned32(String token) {
        ByteBuf b = bytes(token);
        return TextNumbers.parseUnsigned32Truncating(b, 0, b.writerIndex());
    }
}
