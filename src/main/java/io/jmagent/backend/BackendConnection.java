package io.jmagent.backend;

import io.jmagent.backend.PendingCalls.Call;
import io.jmagent.protocol.ReplyFramingException;
import io.jmagent.protocol.ReplyShape;
import io.jmagent.protocol.ServerReply;
import io.jmagent.protocol.TextReplyDecoder;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One persistent, pipelined text-protocol connection to one memcached server, owned by one event
 * loop: every method runs on that loop and touches no shared state. Requests are written as they
 * come and flushed once per loop iteration; replies are matched to requests in FIFO order
 * ({@link PendingCalls} keeps the requests not yet answered).
 *
 * <p>Every request has a deadline: the timeout, counted from when it was sent or, if it waited
 * behind earlier requests, from the server's reply to the one before it (a server steadily
 * answering a deep pipeline is not hung). When the oldest one expires the connection is closed (its
 * stream can no longer be trusted) and everything pending fails with {@code backend timeout}.
 * A connection that cannot be (re)opened fails requests at once until its backoff has passed. A
 * connection counts as opened once it is usable: its TLS handshake and its login, where there are
 * any, succeeded; one that fails before then backs off as a refused connect does.
 *
 * <p>A reload that keeps the server keeps the connection ({@link #reconfigure}); one that removes
 * the server {@link #retire retires} it: it answers what it was sent, then closes.
 */
public final class BackendConnection implements ServerConnection {

    private static final Logger log = LoggerFactory.getLogger(BackendConnection.class);

    private enum State {
        DISCONNECTED,
        CONNECTING,
        CONNECTED
    }

    /** The last step before a new connection carries requests: the login, else the TLS handshake, else the connect. */
    private enum Gate {
        CONNECT,
        TLS_HANDSHAKE,
        LOGIN
    }

    private final ServerAddress server;
    private final ServerHealth health;
    private final InetSocketAddress resolved;
    private final EventLoop loop;
    private final NettyTransport transport;
    private BackendSettings settings;
    private long timeoutNanos;
    private final ServerStats stats;

    /** Accepted and not yet answered: written to the server, or held while connecting. */
    private final PendingCalls calls = new PendingCalls();

    private State state = State.DISCONNECTED;
    private Channel channel;
    /** What the channel must pass to be usable, and whether it has: until then its loss is a failed connect. */
    private Gate usableAfter;

    private boolean usable;
    private long nextConnectNanos;
    private long backoffNanos;
    /** The health generation when the backoff began: a server that came back since is retried at once. */
    private long backoffGeneration;

    private ScheduledFuture<?> timer;
    private boolean flushScheduled;
    private final Runnable flushTask = this::flushNow;
    /** Retired by a reload: closes once nothing is pending. */
    private boolean retiring;
    /** Reconfigured with a new reply bound: reconnects once nothing is pending. */
    private boolean recycle;
    /** Closed for good: requests fail at once with {@link #closedReason}. */
    private boolean closed;

    private String closedReason;

    public BackendConnection(
            ServerHealth health,
            InetSocketAddress resolved,
            EventLoop loop,
            NettyTransport transport,
            BackendSettings settings) {
        this.server = health.server();
        this.health = health;
        this.resolved = resolved;
        this.loop = loop;
        this.transport = transport;
        this.settings = settings;
        this.timeoutNanos = settings.timeout().toNanos();
        this.stats = health.stats();
        this.backoffNanos = settings.minBackoff().toNanos();
    }

    public ServerAddress server() {
        return server;
    }

    @Override
    public void send(ByteBuf request, ReplyShape shape, ReplyCallback callback) {
        assert loop.inEventLoop();
        if (closed) {
            request.release();
            callback.onFailure(closedReason);
            return;
        }
        long now = System.nanoTime();
        Call call = new Call(request, shape, callback, now, now + timeoutNanos);
        switch (state) {
            case CONNECTED -> {
                calls.write(call, channel);
                scheduleFlush();
            }
            case CONNECTING -> calls.hold(call);
            case DISCONNECTED -> {
                if (System.nanoTime() - nextConnectNanos < 0 && backoffGeneration == health.generation()) {
                    // it failed moments ago: fail fast, and count it toward marking the server down
                    call.releaseRequest();
                    stats.refused();
                    health.recordFailure("backend " + server + " unavailable");
                    callback.onFailure("backend " + server + " unavailable");
                    return;
                }
                calls.hold(call);
                connect();
            }
        }
        stats.sent();
        armTimer();
    }

    /** Number of requests sent or queued and not yet answered. */
    public int pending() {
        return calls.size();
    }

    /** Closes the connection, failing whatever is pending. */
    public void close() {
        if (loop.inEventLoop()) {
            closed = true;
            closedReason = "backend " + server + " closed";
            failAll(closedReason);
            if (channel != null) {
                channel.close();
            }
        } else {
            loop.execute(this::close);
        }
    }

    /**
     * The server left the configuration: requests already sent or sent from now on (by routes
     * that began before the reload) are still answered; once none is pending, the connection
     * closes for good.
     */
    public void retire() {
        if (loop.inEventLoop()) {
            retiring = true;
            closeIfIdleAndDue();
        } else {
            loop.execute(this::retire);
        }
    }

    /**
     * A reload kept the server, perhaps with new settings: a new timeout applies to the next
     * request; a new reply bound to the next connection, so an open one is reopened once idle.
     */
    void reconfigure(BackendSettings next) {
        if (loop.inEventLoop()) {
            if (next.maxItemSize() != settings.maxItemSize()) {
                recycle = true;
            }
            settings = next;
            timeoutNanos = next.timeout().toNanos();
            closeIfIdleAndDue();
        } else {
            loop.execute(() -> reconfigure(next));
        }
    }

    /** Whether it was retired or closed. */
    boolean isRetired() {
        return retiring || closed;
    }

    /** When nothing is pending: a retired connection closes, a recycled one drops its channel. */
    private void closeIfIdleAndDue() {
        if (closed || !calls.isEmpty()) {
            return;
        }
        if (retiring) {
            closed = true;
            closedReason = "backend " + server + " removed from the configuration";
            dropChannel();
        } else if (recycle) {
            recycle = false;
            dropChannel();
        }
    }

    private void dropChannel() {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
        Channel ch = channel;
        channel = null;
        state = State.DISCONNECTED;
        if (ch != null) {
            ch.close();
        }
    }

    private void connect() {
        state = State.CONNECTING;
        BackendSettings s = settings;
        usableAfter = s.login() != null ? Gate.LOGIN : s.tls() != null ? Gate.TLS_HANDSHAKE : Gate.CONNECT;
        usable = false;
        Bootstrap b = new Bootstrap()
                .group(loop)
                .channel(transport.socketChannel())
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.SO_KEEPALIVE, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int)
                        Math.max(1, settings.timeout().toMillis()))
                .handler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        if (s.tls() != null) {
                            ch.pipeline().addLast(s.tls().newHandler(ch.alloc(), server.host(), server.port()));
                        }
                        if (s.login() != null) {
                            ch.pipeline().addLast(new ServerAuthenticator(s.login()));
                        }
                        ch.pipeline().addLast(new TextReplyDecoder(calls::headShape, s.maxItemSize()));
                        ch.pipeline().addLast(new ReplyHandler());
                    }
                });
        ChannelFuture f = b.connect(resolved);
        Channel ch = f.channel();
        channel = ch;
        f.addListener(done -> {
            if (channel != ch) {
                ch.close();
                return;
            }
            if (done.isSuccess()) {
                onConnected();
            } else {
                onConnectFailed(done.cause());
            }
        });
    }

    /** TCP is up: the requests held go out (a TLS handler or a login before them holds them until their turn). */
    private void onConnected() {
        health.connectionOpened();
        state = State.CONNECTED;
        if (usableAfter == Gate.CONNECT) {
            onUsable();
        }
        calls.writeHeld(channel);
        flushNow();
    }

    /** The connection passed its last gate: the server is reachable again, the backoff starts over. */
    private void onUsable() {
        usable = true;
        backoffNanos = settings.minBackoff().toNanos();
    }

    private void onConnectFailed(Throwable cause) {
        log.debug("connect to {} failed: {}", server, cause.toString());
        channel = null;
        state = State.DISCONNECTED;
        backOff();
        fail("backend " + server + " unavailable");
    }

    private void backOff() {
        backoffGeneration = health.generation();
        nextConnectNanos = System.nanoTime() + backoffNanos;
        backoffNanos = Math.min(backoffNanos * 2, settings.maxBackoff().toNanos());
    }

    private void scheduleFlush() {
        if (!flushScheduled) {
            flushScheduled = true;
            loop.execute(flushTask);
        }
    }

    private void flushNow() {
        flushScheduled = false;
        if (channel != null && state == State.CONNECTED) {
            channel.flush();
        }
    }

    private void armTimer() {
        if (timer != null) {
            return;
        }
        Call oldest = calls.oldest();
        if (oldest == null) {
            return;
        }
        long delay = Math.max(0, oldest.deadlineNanos - System.nanoTime());
        timer = loop.schedule(this::onTimer, delay, TimeUnit.NANOSECONDS);
    }

    private void onTimer() {
        timer = null;
        Call oldest = calls.oldest();
        if (oldest == null) {
            return;
        }
        if (oldest.deadlineNanos - System.nanoTime() <= 0) {
            log.debug("request to {} timed out; closing its connection", server);
            stats.timedOut();
            Channel ch = channel;
            channel = null;
            state = State.DISCONNECTED;
            backOff();
            fail("backend " + server + " timeout");
            if (ch != null) {
                ch.close();
            }
        } else {
            armTimer();
        }
    }

    /** A failure of the server (not of the proxy): counts toward marking it down. */
    private void fail(String reason) {
        boolean hadWork = !calls.isEmpty();
        failAll(reason);
        if (hadWork) {
            health.recordFailure(reason);
        }
        closeIfIdleAndDue();
    }

    private void failAll(String reason) {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
        calls.failAll(reason, stats);
    }

    private void onReply(ServerReply reply) {
        Call call = calls.answered(timeoutNanos);
        if (call == null) {
            reply.release();
            log.warn("unexpected reply from {}; closing the connection", server);
            channel.close();
            return;
        }
        health.recordSuccess();
        long now = System.nanoTime();
        stats.answered(now - call.sentNanos, now);
        call.callback.onReply(reply);
        closeIfIdleAndDue();
    }

    /**
     * A reply out of frame ({@link ReplyFramingException}): what is pending fails, and the connection
     * is dropped rather than trusted to match replies. Not a failure of the server: a client's odd
     * command can cause it, so it must not mark the server down.
     */
    private void onFramingLost(Channel ch, String what) {
        log.warn("reply from {} out of frame ({}); closing the connection", server, what);
        channel = null;
        state = State.DISCONNECTED;
        failAll("backend " + server + " reply out of frame");
        closeIfIdleAndDue();
        ch.close();
    }

    private void onInactive(Channel ch) {
        if (channel != ch) {
            return;
        }
        channel = null;
        state = State.DISCONNECTED;
        if (!usable) {
            // its TLS handshake or login failed: the next try waits, as after a refused connect
            backOff();
        }
        fail("backend " + server + " connection lost");
    }

    /** Pipeline tail: hands decoded replies back to the connection, and tells it when the channel is usable. */
    private final class ReplyHandler extends ChannelInboundHandlerAdapter {
        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (ctx.channel() == channel && !usable && gatePassed(evt) == usableAfter) {
                onUsable();
            }
            ctx.fireUserEventTriggered(evt);
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (ctx.channel() != channel) {
                ((ServerReply) msg).release();
                return;
            }
            onReply((ServerReply) msg);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            onInactive(ctx.channel());
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            if (ctx.channel() == channel && cause instanceof ReplyFramingException) {
                onFramingLost(ctx.channel(), cause.getMessage());
                return;
            }
            if (ctx.channel() == channel) {
                log.warn("connection to {} broke: {}", server, cause.toString());
            } else {
                // a connection already given up (timed out): its leftover bytes mean nothing
                log.debug("abandoned connection to {}: {}", server, cause.toString());
            }
            ctx.close();
        }
    }

    /** The gate {@code evt} says a channel passed, or null. */
    private static Gate gatePassed(Object evt) {
        if (evt == ServerAuthenticator.ADMITTED) {
            return Gate.LOGIN;
        }
        if (evt instanceof SslHandshakeCompletionEvent done && done.isSuccess()) {
            return Gate.TLS_HANDSHAKE;
        }
        return null;
    }
}
