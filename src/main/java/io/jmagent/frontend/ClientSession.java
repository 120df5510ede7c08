package io.jmagent.frontend;

import io.jmagent.backend.Farm;
import io.jmagent.config.ProxyConfig;
import io.jmagent.metrics.ProxyStats;
import io.jmagent.metrics.StatsReport;
import io.jmagent.routing.PrefixRoutes;
import io.jmagent.routing.ReplySink;
import io.jmagent.routing.Router;
import io.jmagent.routing.Shadow;
import io.jmagent.tenant.Tenant;
import io.jmagent.tenant.Tenants;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.ssl.SslHandler;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.security.auth.x500.X500Principal;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client connection, whatever its protocol: hands requests to the router and writes the
 * replies back strictly in request order, whatever order the servers answer in. Replies are
 * flushed once per event-loop iteration. A client with {@code maxPendingPerClient} unanswered
 * requests, or whose socket is not writable, is not read until it catches up (backpressure,
 * never an unbounded queue). A client that shuts down its output gets every answer, then the
 * connection closes, as memcached does. Subclasses decode their protocol's requests into calls
 * of {@link #route} and {@link #answer}. Owned by the client channel's event loop.
 *
 * <p>Each request takes the router in force when it arrives ({@code routers}, swapped by a
 * reload), so a client stays connected while the farm behind it changes.
 */
abstract class ClientSession extends ChannelInboundHandlerAdapter {

    private static final Logger log = LoggerFactory.getLogger(ClientSession.class);
    private static final AtomicLong IDS = new AtomicLong();
    /** What {@code version} answers: a 1.6 version for clients that parse it, then the proxy's own. */
    static final String VERSION = "1.6.0 jmagent-" + StatsReport.VERSION;

    protected final ProxyConfig config;
    protected final ProxyStats stats;
    private static final InetAddress LOCAL = InetAddress.getLoopbackAddress();
    private final Supplier<Router> routers;
    private final long id = IDS.incrementAndGet();
    /** Room for one reply at first, as most clients wait for each answer; pipelining grows it. */
    private final ArrayDeque<Slot> slots = new ArrayDeque<>(1);

    protected ChannelHandlerContext ctx;
    /** The router of the latest request, and this loop's pools of its farms. */
    private Router router;

    private Router.RouteContext routeContext;
    private boolean closing;
    private boolean inputShutdown;
    private boolean flushScheduled;
    /** The proxy is shutting down: close once every request read so far is answered. */
    private boolean finishing;

    private final Runnable flushTask = this::flushNow;

    /** The pool's tenants, or null: then every client sees the whole key space. */
    protected final Tenants tenants;
    /** The tenant this client is, once known (with tenants, nothing is served before). */
    protected Tenant tenant;
    /** The tenant's key prefix at work, or null when it has none. */
    protected TenantKeys tenantKeys;

    /** The pool's route table in force (a reload may change it), or null: every key to the pool's own servers. */
    private final Supplier<PrefixRoutes> routes;
    /** The pool's shadow in force, or null. */
    private final Supplier<Shadow> shadow;
    /** This client's contexts on the routers its routes lead to (made at first use). */
    private Map<Router, Router.RouteContext> routedContexts;

    ClientSession(SessionSetup setup) {
        this.config = setup.config();
        this.stats = setup.stats();
        this.routers = setup.routers();
        this.tenants = setup.tenants();
        this.routes = setup.routes();
        this.shadow = setup.shadow();
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        currentRouter();
        Tenant t = certificateTenant();
        if (t != null) {
            if (enter(t)) {
                enteredByCertificate();
            } else {
                answerAndClose(Unpooled.wrappedBuffer(atTenantLimit(t)));
            }
        }
    }

    /** The client's certificate named its tenant: it needs no login. */
    protected abstract void enteredByCertificate();

    /** What a client whose tenant is at its connection limit is told before the connection closes. */
    protected abstract byte[] atTenantLimit(Tenant t);

    /** The router in force now; when a reload replaced it, this loop's pools of its farms. */
    protected Router currentRouter() {
        Router r = routers.get();
        if (r != router) {
            Channel ch = ctx.channel();
            Farm backups = r.backups();
            routeContext = new Router.RouteContext(
                    r.primaries().poolFor(ch.eventLoop()),
                    backups == null ? null : backups.poolFor(ch.eventLoop()),
                    id,
                    ch.alloc());
            router = r;
        }
        return r;
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        // replies still on their way find their slots abandoned and release what they carry
        for (Slot s : slots) {
            s.abandon();
        }
        slots.clear();
        if (tenant != null) {
            tenant.disconnected();
        }
        ctx.fireChannelInactive();
    }

    /** The tenant the client's certificate names (TLS with client certificates), or null. */
    protected Tenant certificateTenant() {
        SslHandler tls = tenants == null ? null : ctx.pipeline().get(SslHandler.class);
        if (tls == null) {
            return null;
        }
        try {
            if (tls.engine().getSession().getPeerPrincipal() instanceof X500Principal p) {
                return tenants.ofCertificate(p.getName(X500Principal.RFC2253));
            }
        } catch (SSLPeerUnverifiedException e) {
            // no certificate: the client logs in, if it can
        }
        return null;
    }

    /**
     * The client is {@code t}: true when let in (its connection counted, its keys prefixed from now
     * on); false when the tenant is at its connection quota (the caller answers and closes).
     */
    protected boolean enter(Tenant t) {
        if (tenant != null) {
            // a new login (binary SASL again): the previous tenant's place and prefix go first
            tenant.disconnected();
            tenant = null;
            tenantKeys = null;
            limitKeys(io.jmagent.protocol.TextRequestDecoder.MAX_KEY_LENGTH);
        }
        if (!t.connected()) {
            log.warn(
                    "tenant {}: refused a client of {}: at its connection limit ({})",
                    t.name(),
                    clientAddress().getHostAddress(),
                    t.spec().maxConnections());
            return false;
        }
        tenant = t;
        byte[] prefix = t.spec().prefixBytes();
        if (prefix.length > 0) {
            tenantKeys = new TenantKeys(prefix);
            limitKeys(io.jmagent.protocol.TextRequestDecoder.MAX_KEY_LENGTH - prefix.length);
        }
        return true;
    }

    /** Keys longer than {@code max} are refused from now on, as memcached refuses one over 250. */
    protected abstract void limitKeys(int max);

    /** The client's address, for the auth file's per-address limit; one for every client of the unix socket. */
    protected InetAddress clientAddress() {
        return ctx.channel().remoteAddress() instanceof InetSocketAddress a ? a.getAddress() : LOCAL;
    }

    /** True once the session stopped taking requests (quit, a fatal error, or closing). */
    protected boolean closing() {
        return closing;
    }

    /** Stops the protocol decoder: nothing after this point is read. */
    protected abstract void stopDecoding();

    /** True while the decoder holds the first part of a request whose rest has not arrived. */
    protected abstract boolean hasPartialRequest();

    /** Routes a request through the servers; {@code sink} null means noreply. */
    protected void route(io.jmagent.protocol.Request request, ReplySink sink) {
        ReplySink to = sink == null ? ReplySink.DISCARD : sink;
        Shadow sh = shadow.get();
        if (sh != null) {
            to = sh.shadow(request, this::contextFor, to);
        }
        PrefixRoutes table = routes.get();
        if (table == null) {
            currentRouter().route(request, routeContext, to);
        } else {
            table.dispatch(request, currentRouter(), this::contextFor, to, false);
        }
        updateReading();
    }

    /** Routes a request that finishes a client's command already counted (see {@link Router#routeFollowUp}). */
    protected void routeFollowUp(io.jmagent.protocol.Request request, ReplySink sink) {
        PrefixRoutes table = routes.get();
        if (table == null) {
            currentRouter().routeFollowUp(request, routeContext, sink);
        } else {
            table.dispatch(request, currentRouter(), this::contextFor, sink, true);
        }
        updateReading();
    }

    /** The router of the pool {@code key} goes to: this pool's, or the one a route names. */
    protected Router routerFor(byte[] key) {
        Router own = currentRouter();
        PrefixRoutes table = routes.get();
        return table == null ? own : table.routerFor(key, own);
    }

    /** This client's context on {@code r}, this pool's router or one a route leads to. */
    private Router.RouteContext contextFor(Router r) {
        if (r == currentRouter()) {
            return routeContext;
        }
        if (routedContexts == null) {
            routedContexts = new IdentityHashMap<>();
        } else if (routedContexts.size() >= 16) {
            // routers that reloads replaced: their contexts go, as this pool's own does when replaced
            PrefixRoutes table = routes.get();
            Set<Router> inForce = table == null ? Set.of() : table.routersInForce();
            routedContexts.keySet().removeIf(x -> !inForce.contains(x));
        }
        return routedContexts.computeIfAbsent(r, x -> {
            Channel ch = ctx.channel();
            Farm backups = x.backups();
            return new Router.RouteContext(
                    x.primaries().poolFor(ch.eventLoop()),
                    backups == null ? null : backups.poolFor(ch.eventLoop()),
                    id,
                    ch.alloc());
        });
    }

    protected Router.RouteContext routeContext() {
        currentRouter();
        return routeContext;
    }

    /** A new place in the reply order. */
    protected Slot newSlot() {
        Slot slot = new Slot();
        slots.add(slot);
        return slot;
    }

    /** Answers at once, in order: {@code reply} goes out after every earlier reply. */
    protected void answer(ByteBuf reply) {
        newSlot().reply(reply);
        updateReading();
    }

    /** Answers {@code reply} (may be empty), then closes the connection. */
    protected void answerAndClose(ByteBuf reply) {
        Slot slot = newSlot();
        slot.closeAfter = true;
        stopDecoding();
        slot.reply(reply);
    }

    /** The proxy's general statistics, for {@code stats}. */
    protected Map<String, String> generalStats() {
        return StatsReport.general(stats, config.threads(), config.maxConnections(), farms());
    }

    /** One entry per server, for {@code stats servers}. */
    protected Map<String, String> serverStats() {
        return StatsReport.servers(farms());
    }

    /**
     * One entry per tenant, for {@code stats tenants}: a tenant with a key prefix sees its own
     * line only, any other client every tenant's; none without tenants.
     */
    protected Map<String, String> tenantStats() {
        if (tenants == null) {
            return Map.of();
        }
        return StatsReport.tenants(tenantKeys != null ? List.of(tenant) : tenants.all());
    }

    /** The shadow's counters, for {@code stats shadow}; none without a shadow. */
    protected Map<String, String> shadowStats() {
        Shadow sh = shadow.get();
        return sh == null ? Map.of() : StatsReport.shadow(sh.counters());
    }

    /** One entry per route, for {@code stats routes}; none without routes. */
    protected Map<String, String> routeStats() {
        PrefixRoutes table = routes.get();
        return StatsReport.routes(table == null ? List.of() : table.counters());
    }

    /** {@code stats servers} and its alias {@code stats proxy}. */
    static boolean isServersGroup(String group) {
        return group.equals("servers") || group.equals("proxy");
    }

    private List<Farm> farms() {
        Router r = currentRouter();
        return r.backups() == null ? List.of(r.primaries()) : List.of(r.primaries(), r.backups());
    }

    /** Nothing asked and unanswered, nothing half-received: the client can be closed without loss. */
    boolean idle() {
        return slots.isEmpty() && !hasPartialRequest();
    }

    /**
     * Graceful shutdown: the session goes on reading and answering, and closes at the first moment
     * every request it has received is answered. The first look is put off by a moment, so that
     * requests already in the socket when the shutdown began are read first. Call on the loop.
     */
    void finishAndClose() {
        if (finishing) {
            return;
        }
        finishing = true;
        ctx.executor().schedule(this::closeIfFinished, 1, TimeUnit.MILLISECONDS);
    }

    private void closeIfFinished() {
        // not reading means bytes may wait unread in the socket (backpressure): wait for them
        if (finishing && !closing && idle() && ctx.channel().config().isAutoRead()) {
            closing = true;
            stopDecoding();
            ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof ChannelInputShutdownEvent) {
            inputShutdown = true;
            closeIfAllAnswered();
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        updateReading();
        if (finishing) {
            closeIfFinished();
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (!(cause instanceof IOException)) {
            log.warn("closing client {}: {}", ctx.channel().remoteAddress(), cause.toString());
        }
        ctx.close();
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
                stopDecoding();
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
        if (finishing) {
            closeIfFinished();
        }
    }

    private void closeIfAllAnswered() {
        if (inputShutdown && !closing && slots.isEmpty()) {
            closing = true;
            ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
        }
    }

    /** True while the session keeps decoded requests back: nothing more is read meanwhile. */
    protected boolean holdsRequests() {
        return false;
    }

    protected void updateReading() {
        Channel ch = ctx.channel();
        boolean read = !closing && ch.isWritable() && slots.size() < config.maxPendingPerClient() && !holdsRequests();
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
    protected final class Slot implements ReplySink {
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
