package io.jmagent.frontend;

import io.jmagent.metrics.ProxyStats;
import io.jmagent.protocol.TextReplies;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.AttributeKey;
import io.netty.util.concurrent.EventExecutor;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The head of every client pipeline: counts client connections and refuses those beyond
 * {@code -n} with {@code SERVER_ERROR too many open connections}, then closes them, as memcached
 * does (and counts them in rejected_connections). A burst of refusals is logged at INFO once when
 * it starts, then as one count per {@code reportEvery} (10 s) while it lasts; each refusal only at
 * debug. Shared by every channel.
 */
@ChannelHandler.Sharable
final class ConnectionLimiter extends ChannelInboundHandlerAdapter {

    private static final Logger log = LoggerFactory.getLogger(ConnectionLimiter.class);
    private static final byte[] TOO_MANY = TextReplies.bytes("SERVER_ERROR too many open connections\r\n");
    private static final AttributeKey<Boolean> COUNTED = AttributeKey.valueOf("jmagent.counted");

    static final Duration REPORT_EVERY = Duration.ofSeconds(10);

    private final ProxyStats stats;
    private final int maxConnections;
    private final EventExecutor reporter;
    private final Duration reportEvery;
    /** Refusals not logged yet at INFO. */
    private final AtomicLong unreported = new AtomicLong();
    /** True while a burst is being reported: its first refusal was logged and a count is due. */
    private final AtomicBoolean reporting = new AtomicBoolean();

    /** {@code reporter} runs the counts of a burst, every {@code reportEvery}. */
    ConnectionLimiter(ProxyStats stats, int maxConnections, EventExecutor reporter, Duration reportEvery) {
        this.stats = stats;
        this.maxConnections = maxConnections;
        this.reporter = reporter;
        this.reportEvery = reportEvery;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        if (!stats.tryOpenConnection(maxConnections)) {
            log.debug("refusing {}: {} connections open", ctx.channel().remoteAddress(), maxConnections);
            refused();
            ctx.channel().config().setAutoRead(false);
            ctx.writeAndFlush(Unpooled.wrappedBuffer(TOO_MANY)).addListener(ChannelFutureListener.CLOSE);
            return;
        }
        ctx.channel().attr(COUNTED).set(Boolean.TRUE);
        ctx.fireChannelActive();
    }

    private void refused() {
        unreported.incrementAndGet();
        if (reporting.compareAndSet(false, true)) {
            unreported.decrementAndGet();
            log.info("refusing client connections: {} are open, the most allowed (-n)", maxConnections);
            scheduleReport();
        }
    }

    /** True while a burst of refusals is being reported. */
    boolean reportingBurst() {
        return reporting.get();
    }

    private void scheduleReport() {
        reporter.schedule(this::report, reportEvery.toMillis(), TimeUnit.MILLISECONDS);
    }

    private void report() {
        long n = unreported.getAndSet(0);
        if (n > 0) {
            log.info(
                    "refused {} more client connections in the last {} s (-n {})",
                    n,
                    reportEvery.toSeconds(),
                    maxConnections);
            scheduleReport();
            return;
        }
        reporting.set(false);
        // a refusal between the count and the reset found the burst still reported: report it now
        if (unreported.get() > 0 && reporting.compareAndSet(false, true)) {
            scheduleReport();
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (ctx.channel().attr(COUNTED).getAndSet(null) != null) {
            stats.connectionClosed();
        }
        ctx.fireChannelInactive();
    }
}
