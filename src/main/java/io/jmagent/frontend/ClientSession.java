package io.jmagent.frontend;

import io.jmagent.config.ProxyConfig;
import io.jmagent.metrics.ProxyStats;
import io.jmagent.metrics.StatsReport;
import io.jmagent.protocol.LocalReply;
import io.jmagent.protocol.QuitRequest;
import io.jmagent.protocol.Request;
import io.jmagent.protocol.StatsRequest;
import io.jmagent.protocol.StoreRequest;
import io.jmagent.protocol.TextReplies;
import io.jmagent.protocol.TextRequestDecoder;
import io.jmagent.protocol.VersionRequest;
import io.jmagent.routing.ReplySink;
import io.jmagent.routing.Router;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client connection: hands each decoded request to the router and writes the replies back
 * strictly in request order, whatever order the servers answer in. Replies are flushed once per
 * event-loop iteration. A client with {@code maxPendingPerClient} unanswered requests, or whose
 * socket is not writable, is not read until it catches up (backpressure, never an unbounded
 * queue). Owned by the client channel's event loop.
 */
final class ClientSession extends ChannelInboundHandlerAdapter {

    private static final Logger log = LoggerFactory.getLogger(ClientSession.class);
    private static final AtomicLong IDS = new AtomicLong();
    private static final byte[] TOO_MANY_CONNECTIONS = TextReplies.bytes("SERVER_ERROR too many open connections\r\n");
    private static final byte[] VERSION = TextReplies.bytes("VERSION 1.6.0 jmagent-" + StatsReport.VERSION + "\r\n");

    private final ProxyConfig config;
    private final ProxyStats stats;
    private final Router router;
    private final io.jmagent.backend.Farm farm;
    private final long id = IDS.incrementAndGet();
    private final ArrayDeque<Slot> slots = new ArrayDeque<>();

    private ChannelHandlerContext ctx;
    private Router.RouteContext routeContext;
    private boolean counted;
    private boolean closing;
    /** The client shut down its output: answer what it sent, then close, as memcached does. */
    private boolean inputShutdown;
    private boolean flushScheduled;
    private final Runnable flushTask = this::flushNow;

    ClientSession(ProxyConfig config, ProxyStats stats, Router router, io.jmagent.backend.Farm farm) {
        this.config = config;
        this.stats = stats;
        this.router = router;
        this.farm = farm;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        Channel ch = ctx.channel();
        if (!stats.tryOpenConnection(config.maxConnections())) {
            log.debug("refusing {}: {} connections open", ch.remoteAddress(), config.maxConnections());
            ctx.pipeline().get(TextRequestDecoder.class).stop();
            ch.writeAndFlush(Unpooled.wrappedBuffer(TOO_MANY_CONNECTIONS)).addListener(ChannelFutureListener.CLOSE);
            closing = true;
            return;
        }
        counted = true;
        routeContext = new Router.RouteContext(farm.poolFor(ch.eventLoop()), id, ch.alloc());
        ctx.fireChannelActive();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (counted) {
            counted = false;
            stats.connectionClosed();
        }
        // replies still on their way find their slots abandoned and release what they carry
        for (Slot s : slots) {
            s.abandon();
        }
        slots.clear();
        ctx.fireChannelInactive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        Request request = (Request) msg;
        if (closing) {
            if (request instanceof StoreRequest s) {
                s.release();
            }
            return;
        }
        if (request instanceof LocalReply r) {
            Slot slot = newSlot();
            slot.closeAfter = r.closeAfter();
            slot.reply(Unpooled.wrappedBuffer(r.bytes()));
        } else if (request instanceof QuitRequest) {
            Slot slot = newSlot();
            slot.closeAfter = true;
            slot.reply(Unpooled.EMPTY_BUFFER);
        } else if (request instanceof VersionRequest) {
            newSlot().reply(Unpooled.wrappedBuffer(VERSION));
        } else if (request instanceof StatsRequest r) {
            newSlot().reply(Unpooled.wrappedBuffer(statsReply(r)));
        } else if (request.noreply()) {
            router.route(request, routeContext, ReplySink.DISCARD);
        } else {
            router.route(request, routeContext, newSlot());
        }
        updateReading();
    }

    private byte[] statsReply(StatsRequest r) {
        if (r.group().isEmpty()) {
            return StatsReport.general(stats, config.threads());
        }
        return TextReplies.serverError("stats " + r.group() + " not supported by jmagent");
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof ChannelInputShutdownEvent) {
            inputShutdown = true;
            closeIfAllAnswered();
        }
        ctx.fireUserEventTriggered(evt);
    }

    private void closeIfAllAnswered() {
        if (inputShutdown && !closing && slots.isEmpty()) {
            closing = true;
            ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        updateReading();
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (!(cause instanceof IOException)) {
            log.warn("closing client {}: {}", ctx.channel().remoteAddress(), cause.toString());
        }
        ctx.close();
    }

    private Slot newSlot() {
        Slot slot = new Slot();
        slots.add(slot);
        return slot;
    }

    /** Writes every reply at the head of the queue that has arrived. */
    private void drain() {
        Slot head;
        while ((head = slots.peek()) != null && head.reply != null) {
            slots.poll();
            ByteBuf reply = head.reply;
            head.reply = null;
            if (head.closeAfter) {
                closing = true;
                ctx.pipeline().get(TextRequestDecoder.class).stop();
                ctx.writeAndFlush(reply).addListener(ChannelFutureListener.CLOSE);
                for (Slot s : slots) {
                    s.abandon();
                }
                slots.clear();
                return;
            }
            ctx.write(reply, ctx.voidPromise());
            scheduleFlush();
        }
        closeIfAllAnswered();
        updateReading();
    }

    private void updateReading() {
        Channel ch = ctx.channel();
        boolean read = !closing && ch.isWritable() && slots.size() < config.maxPendingPerClient();
        if (ch.config().isAutoRead() != read) {
            ch.config().setAutoRead(read);
        }
    }

    private void scheduleFlush() {
        if (!flushScheduled) {
            flushScheduled = true;
            ctx.channel().eventLoop().execute(flushTask);
        }
    }

    private void flushNow() {
        flushScheduled = false;
        ctx.flush();
    }

    /** The place of one reply in the client's reply order. */
    private final class Slot implements ReplySink {
        private ByteBuf reply;
        private boolean closeAfter;
        private boolean abandoned;

        @Override
        public void reply(ByteBuf bytes) {
            if (abandoned) {
                bytes.release();
                return;
            }
            reply = bytes;
            drain();
        }

        void abandon() {
            abandoned = true;
            if (reply != null) {
                reply.release();
                reply = null;
            }
        }
    }
}
