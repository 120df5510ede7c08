package io.jmagent.protocol;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.CorruptedFrameException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The reply to one meta command, which the proxy always follows with {@code mn}: what came before
 * the MN, nothing or one reply, whatever the command's flags. A second reply before the MN is not
 * this command's: {@link ReplyFramingException}, never a reply handed to the next request.
 */
class MetaReplyFramingTest {

    private static final int MAX_ITEM_SIZE = 1024 * 1024;

    private final EmbeddedChannel channel =
            new EmbeddedChannel(new TextReplyDecoder(() -> ReplyShape.META_UNTIL_MN, MAX_ITEM_SIZE));
    private final List<ByteBuf> fed = new ArrayList<>();
    /** Set when a test breaks the framing: closing then meets the same bad bytes again. */
    private boolean corrupted;

    @AfterEach
    void everyBufferFedInIsReleased() {
        if (corrupted) {
            assertThatThrownBy(channel::finishAndReleaseAll).isInstanceOf(CorruptedFrameException.class);
        } else {
            channel.finishAndReleaseAll();
        }
        for (ByteBuf buf : fed) {
            assertThat(buf.refCnt())
                    .as("reference count of a buffer fed to the decoder")
                    .isZero();
        }
    }

    @Test
    void aQuietCommandsSilenceIsAnEmptyReply() {
        assertThat(feed("MN\r\nMN\r\n")).containsExactly("", "");
    }

    @Test
    void oneLineOrOneValueBeforeTheMnIsTheReply() {
        assertThat(feed("HD\r\nMN\r\nVA 2 kfoo\r\nhi\r\nMN\r\nCLIENT_ERROR bad command line format\r\nMN\r\n"))
                .containsExactly("HD\r\n", "VA 2 kfoo\r\nhi\r\n", "CLIENT_ERROR bad command line format\r\n");
    }

    @Test
    void aValueHoldingMnIsFramedByItsLength() {
        assertThat(feed("VA 4 v\r\nMN\r\n\r\nMN\r\n")).containsExactly("VA 4 v\r\nMN\r\n\r\n");
    }

    @Test
    void repliesFedByteByByteDecodeTheSame() {
        String replies = "EN\r\nMN\r\nVA 3 kbar\r\nxyz\r\nMN\r\nMN\r\n";
        List<String> decoded = new ArrayList<>();
        for (byte b : replies.getBytes(ISO_8859_1)) {
            decoded.addAll(feed(new String(new byte[] {b}, ISO_8859_1)));
        }
        assertThat(decoded).containsExactly("EN\r\n", "VA 3 kbar\r\nxyz\r\n", "");
    }

    @Test
    void aSecondReplyBeforeTheMnIsOutOfFrameAndTheRepliesBeforeItStillCountAsTheirs() {
        corrupted = true;
        ByteBuf in = track("EN\r\nMN\r\nHD\r\nVA 6 kvictim\r\nsecret\r\nMN\r\n");
        assertThatThrownBy(() -> channel.writeInbound(in))
                .isInstanceOf(ReplyFramingException.class)
                .hasMessage("more than one reply to one meta command");
        assertThat(readAll()).containsExactly("EN\r\n");
    }

    @Test
    void aSecondReplyIsJudgedOnlyOnceItsLineIsComplete() {
        assertThat(feed("HD\r\nM")).isEmpty();
        assertThat(feed("N\r\nHD\r\nH")).containsExactly("HD\r\n");
        corrupted = true;
        assertThatThrownBy(() -> feed("D\r\n")).isInstanceOf(ReplyFramingException.class);
    }

    @Test
    void aValueNotEndedByCrLfBreaksTheStream() {
        corrupted = true;
        assertThatThrownBy(() -> feed("VA 1 k\r\nxy\r\nMN\r\n"))
                .isInstanceOf(CorruptedFrameException.class)
                .hasMessage("server value not terminated by CRLF");
    }

    private ByteBuf track(String s) {
        ByteBuf buf = Unpooled.copiedBuffer(s, ISO_8859_1);
        fed.add(buf);
        return buf;
    }

    /** Writes {@code input} and returns every reply decoded so far, released. */
    private List<String> feed(String input) {
        channel.writeInbound(track(input));
        return readAll();
    }

    private List<String> readAll() {
        List<String> decoded = new ArrayList<>();
        ServerReply reply;
        while ((reply = channel.readInbound()) != null) {
            try {
                decoded.add(((ServerReply.Line) reply).line().toString(ISO_8859_1));
            } finally {
                reply.release();
            }
        }
        return decoded;
    }
}
