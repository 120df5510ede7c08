package io.jmagent.loadgen;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class LoadConnectionTest {

    private static final long SECOND = 1_000_000_000L;
    private static final String GET = "get jmagent:loadgen:00000000\r\n";

    private final Workload gets = new Workload(1, 3, 1.0);
    private LoadConnection connection;
    private EmbeddedChannel channel;

    @BeforeEach
    void connect() {
        connection = new LoadConnection(2);
        channel = new EmbeddedChannel(connection);
        connection.attach(
                new OpenLoopRun("t", 1000, channel.eventLoop(), List.of(connection), gets, 0, 0, SECOND, SECOND));
    }

    @AfterEach
    void close() {
        channel.finishAndReleaseAll();
    }

    @Test
    void requestsPastTheLimitWaitInTheGeneratorAndGoOutAsRepliesMakeRoom() {
        // given a limit of two in flight, three requests
        byte[] get = gets.next(new SplittableRandom());
        connection.send(get, 1);
        connection.send(get, 2);
        connection.send(get, 3);
        connection.flush();
        assertThat(written()).isEqualTo(GET + GET);

        // when the first is answered, the third goes out
        channel.writeInbound(ascii("END\r\n"));
        assertThat(written()).isEqualTo(GET);
        assertThat(connection.idle()).isFalse();

        // and once the other two are answered nothing is left
        channel.writeInbound(ascii("END\r\nEND\r\n"));
        assertThat(written()).isEmpty();
        assertThat(connection.idle()).isTrue();
    }

    @Test
    void abandoningGivesTheIntendedStartsOfTheRequestsInFlightThenOfThoseWaiting() {
        byte[] get = gets.next(new SplittableRandom());
        connection.send(get, 10);
        connection.send(get, 20);
        connection.send(get, 30);

        assertThat(connection.abandon()).containsExactly(10, 20, 30);
        assertThat(connection.idle()).isTrue();
    }

    private String written() {
        StringBuilder s = new StringBuilder();
        ByteBuf out;
        while ((out = channel.readOutbound()) != null) {
            s.append(out.toString(StandardCharsets.US_ASCII));
            out.release();
        }
        return s.toString();
    }

    private static ByteBuf ascii(String s) {
        return Unpooled.copiedBuffer(s, StandardCharsets.US_ASCII);
    }
}
