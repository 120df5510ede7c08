package io.jmagent.protocol;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.CorruptedFrameException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Framing a memcached server's replies. As on a backend connection, whether the next reply is a
 * retrieval depends on the oldest unanswered request; here a queue of expectations plays the
 * requests, and each reply taken off the decoder answers (removes) the head one.
 *
 * <p>Replies are shown as {@code "line <bytes>"} or {@code "values"} followed by one
 * {@code " [key] <block>"} per hit. Every buffer fed in must be released by the end of each test.
 */
class TextReplyDecoderTest {

    private static final int MAX_ITEM_SIZE = 1024 * 1024;

    private final Deque<ReplyShape> expectsValues = new ArrayDeque<>();
    private final List<ByteBuf> fed = new ArrayList<>();
    private EmbeddedChannel channel = newChannel();
    /** Set when a test breaks the framing: closing then meets the same bad bytes again. */
    private boolean corrupted;

    @AfterEach
    void everyBufferFedInIsReleased() {
        channel.close();
        if (!corrupted) {
            channel.checkException();
        }
        assertThat(channel.inboundMessages()).isEmpty();
        for (ByteBuf buf : fed) {
            assertThat(buf.refCnt())
                    .as("reference count of a buffer fed to the decoder")
                    .isZero();
        }
    }

    @Test
    void oneLineRepliesComeOutOneByOne() {
        expect(false, false, false);

        assertThat(feed("STORED\r\nNOT_FOUND\r\n42\r\n"))
                .containsExactly("line STORED\r\n", "line NOT_FOUND\r\n", "line 42\r\n");
        assertThat(expectsValues).isEmpty();
    }

    @Test
    void aLineWaitsForItsNewline() {
        expect(false);

        assertThat(feed("STOR")).isEmpty();
        assertThat(feed("ED\r")).isEmpty();
        assertThat(feed("\n")).containsExactly("line STORED\r\n");
    }

    @Test
    void aRetrievalWithoutHitsIsAnEmptyValuesReply() {
        expect(true);

        assertThat(feed("END\r\n")).containsExactly("values");
    }

    @Test
    void aRetrievalCarriesEachValueBlockWhole() {
        expect(true);

        assertThat(feed("VALUE a 0 1\r\nx\r\nEND\r\n")).containsExactly("values [a] VALUE a 0 1\r\nx\r\n");
    }

    @Test
    void aMultiGetCarriesItsHitsInTheServersOrderWithTheirCas() {
        expect(true);

        assertThat(feed("VALUE bb 5 2 11\r\nhi\r\nVALUE a 4294967295 0 10\r\n\r\nEND\r\n"))
                .containsExactly("values [bb] VALUE bb 5 2 11\r\nhi\r\n [a] VALUE a 4294967295 0 10\r\n\r\n");
    }

    @Test
    void aValueIsFramedByItsLengthEvenWhenItHoldsEnd() {
        expect(true);

        assertThat(feed("VALUE a 0 5\r\nEND\r\n\r\nEND\r\n")).containsExactly("values [a] VALUE a 0 5\r\nEND\r\n\r\n");
    }

    @Test
    void aValueSplitAcrossChunksIsReassembled() {
        expect(true);
        List<String> decoded = feedLargeValueInChunks();

        assertThat(decoded).containsExactly("values [k] VALUE k 3 100000\r\n<100000 bytes>\r\n");
    }

    @Test
    void repliesOfBothShapesInterleaveAsTheirRequestsDid() {
        String replies = "STORED\r\nVALUE a 0 1\r\nx\r\nVALUE b 0 2\r\nyz\r\nEND\r\nDELETED\r\nEND\r\n42\r\n";
        List<String> expected = List.of(
                "line STORED\r\n",
                "values [a] VALUE a 0 1\r\nx\r\n [b] VALUE b 0 2\r\nyz\r\n",
                "line DELETED\r\n",
                "values",
                "line 42\r\n");

        expect(false, true, false, true, false);
        assertThat(feed(replies)).isEqualTo(expected);

        byte[] bytes = replies.getBytes(ISO_8859_1);
        for (int cut = 1; cut < bytes.length; cut++) {
            channel.close();
            channel = newChannel();
            expect(false, true, false, true, false);
            List<String> decoded = new ArrayList<>(feed(Arrays.copyOfRange(bytes, 0, cut)));
            decoded.addAll(feed(Arrays.copyOfRange(bytes, cut, bytes.length)));

            assertThat(decoded).as("split after byte %d", cut).isEqualTo(expected);
        }
    }

    @Test
    void repliesFedByteByByteDecodeTheSame() {
        expect(true, false);
        List<String> decoded = new ArrayList<>();

        for (byte b : "VALUE a 0 3 99\r\nabc\r\nVALUE b 1 0 100\r\n\r\nEND\r\nSTORED\r\n".getBytes(ISO_8859_1)) {
            decoded.addAll(feed(new byte[] {b}));
        }

        assertThat(decoded)
                .containsExactly("values [a] VALUE a 0 3 99\r\nabc\r\n [b] VALUE b 1 0 100\r\n\r\n", "line STORED\r\n");
    }

    @Test
    void anErrorLineInsteadOfEndAnswersTheRetrieval() {
        expect(true, false);

        assertThat(feed("SERVER_ERROR out of memory writing get response\r\nSTORED\r\n"))
                .containsExactly("line SERVER_ERROR out of memory writing get response\r\n", "line STORED\r\n");
    }

    @Test
    void anErrorLineAfterSomeHitsDropsThem() {
        expect(true, true);

        assertThat(feed("VALUE a 0 1\r\nx\r\nSERVER_ERROR out of memory\r\nVALUE b 0 1\r\ny\r\nEND\r\n"))
                .containsExactly("line SERVER_ERROR out of memory\r\n", "values [b] VALUE b 0 1\r\ny\r\n");
    }

    @Test
    void hitsStillWaitingForEndAreReleasedWhenTheConnectionCloses() {
        expect(true);

        assertThat(feed("VALUE a 0 1\r\nx\r\nVALUE b 0 1\r\ny\r\nEN")).isEmpty();
        assertThat(fed.get(0).refCnt())
                .as("held by the cumulation and both hits")
                .isPositive();

        channel.close();

        assertThat(fed.get(0).refCnt()).isZero();
    }

    @Test
    void aValueKnowsItsKey() {
        expect(true);
        channel.writeInbound(track(Unpooled.copiedBuffer("VALUE key 0 1\r\nx\r\nEND\r\n", ISO_8859_1)));
        ServerReply.Values reply = channel.readInbound();
        try {
            ServerReply.Value hit = reply.values().get(0);

            assertThat(hit.keyEquals("key".getBytes(ISO_8859_1))).isTrue();
            assertThat(hit.keyEquals("kez".getBytes(ISO_8859_1))).isFalse();
            assertThat(hit.keyEquals("ke".getBytes(ISO_8859_1))).isFalse();
        } finally {
            reply.release();
        }
    }

    @Test
    void aValueTellsItsKeyFromEveryKeyOneByteAway() {
        for (int length : new int[] {1, 7, 8, 9, 15, 16, 17, 64, 249, 250}) {
            StringBuilder k = new StringBuilder();
            for (int i = 0; i < length; i++) {
                k.append((char) ('!' + i % 90));
            }
            String key = k.toString();
            expect(true);
            channel.writeInbound(track(Unpooled.copiedBuffer("VALUE " + key + " 0 1\r\nx\r\nEND\r\n", ISO_8859_1)));
            ServerReply.Values reply = channel.readInbound();
            try {
                ServerReply.Value hit = reply.values().get(0);
                assertThat(hit.keyEquals(key.getBytes(ISO_8859_1)))
                        .as("length %d", length)
                        .isTrue();
                for (int at = 0; at < length; at++) {
                    byte[] other = key.getBytes(ISO_8859_1);
                    other[at] ^= 0x40;
                    assertThat(hit.keyEquals(other))
                            .as("length %d, byte %d differs", length, at)
                            .isFalse();
                }
                assertThat(hit.keyEquals((key + "x").getBytes(ISO_8859_1))).isFalse();
            } finally {
                reply.release();
            }
        }
    }

    @Test
    void aLineComparesToExpectedBytes() {
        expect(false);
        channel.writeInbound(track(Unpooled.copiedBuffer("STORED\r\n", ISO_8859_1)));
        ServerReply.Line reply = channel.readInbound();
        try {
            assertThat(reply.is("STORED\r\n".getBytes(ISO_8859_1))).isTrue();
            assertThat(reply.is("STORED".getBytes(ISO_8859_1))).isFalse();
            assertThat(reply.is("NOT_STORED\r\n".getBytes(ISO_8859_1))).isFalse();
        } finally {
            reply.release();
        }
    }

    @Test
    void aValueLengthThatIsNotANumberBreaksTheStream() {
        expect(true);

        assertCorrupted("VALUE a 0 abc\r\nabc\r\nEND\r\n", "bad number from server");
    }

    @Test
    void aNegativeValueLengthBreaksTheStream() {
        expect(true);

        assertCorrupted("VALUE a 0 -1\r\n", "bad number from server");
    }

    @Test
    void aValueLineWithoutALengthBreaksTheStream() {
        expect(true);

        assertCorrupted("VALUE a 0\r\n", "malformed value line from server");
    }

    @Test
    void aValueLongerThanItsLengthBreaksTheStream() {
        expect(true);

        assertCorrupted("VALUE a 0 1\r\nxy\r\nEND\r\n", "server value not terminated by CRLF");
    }

    @Test
    void aValueLengthFarPastTheItemSizeBreaksTheStreamBeforeBuffering() {
        expect(true);

        assertCorrupted("VALUE a 0 " + (MAX_ITEM_SIZE + 1024 * 1024 + 1) + "\r\n", "bad value length from server");
    }

    @Test
    void aValueLengthThatWouldOverflowBreaksTheStream() {
        expect(true);

        assertCorrupted("VALUE a 0 99999999999999999999\r\n", "bad number from server");
    }

    @Test
    void aReplyLineThatNeverEndsBreaksTheStream() {
        expect(false);

        assertThat(feed("x".repeat(2048 + 250))).isEmpty();
        assertCorrupted("x", "server reply line too long");
    }

    @Test
    void aWholeRetrievalIsOneReplyFromItsFirstByteThroughEnd() {
        expect(ReplyShape.WHOLE_VALUES, ReplyShape.WHOLE_VALUES, ReplyShape.WHOLE_VALUES);

        assertThat(feed("VALUE a 0 1 7\r\nx\r\nEND\r\nEND\r\nVALUE b 0 5\r\nEND\r\n\r\nEND\r\n"))
                .containsExactly(
                        "line VALUE a 0 1 7\r\nx\r\nEND\r\n", "line END\r\n", "line VALUE b 0 5\r\nEND\r\n\r\nEND\r\n");
    }

    @Test
    void aWholeRetrievalSplitAnywhereAmongOtherRepliesDecodesTheSame() {
        String replies = "STORED\r\nVALUE a 0 1\r\nx\r\nEND\r\nVALUE b 0 2\r\nyz\r\nEND\r\nEND\r\n42\r\n";
        ReplyShape[] shapes = {
            ReplyShape.LINE, ReplyShape.WHOLE_VALUES, ReplyShape.VALUES, ReplyShape.WHOLE_VALUES, ReplyShape.LINE
        };
        List<String> expected = List.of(
                "line STORED\r\n",
                "line VALUE a 0 1\r\nx\r\nEND\r\n",
                "values [b] VALUE b 0 2\r\nyz\r\n",
                "line END\r\n",
                "line 42\r\n");
        byte[] bytes = replies.getBytes(ISO_8859_1);

        for (int cut = 1; cut < bytes.length; cut++) {
            channel.close();
            channel = newChannel();
            expect(shapes);
            List<String> decoded = new ArrayList<>(feed(Arrays.copyOfRange(bytes, 0, cut)));
            decoded.addAll(feed(Arrays.copyOfRange(bytes, cut, bytes.length)));

            assertThat(decoded).as("split after byte %d", cut).isEqualTo(expected);
        }
    }

    @Test
    void aWholeRetrievalOfALargeValueArrivingInChunksIsOneReply() {
        expect(ReplyShape.WHOLE_VALUES);
        List<String> decoded = feedLargeValueInChunks();

        assertThat(decoded).containsExactly("line VALUE k 3 100000\r\n" + "v".repeat(100_000) + "\r\nEND\r\n");
    }

    @Test
    void anErrorLineEndsAWholeRetrievalAndIsItsReplyAlone() {
        expect(ReplyShape.WHOLE_VALUES, ReplyShape.WHOLE_VALUES, ReplyShape.LINE);

        assertThat(feed("SERVER_ERROR out of memory\r\nVALUE a 0 1\r\nx\r\nSERVER_ERROR out of memory writing\r\n"
                        + "STORED\r\n"))
                .containsExactly(
                        "line SERVER_ERROR out of memory\r\n",
                        "line SERVER_ERROR out of memory writing\r\n",
                        "line STORED\r\n");
    }

    @Test
    void aBadValueLengthInAWholeRetrievalBreaksTheStream() {
        expect(ReplyShape.WHOLE_VALUES);

        assertCorrupted("VALUE a 0 1\r\nxy\r\nEND\r\n", "server value not terminated by CRLF");
    }

    @Test
    void quietMetaGetsAreFramedUpToMnWithFlagsTtlAndCasParsed() {
        EmbeddedChannel meta = new EmbeddedChannel(new TextReplyDecoder(() -> ReplyShape.META_VALUES, MAX_ITEM_SIZE));
        ByteBuf in = Unpooled.copiedBuffer(
                "VA 3 f5 t100 kfoo c33\r\nbar\r\nCLIENT_ERROR bad key\r\n" + "VA 0 f0 t-1 kbaz c7\r\n\r\nMN\r\n",
                ISO_8859_1);
        meta.writeInbound(in);
        ServerReply.Values values = meta.readInbound();
        try {
            assertThat(values.values()).hasSize(2);
            ServerReply.Value first = values.values().get(0);
            assertThat(first.isMeta()).isTrue();
            assertThat(new String(first.key(), ISO_8859_1)).isEqualTo("foo");
            assertThat(first.flags()).isEqualTo(5);
            assertThat(first.ttl()).isEqualTo(100);
            assertThat(first.cas()).isEqualTo(33);
            assertThat(first.data().toString(ISO_8859_1)).isEqualTo("bar");
            ServerReply.Value second = values.values().get(1);
            assertThat(second.ttl()).isEqualTo(-1);
            assertThat(second.data().readableBytes()).isZero();
        } finally {
            values.release();
        }
        assertThat((Object) meta.readInbound()).isNull();
        meta.finishAndReleaseAll();
    }

    @Test
    void aMetaHitWithoutItsKeyBreaksTheStream() {
        EmbeddedChannel meta = new EmbeddedChannel(new TextReplyDecoder(() -> ReplyShape.META_VALUES, MAX_ITEM_SIZE));
        assertThatThrownBy(() -> meta.writeInbound(Unpooled.copiedBuffer("VA 1 f0\r\nx\r\nMN\r\n", ISO_8859_1)))
                .isInstanceOf(CorruptedFrameException.class)
                .hasMessage("meta hit without its key");
        // closing decodes the same bytes once more and fails the same way; the stream is gone anyway
        assertThatThrownBy(meta::finishAndReleaseAll).isInstanceOf(CorruptedFrameException.class);
    }

    private EmbeddedChannel newChannel() {
        return new EmbeddedChannel(
                new TextReplyDecoder(
                        () -> expectsValues.isEmpty() ? ReplyShape.LINE : expectsValues.peek(), MAX_ITEM_SIZE),
                new ChannelInboundHandlerAdapter() {
                    @Override
                    public void channelRead(ChannelHandlerContext ctx, Object msg) {
                        expectsValues.poll();
                        ctx.fireChannelRead(msg);
                    }
                });
    }

    /** A get reply holding 100,000 bytes of 'v' for key k, fed 8 KB at a time. */
    private List<String> feedLargeValueInChunks() {
        byte[] value = new byte[100_000];
        Arrays.fill(value, (byte) 'v');
        byte[] reply = concat("VALUE k 3 100000\r\n".getBytes(ISO_8859_1), value, "\r\nEND\r\n".getBytes(ISO_8859_1));
        List<String> decoded = new ArrayList<>();
        for (int at = 0; at < reply.length; at += 8192) {
            decoded.addAll(feed(Arrays.copyOfRange(reply, at, Math.min(reply.length, at + 8192))));
        }
        return decoded;
    }

    /** true: a text retrieval ({@link ReplyShape#VALUES}), false: one line. */
    private void expect(Boolean... values) {
        expectsValues.clear();
        for (boolean v : values) {
            expectsValues.add(v ? ReplyShape.VALUES : ReplyShape.LINE);
        }
    }

    private void expect(ReplyShape... shapes) {
        expectsValues.clear();
        expectsValues.addAll(List.of(shapes));
    }

    private void assertCorrupted(String input, String message) {
        corrupted = true;
        assertThatThrownBy(() -> feed(input))
                .isInstanceOf(CorruptedFrameException.class)
                .hasMessage(message);
        assertThat(channel.inboundMessages()).isEmpty();
    }

    private ByteBuf track(ByteBuf buf) {
        fed.add(buf);
        return buf;
    }

    private List<String> feed(String input) {
        return feed(input.getBytes(ISO_8859_1));
    }

    /** Writes one chunk and returns every reply decoded so far, released. */
    private List<String> feed(byte[] chunk) {
        channel.writeInbound(track(Unpooled.wrappedBuffer(chunk)));
        List<String> decoded = new ArrayList<>();
        ServerReply reply;
        while ((reply = channel.readInbound()) != null) {
            try {
                decoded.add(show(reply));
            } finally {
                reply.release();
            }
        }
        return decoded;
    }

    private static String show(ServerReply reply) {
        if (reply instanceof ServerReply.Line line) {
            return "line " + line.line().toString(ISO_8859_1);
        }
        StringBuilder s = new StringBuilder("values");
        for (ServerReply.Value v : ((ServerReply.Values) reply).values()) {
            ByteBuf block = v.buffer();
            String key = new String(v.key(), ISO_8859_1);
            String text = block.readableBytes() > 200
                    ? block.toString(block.readerIndex(), block.bytesBefore((byte) '\n') + 1, ISO_8859_1) + "<"
                            + (block.readableBytes() - block.bytesBefore((byte) '\n') - 3) + " bytes>\r\n"
                    : block.toString(ISO_8859_1);
            s.append(" [").append(key).append("] ").append(text);
        }
        return s.toString();
    }

    private static byte[] concat(byte[]... parts) {
        int length = 0;
        for (byte[] p : parts) {
            length += p.length;
        }
        byte[] all = new byte[length];
        int at = 0;
        for (byte[] p : parts) {
            System.arraycopy(p, 0, all, at, p.length);
            at += p.length;
        }
        return all;
    }
}
