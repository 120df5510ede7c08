package io.jmagent.frontend;

import io.jmagent.metrics.ProxyStats;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;

/** Counts the bytes read from and written to clients (memcached's bytes_read, bytes_written). Shared by every channel. */
@ChannelHandler.Sharable
final class ByteCounter extends ChannelDuplexHandler {

    private final ProxyStats stats;

    ByteCounter(ProxyStats stats) {
        this.stats = stats;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof ByteBuf b) {
            stats.bytesRead(b.readableBytes());
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (msg instanceof ByteBuf b) {
            stats.bytesWritten(b.readableBytes());
        }
        ctx.write(msg, promise);
    }
}
