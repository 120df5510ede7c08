package io.jmagent.loadgen;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.CorruptedFrameException;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.List;

/**
 * One pipelined connection to the target. {@link #send} queues a request without flushing;
 * {@link #flush} writes all queued ones at once (one system call for a burst); every reply is
 * framed, matched with the oldest request in flight, and handed to the run with that request's
 * intended start. At most {@code maxInFlight} requests are in flight: the ones past that wait here,
 * still timed from their intended start, and go out as replies make room, so a target that falls
 * behind holds a bounded backlog, not one that outlives the run. State belongs to the channel's
 * event loop.
 */
final class LoadConnection extends ByteToMessageDecoder {

    private final int maxInFlight;
    private final StartQueue inFlight = new StartQueue();
    private final StartQueue waitingStarts = new StartQueue();
    private final ArrayDeque<byte[]> waiting = new ArrayDeque<>();
    private ChannelHandlerContext ctx;
    private ByteBuf pending;
    private LoadRun run;

    LoadConnection(int maxInFlight) {
        if (maxInFlight < 1) {
            throw new IllegalArgumentException("max in flight must be at least 1: " + maxInFlight);
        }
        this.maxInFlight = maxInFlight;
    }

    /** The run whose requests go through here from now on; the previous run's must all be answered. */
    void attach(LoadRun run) {
        this.run = run;
    }

    void send(byte[] request, long intendedStartNanos) {
        if (inFlight.size() >= maxInFlight) {
            waiting.add(request);
            waitingStarts.add(intendedStartNanos);
            return;
        }
        write(request, intendedStartNanos);
    }

    private void write(byte[] request, long intendedStartNanos) {
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

    /** No request in flight nor waiting. */
    boolean idle() {
        return inFlight.isEmpty() && waiting.isEmpty();
    }

    /** The intended starts of every request not answered, in flight or waiting; forgets them. */
    long[] abandon() {
        long[] sent = inFlight.drain();
        long[] notSent = waitingStarts.drain();
        waiting.clear();
        long[] all = Arrays.copyOf(sent, sent.length + notSent.length);
        System.arraycopy(notSent, 0, all, sent.length, notSent.length);
        return all;
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
            long intendedStart = inFlight.removeOldest();
            if (!waiting.isEmpty()) {
                write(waiting.poll(), waitingStarts.removeOldest());
            }
            run.answered(this, intendedStart, now, reply);
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
        if (run != null && !idle()) {
            run.failed(new IOException("the target closed a connection with requests unanswered"));
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
