package io.jmagent.frontend;

import io.jmagent.metrics.ProxyStats;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.timeout.IdleState;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * {@code --idle-timeout}: closes a client that has sent nothing for that long, as memcached's
 * {@code -o idle_timeout} does, and counts it in idle_kicks. A client still waiting for answers,
 * or in the middle of sending a request, is not idle: it is looked at again a period later.
 */
final class IdleClientTimeout extends IdleStateHandler {

    private final ProxyStats stats;

    IdleClientTimeout(Duration timeout, ProxyStats stats) {
        super(timeout.toMillis(), 0, 0, TimeUnit.MILLISECONDS);
        this.stats = stats;
    }

    @Override
    protected void channelIdle(ChannelHandlerContext ctx, IdleStateEvent evt) {
        if (evt.state() != IdleState.READER_IDLE) {
            return;
        }
        ClientSession session = ctx.pipeline().get(ClientSession.class);
        if (session == null || session.idle()) {
            stats.idleKick();
            ctx.close();
        }
    }
}
