package io.jmagent.frontend;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.jmagent.metrics.ProxyStats;
import io.netty.buffer.ByteBuf;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.concurrent.DefaultEventExecutor;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** Connections past -n are refused and counted; a burst of refusals makes a few INFO lines, not one per refusal. */
class ConnectionLimiterTest {

    private final Logger logger = (Logger) LoggerFactory.getLogger(ConnectionLimiter.class);
    private final ListAppender<ILoggingEvent> logged = new ListAppender<>();

    @BeforeEach
    void captureLog() {
        logged.start();
        logger.addAppender(logged);
    }

    @AfterEach
    void releaseLog() {
        logger.detachAppender(logged);
    }

    @Test
    void aBurstOfRefusalsIsLoggedOnceThenAsOneCountPerPeriod() throws Exception {
        ProxyStats stats = new ProxyStats();
        DefaultEventExecutor reporter = new DefaultEventExecutor();
        try {
            ConnectionLimiter limiter = new ConnectionLimiter(stats, 1, reporter, Duration.ofSeconds(1));
            EmbeddedChannel accepted = new EmbeddedChannel(limiter);
            EmbeddedChannel refused = new EmbeddedChannel(limiter);
            for (int i = 0; i < 5; i++) {
                new EmbeddedChannel(limiter);
            }

            ByteBuf refusal = refused.readOutbound();
            assertThat(refusal.toString(StandardCharsets.US_ASCII))
                    .isEqualTo("SERVER_ERROR too many open connections\r\n");
            refusal.release();
            assertThat(refused.isOpen()).isFalse();
            assertThat(accepted.isOpen()).isTrue();
            assertThat(stats.rejectedConnections()).isEqualTo(6);
            assertThat(infoLines()).containsExactly("refusing client connections: 1 are open, the most allowed (-n)");

            await().atMost(Duration.ofSeconds(5)).until(() -> infoLines().size() == 2);
            assertThat(infoLines().get(1)).isEqualTo("refused 5 more client connections in the last 1 s (-n 1)");
            // a quiet period ends the burst: no third line, and the next refusal starts a new burst
            await().atMost(Duration.ofSeconds(5)).until(() -> !limiter.reportingBurst());
            new EmbeddedChannel(limiter);
            assertThat(infoLines()).hasSize(3);
            assertThat(infoLines().get(2)).startsWith("refusing client connections");
            accepted.close();
        } finally {
            reporter.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        }
    }

    private List<String> infoLines() {
        return logged.list.stream()
                .filter(e -> e.getLevel() == Level.INFO)
                .map(ILoggingEvent::getFormattedMessage)
                .toList();
    }
}
