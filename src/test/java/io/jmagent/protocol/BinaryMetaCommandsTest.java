package io.jmagent.protocol;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

/**
 * The meta commands a binary request becomes on its way to a memcached 1.6, and how their
 * replies read as the text replies of the commands they stand for. Every buffer is released.
 */
class BinaryMetaCommandsTest {

    private static final ByteBufAllocator ALLOC = ByteBufAllocator.DEFAULT;

    @Test
    void aSetWithACasIsAnMsInSetModeComparingItAndMirroredAsAPlainSet() {
        MetaRequest ms = BinaryMetaCommands.store(
                ALLOC, request(BinaryOpcode.SET, 42, 0xfffffffe, -1, "v1"), StoreRequest.Kind.CAS);
        try {
            assertThat(ms.line().toString(ISO_8859_1)).isEqualTo("ms k\u00e9y 2 MS F4294967294 T2147483647 c C42\r\n");
            assertThat(ms.mirrorLine().toString(ISO_8859_1)).isEqualTo("ms k\u00e9y 2 F4294967294 T2147483647\r\n");
            assertThat(ms.plainSet()).isFalse();
            assertThat(ms.mirroredAsSet()).isTrue();
            assertThat(ms.keyToken()).isEqualTo("k\u00e9y");
        } finally {
            ms.release();
        }
    }

    @Test
    void aPlainSetIsMirroredAsItselfAndAnAppendKeepsTheItemsFlagsAndExpiration() {
        MetaRequest set =
                BinaryMetaCommands.store(ALLOC, request(BinaryOpcode.SETQ, 0, 7, 100, "v"), StoreRequest.Kind.SET);
        MetaRequest append =
                BinaryMetaCommands.store(ALLOC, request(BinaryOpcode.APPEND, 9, 0, 0, "!"), StoreRequest.Kind.APPEND);
        try {
            assertThat(set.line().toString(ISO_8859_1)).isEqualTo("ms k\u00e9y 1 MS F7 T100 c\r\n");
            assertThat(set.mirrorLine()).isNull();
            assertThat(set.mirroredAsSet()).isTrue();
            assertThat(append.line().toString(ISO_8859_1)).isEqualTo("ms k\u00e9y 1 MA c C9\r\n");
            assertThat(append.mirroredAsSet()).isFalse();
        } finally {
            set.release();
            append.release();
        }
    }

    @Test
    void deleteAndArithmeticCompareTheCasAndArithmeticReturnsValueAndCas() {
        MetaRequest md = BinaryMetaCommands.delete(ALLOC, request(BinaryOpcode.DELETEQ, -1, 0, 0, null));
        MetaRequest ma = BinaryMetaCommands.arithmetic(ALLOC, request(BinaryOpcode.DECREMENT, 5, 0, 0, null));
        try {
            assertThat(md.line().toString(ISO_8859_1)).isEqualTo("md k\u00e9y C18446744073709551615\r\n");
            assertThat(ma.line().toString(ISO_8859_1)).isEqualTo("ma k\u00e9y MD D18446744073709551615 v c C5\r\n");
        } finally {
            md.release();
            ma.release();
        }
    }

    @Test
    void repliesReadAsTheTextRepliesOfTheCommandsTheyStandFor() {
        assertThat(read(MetaRequest.Kind.SET, "HD c12\r\n")).isEqualTo("STORED\r\n cas=12");
        assertThat(read(MetaRequest.Kind.DELETE, "HD\r\n")).isEqualTo("DELETED\r\n cas=0");
        assertThat(read(MetaRequest.Kind.SET, "NS c0\r\n")).isEqualTo("NOT_STORED\r\n cas=0");
        assertThat(read(MetaRequest.Kind.DELETE, "EX\r\n")).isEqualTo("EXISTS\r\n cas=0");
        assertThat(read(MetaRequest.Kind.ARITHMETIC, "NF\r\n")).isEqualTo("NOT_FOUND\r\n cas=0");
        assertThat(read(MetaRequest.Kind.ARITHMETIC, "VA 20 c99\r\n18446744073709551615\r\n"))
                .isEqualTo("18446744073709551615\r\n cas=99");
        assertThat(read(
                        MetaRequest.Kind.ARITHMETIC,
                        "CLIENT_ERROR cannot increment or decrement non-numeric value\r\n"))
                .isEqualTo("CLIENT_ERROR cannot increment or decrement non-numeric value\r\n cas=0");
    }

    private static String read(MetaRequest.Kind kind, String reply) {
        BinaryMetaCommands.Reply r = BinaryMetaCommands.read(kind, Unpooled.copiedBuffer(reply, ISO_8859_1));
        try {
            return r.text().toString(ISO_8859_1) + " cas=" + Long.toUnsignedString(r.cas());
        } finally {
            r.text().release();
        }
    }

    /** A binary request on the key "kéy" (a byte over 0x7f goes as it is). */
    private static BinaryRequest request(BinaryOpcode op, long cas, int flags, int exptime, String value) {
        ByteBuf v = value == null ? null : Unpooled.copiedBuffer(value, ISO_8859_1);
        return new BinaryRequest(
                op, op.code(), 1, cas, "k\u00e9y".getBytes(ISO_8859_1), flags, exptime, -1L, 0, v, 0, false);
    }
}
