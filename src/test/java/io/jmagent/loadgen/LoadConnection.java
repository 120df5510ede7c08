package io.jmagent.loadgen;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.CorruptedFrameException;
import java.io.IOException;
import java.util.List;

/**
 * One pipelined connection to the target. {@link #send} queues a request without flushing;
 * {@link #flush} writes all queued ones at once (one system call for a burst); every reply is
 * framed, matched with the oldest request in flight, and handed to the run with that request's
 * intended start. State belongs to the channel's event loop.
 */
final class LoadConnection extends ByteToMessageDecoder {

    private final InFlight inFlight = new InFlight();
    private ChannelHandlerContext ctx;
    private ByteBuf pending;
    private LoadRun run;

    /** The run whose requests go through here from now on; the previous run's must all be answered. */
    void attach(LoadRun run) {
        this.run = run;
    }

    void send(byte[] request, long intendedStartNanos) {
        if (pending == null) {
            pending = ctx.alloc().directBuffer(Math.max(256, request.length));
        }
        pending.writeBytes(request);
        inFlight.add(intendedStartNanos);
    }

    void flush() {
        if (pending != null) {
            ByteBuf out = pending;
            pending = null;
            ctx.writeAndFlush(out, ctx.voidPromise());
        }
    }

    InFlight inFlight() {
        return inFlight;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        long now = System.nanoTime();
        Reply reply;
        while ((reply = ReplyFramer.next(in)) != null) {
            if (inFlight.isEmpty()) {
                throw new CorruptedFrameException("a reply to no request");
            }
            run.answered(this, inFlight.removeOldest(), now, reply);
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) throws Exception {
        super.channelReadComplete(ctx);
        flush();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        super.channelInactive(ctx);
        if (run != null && !inFlight.isEmpty()) {
            run.failed(new IOException("the target closed a connection with " + inFlight.size() + " requests unanswered"));
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (run != null) {
            run.failed(cause);
        }
        ctx.close();
    }

    @Override
    protected void handlerRemoved0(ChannelHandlerContext ctx) {
        if (pending != null) {
            pending.release();
            pending = null;
        }
    }
}
