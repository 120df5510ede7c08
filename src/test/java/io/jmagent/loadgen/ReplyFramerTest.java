package io.jmagent.loadgen;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.CorruptedFrameException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ReplyFramerTest {

    @Test
    void framesAHitAMissAndAStoreInOrder() {
        ByteBuf in = ascii("VALUE k 0 5\r\nhello\r\nEND\r\nEND\r\nSTORED\r\n");
        try {
            assertThat(ReplyFramer.next(in)).isEqualTo(Reply.HIT);
            assertThat(ReplyFramer.next(in)).isEqualTo(Reply.MISS);
            assertThat(ReplyFramer.next(in)).isEqualTo(Reply.STORED);
            assertThat(ReplyFramer.next(in)).isNull();
            assertThat(in.isReadable()).isFalse();
        } finally {
            in.release();
        }
    }

    @Test
    void aValueWhoseDataHoldsLineEndsIsFramedByItsLength() {
        ByteBuf in = ascii("VALUE k 0 7 99\r\nEND\r\nab\r\nEND\r\n");
        try {
            assertThat(ReplyFramer.next(in)).isEqualTo(Reply.HIT);
            assertThat(in.isReadable()).isFalse();
        } finally {
            in.release();
        }
    }

    @Test
    void aPartReplyConsumesNothingUntilTheRestArrives() {
        String whole = "VALUE k 0 5\r\nhello\r\nEND\r\n";
        for (int cut = 0; cut < whole.length(); cut++) {
            ByteBuf in = ascii(whole.substring(0, cut));
            try {
                assertThat(ReplyFramer.next(in)).as("after %d bytes", cut).isNull();
                assertThat(in.readerIndex()).isZero();
                in.writeBytes(whole.substring(cut).getBytes(StandardCharsets.US_ASCII));
                assertThat(ReplyFramer.next(in)).isEqualTo(Reply.HIT);
            } finally {
                in.release();
            }
        }
    }

    @Test
    void errorsAndOtherStorageAnswersAreToldApart() {
        ByteBuf in = ascii("SERVER_ERROR out of memory\r\nERROR\r\nCLIENT_ERROR bad\r\nNOT_STORED\r\n");
        try {
            assertThat(ReplyFramer.next(in)).isEqualTo(Reply.ERROR);
            assertThat(ReplyFramer.next(in)).isEqualTo(Reply.ERROR);
            assertThat(ReplyFramer.next(in)).isEqualTo(Reply.ERROR);
            assertThat(ReplyFramer.next(in)).isEqualTo(Reply.NOT_STORED);
        } finally {
            in.release();
        }
    }

    @Test
    void aLineWithoutEndPastTheLimitIsCorrupted() {
        ByteBuf in = ascii("X".repeat(ReplyFramer.MAX_LINE));
        try {
            assertThatThrownBy(() -> ReplyFramer.next(in)).isInstanceOf(CorruptedFrameException.class);
        } finally {
            in.release();
        }
    }

    private static ByteBuf ascii(String s) {
        return Unpooled.buffer().writeBytes(s.getBytes(StandardCharsets.US_ASCII));
    }
}
