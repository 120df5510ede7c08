package io.jmagent.frontend;

import io.jmagent.metrics.ProxyStats;
import io.jmagent.protocol.TextReplies;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.AttributeKey;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The head of every client pipeline: counts client connections and refuses those beyond
 * {@code -n} with {@code SERVER_ERROR too many open connections}, then closes them, as memcached
 * does (and counts them in rejected_connections). Shared by every channel.
 */
@ChannelHandler.Sharable
final class ConnectionLimiter extends ChannelInboundHandlerAdapter {

    private static final Logger log = LoggerFactory.getLogger(ConnectionLimiter.class);
    private static final byte[] TOO_MANY = TextReplies.bytes("SERVER_ERROR too many open connections\r\n");
    private static final AttributeKey<Boolean> COUNTED = AttributeKey.valueOf("jmagent.counted");

    private final ProxyStats stats;
    private final int maxConnections;

    ConnectionLimiter(ProxyStats stats, int maxConnections) {
        this.stats = stats;
        this.maxConnections = maxConnections;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        if (!stats.tryOpenConnection(maxConnections)) {
            log.debug("refusing {}: {} connections open", ctx.channel().remoteAddress(), maxConnections);
            ctx.channel().config().setAutoRead(false);
            ctx.writeAndFlush(Unpooled.wrappedBuffer(TOO_MANY)).addListener(ChannelFutureListener.CLOSE);
            return;
        }
        ctx.channel().attr(COUNTED).set(Boolean.TRUE);
        ctx.fireChannelActive();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (ctx.channel().attr(COUNTED).getAndSet(null) != null) {
            stats.connectionClosed();
        }
        ctx.fireChannelInactive();
    }
}
