package io.jmagent.backend;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.jmagent.protocol.ReplyShape;
import io.jmagent.protocol.ServerReply;
import io.netty.buffer.Unpooled;
import io.netty.channel.EventLoop;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** A farm rebuilt by a reload: what it takes over from the previous farm, and what it retires. */
class FarmTest {

    private static final ServerAddress A = new ServerAddress("127.0.0.1", 21001, 1);
    private static final ServerAddress B = new ServerAddress("127.0.0.1", 21002, 1);
    private static final ServerAddress C = new ServerAddress("127.0.0.1", 21003, 1);

    private final NettyTransport transport = NettyTransport.best();
    private final MultiThreadIoEventLoopGroup group = transport.newGroup(1);
    private final EventLoop loop = group.next();

    @AfterEach
    void stopLoop() {
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
    }

    private static BackendSettings settings(int connectionsPerLoop, int failureLimit) {
        return new BackendSettings(
                connectionsPerLoop,
                Duration.ofSeconds(1),
                Duration.ofMillis(100),
                Duration.ofSeconds(5),
                1024 * 1024,
                failureLimit,
                1000);
    }

    /** Runs {@code task} on the loop that owns the connections, and waits for its answer. */
    private <T> T onLoop(Callable<T> task) throws Exception {
        return loop.submit(task).get(5, TimeUnit.SECONDS);
    }

    @Test
    void aServerThatStaysKeepsItsHealthAndItsConnectionsAndOneThatLeavesIsRetired() throws Exception {
        Farm old = new Farm("primary", List.of(A, B), transport, settings(2, 2));
        BackendPool oldPool = onLoop(() -> old.poolFor(loop));

        Farm next = new Farm("primary", List.of(A, C), transport, settings(2, 2), old);
        BackendPool pool = onLoop(() -> next.poolFor(loop));

        assertThat(next.health(0)).isSameAs(old.health(0));
        assertThat(next.health(1)).isNotSameAs(old.health(1));
        assertThat(next.health(1).server()).isEqualTo(C);
        assertThat(pool.connection(0, 0)).isSameAs(oldPool.connection(0, 0));
        assertThat(pool.connection(0, 1)).isSameAs(oldPool.connection(0, 1));
        assertThat(pool.connection(1, 0).server()).isEqualTo(C);
        // nothing of the old farm changes before the new one takes over
        assertThat(onLoop(() -> oldPool.connection(1, 0).isRetired())).isFalse();

        next.takeOver();

        await().atMost(Duration.ofSeconds(5))
                .until(() -> onLoop(() -> oldPool.connection(1, 0).isRetired()
                        && oldPool.connection(1, 1).isRetired()));
        assertThat(onLoop(() -> pool.connection(0, 0).isRetired()
                        || pool.connection(0, 1).isRetired()))
                .isFalse();
    }

    @Test
    void fewerConnectionsPerLoopRetireTheSurplusAndKeepTheRest() throws Exception {
        Farm old = new Farm("primary", List.of(A), transport, settings(2, 2));
        BackendPool oldPool = onLoop(() -> old.poolFor(loop));

        Farm next = new Farm("primary", List.of(A), transport, settings(1, 2), old);
        BackendPool pool = onLoop(() -> next.poolFor(loop));
        next.takeOver();

        assertThat(pool.connection(0, 0)).isSameAs(oldPool.connection(0, 0));
        assertThat(pool.connection(0, 1)).isSameAs(oldPool.connection(0, 0));
        await().atMost(Duration.ofSeconds(5))
                .until(() -> onLoop(() -> oldPool.connection(0, 1).isRetired()));
        assertThat(onLoop(() -> oldPool.connection(0, 0).isRetired())).isFalse();
    }

    @Test
    void aKeptServerIsJudgedByTheNewFailureLimit() {
        Farm old = new Farm("primary", List.of(A), transport, settings(1, 5));
        Farm next =
                new Farm("primary", List.of(new ServerAddress("127.0.0.1", 21001, 3)), transport, settings(1, 1), old);

        next.takeOver();
        next.health(0).recordFailure("refused");

        assertThat(next.health(0)).isSameAs(old.health(0));
        assertThat(next.health(0).state()).isEqualTo(ServerHealth.State.DOWN);
    }

    @Test
    void serversAreMatchedByHostAsWrittenSoLocalhostIsNot127001() {
        Farm old = new Farm("primary", List.of(A), transport, settings(1, 2));
        Farm next =
                new Farm("primary", List.of(new ServerAddress("localhost", 21001, 1)), transport, settings(1, 2), old);

        assertThat(next.health(0)).isNotSameAs(old.health(0));
    }

    @Test
    void aRetiredConnectionFailsLaterRequestsAtOnceWithoutCountingAgainstTheServer() throws Exception {
        Farm old = new Farm("primary", List.of(A, B), transport, settings(1, 1));
        BackendPool oldPool = onLoop(() -> old.poolFor(loop));
        Farm next = new Farm("primary", List.of(A), transport, settings(1, 1), old);
        next.takeOver();
        BackendConnection toB = oldPool.connection(1, 0);
        await().atMost(Duration.ofSeconds(5)).until(() -> onLoop(toB::isRetired));

        String failure = onLoop(() -> {
            String[] reason = new String[1];
            toB.send(
                    Unpooled.copiedBuffer("get k\r\n", StandardCharsets.US_ASCII),
                    ReplyShape.VALUES,
                    new ReplyCallback() {
                        @Override
                        public void onReply(ServerReply reply) {
                            reply.release();
                            reason[0] = "a reply";
                        }

                        @Override
                        public void onFailure(String why) {
                            reason[0] = why;
                        }
                    });
            return reason[0];
        });

        assertThat(failure).isEqualTo("backend 127.0.0.1:21002 removed from the configuration");
        assertThat(old.health(1).state()).isEqualTo(ServerHealth.State.UP);
    }
}
