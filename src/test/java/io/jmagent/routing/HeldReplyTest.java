package io.jmagent.routing;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class HeldReplyTest {

    private final List<String> delivered = new ArrayList<>();
    private final ReplySink client = b -> {
        delivered.add(b.toString(StandardCharsets.US_ASCII));
        b.release();
    };

    @Test
    void aReplyKnownBeforeTheWriteSettledWaitsForIt() {
        ReplySink sink = HeldReply.held(client);
        ByteBuf stored = line("STORED");
        sink.reply(stored);
        assertThat(delivered).isEmpty();
        assertThat(stored.refCnt()).isEqualTo(1);
        HeldReply.settled(sink);
        assertThat(delivered).containsExactly("STORED\r\n");
        assertThat(stored.refCnt()).isZero();
    }

    @Test
    void aReplyKnownAfterTheWriteSettledGoesAtOnce() {
        ReplySink sink = HeldReply.held(client);
        HeldReply.settled(sink);
        assertThat(delivered).isEmpty();
        sink.reply(line("11"));
        assertThat(delivered).containsExactly("11\r\n");
    }

    @Test
    void aSinkThatHoldsNothingIsLeftAlone() {
        HeldReply.settled(client);
        assertThat(delivered).isEmpty();
    }

    private static ByteBuf line(String s) {
        return Unpooled.copiedBuffer(s + "\r\n", StandardCharsets.US_ASCII);
    }
}
