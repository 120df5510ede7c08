package io.jmagent.frontend;

import io.jmagent.auth.AuthFile;
import io.jmagent.metrics.StatsReport;
import io.jmagent.protocol.CutShortRetrievalRequest;
import io.jmagent.protocol.FlushAllRequest;
import io.jmagent.protocol.LocalReply;
import io.jmagent.protocol.MetaRequest;
import io.jmagent.protocol.QuitRequest;
import io.jmagent.protocol.Request;
import io.jmagent.protocol.StatsRequest;
import io.jmagent.protocol.StoreRequest;
import io.jmagent.protocol.TextReplies;
import io.jmagent.protocol.TextRequestDecoder;
import io.jmagent.protocol.VerbosityRequest;
import io.jmagent.protocol.VersionRequest;
import io.jmagent.tenant.Tenant;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** A client speaking memcached's text protocol: requests from {@link TextRequestDecoder}, text replies. */
final class TextSession extends ClientSession {

    private static final Logger log = LoggerFactory.getLogger(TextSession.class);

    private static final byte[] VERSION_LINE = TextReplies.bytes("VERSION " + VERSION + "\r\n");

    private static final byte[] UNAUTHENTICATED = TextReplies.bytes("CLIENT_ERROR unauthenticated\r\n");
    private static final byte[] AUTH_FAILURE = TextReplies.bytes("CLIENT_ERROR authentication failure\r\n");
    private static final byte[] BAD_TOKEN = TextReplies.bytes("CLIENT_ERROR bad authentication token format\r\n");
    private static final byte[] STORED = TextReplies.bytes("STORED\r\n");

    /** The auth file clients must authenticate with (memcached's -Y), or null. */
    private final AuthFile auth;

    private boolean authenticated;
    /** An attempt is being checked: what follows waits for its answer. */
    private boolean checking;
    /** Empty but for authentication (capacity 0: an idle client holds no room for it). */
    private final ArrayDeque<Request> held = new ArrayDeque<>(0);
    /** An unauthenticated command was refused: the rest of that read is dropped, as memcached drops it. */
    private boolean swallowing;

    /**
     * With an auth file ({@code setup.auth()}) clients authenticate first; with tenants, a client is
     * let in only as one of them (by its login or its certificate).
     */
    TextSession(SessionSetup setup) {
        super(setup);
        this.auth = setup.auth();
        this.authenticated = auth == null && tenants == null;
    }

    @Override
    protected void enteredByCertificate() {
        authenticated = true;
    }

    @Override
    protected byte[] atTenantLimit(Tenant t) {
        return atConnectionLimit(t);
    }

    @Override
    protected void limitKeys(int max) {
        TextRequestDecoder decoder = ctx.pipeline().get(TextRequestDecoder.class);
        if (decoder != null) {
            decoder.limitKeys(max);
        }
    }

    private static byte[] atConnectionLimit(Tenant t) {
        return TextReplies.serverError("too many connections for tenant " + t.name());
    }

    @Override
    protected void stopDecoding() {
        TextRequestDecoder decoder = ctx.pipeline().get(TextRequestDecoder.class);
        if (decoder != null) {
            decoder.stop();
        }
    }

    @Override
    protected boolean hasPartialRequest() {
        TextRequestDecoder decoder = ctx.pipeline().get(TextRequestDecoder.class);
        return decoder != null && decoder.hasPartialRequest();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        Request request = (Request) msg;
        if (closing()) {
            release(request);
            return;
        }
        if (!authenticated) {
            unauthenticated(request);
            return;
        }
        if (request instanceof LocalReply r) {
            if (r.closeAfter()) {
                answerAndClose(Unpooled.wrappedBuffer(r.bytes()));
            } else {
                answer(Unpooled.wrappedBuffer(r.bytes()));
            }
        } else if (request instanceof CutShortRetrievalRequest r) {
            Slot slot = newSlot();
            // a tenant's keys are fetched with its prefix, within its rate; the reply is the error alone
            Request fetch = tenantKeys == null ? r.fetched() : tenantKeys.prefixed(r.fetched());
            if (fetch == null || (tenant != null && !tenant.admit())) {
                slot.reply(Unpooled.wrappedBuffer(TextReplies.BAD_FORMAT));
                return;
            }
            route(fetch, fetched -> {
                fetched.release();
                slot.reply(Unpooled.wrappedBuffer(TextReplies.BAD_FORMAT));
            });
        } else if (request instanceof QuitRequest) {
            answerAndClose(Unpooled.EMPTY_BUFFER);
        } else if (request instanceof VersionRequest) {
            answer(Unpooled.wrappedBuffer(VERSION_LINE));
        } else if (request instanceof StatsRequest r) {
            answer(Unpooled.wrappedBuffer(statsReply(r.group())));
        } else if (tenant != null) {
            routeForTenant(request);
        } else if (request.noreply()) {
            route(request, null);
        } else {
            route(request, newSlot());
        }
    }

    /** {@code stats}, {@code stats servers} (or {@code proxy}), {@code stats tenants}, {@code stats routes}. */
    private byte[] statsReply(String group) {
        if (group.isEmpty()) {
            return StatsReport.text(generalStats());
        } else if (isServersGroup(group)) {
            return StatsReport.text(serverStats());
        } else if (group.equals("tenants")) {
            return StatsReport.text(tenantStats());
        } else if (group.equals("routes")) {
            return StatsReport.text(routeStats());
        } else if (group.equals("shadow")) {
            return StatsReport.text(shadowStats());
        }
        return TextReplies.serverError("stats " + group + " not supported by jmagent");
    }

    /**
     * A tenant's request: within its rate, its keys prefixed and the reply's keys given back as the
     * client wrote them; a flush_all (which would empty the other tenants' keys too) and a verbosity
     * (the shared servers' logging) only for a tenant without a prefix.
     */
    private void routeForTenant(Request request) {
        if ((request instanceof FlushAllRequest || request instanceof VerbosityRequest) && tenantKeys != null) {
            // both act on the shared servers as a whole: for the operator's tenant (no prefix) only
            if (!request.noreply()) {
                String command = request instanceof FlushAllRequest ? "flush_all" : "verbosity";
                answer(Unpooled.wrappedBuffer(TextReplies.bytes(
                        "CLIENT_ERROR " + command + " is not allowed for tenant " + tenant.name() + "\r\n")));
            }
            return;
        }
        if (!tenant.admit()) {
            release(request);
            if (!request.noreply()) {
                answer(Unpooled.wrappedBuffer(
                        TextReplies.serverError("tenant " + tenant.name() + " is over its request rate")));
            }
            return;
        }
        Request routed = tenantKeys == null ? request : tenantKeys.prefixed(request);
        if (routed == null) {
            // a key with no room for the prefix (decoded before the login, or a meta key in base64)
            if (!request.noreply()) {
                answer(Unpooled.wrappedBuffer(TextReplies.BAD_FORMAT));
            }
            return;
        }
        if (request.noreply()) {
            route(routed, null);
        } else {
            Slot slot = newSlot();
            route(routed, tenantKeys == null ? slot : tenantKeys.stripping(routed, slot, ctx.alloc()));
        }
    }

    /**
     * memcached's ASCII authentication ({@code -Y}): until a {@code set} of any key whose value is
     * {@code user password} from the auth file is answered {@code STORED}, every command is
     * answered {@code CLIENT_ERROR unauthenticated} ({@code quit} too), and what else that read brought is dropped
     * (memcached answers once per read). Requests that follow an attempt wait for its answer, as
     * memcached reads them after it.
     */
    private void unauthenticated(Request request) {
        if (checking) {
            held.add(request);
            return;
        }
        if (swallowing) {
            release(request);
            return;
        }
        if (request instanceof StoreRequest s && s.kind() == StoreRequest.Kind.SET && auth != null) {
            attempt(s);
            return;
        }
        release(request);
        if (request instanceof LocalReply r && r.closeAfter()) {
            answerAndClose(Unpooled.wrappedBuffer(r.bytes()));
        } else {
            answer(Unpooled.wrappedBuffer(UNAUTHENTICATED));
            swallowing = true;
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) throws Exception {
        swallowing = false;
        super.channelReadComplete(ctx);
    }

    private void attempt(StoreRequest s) {
        String token = s.value().toString(StandardCharsets.UTF_8).stripTrailing(); // as the auth file is read
        s.release();
        stats.authCmd();
        int space = token.indexOf(' ');
        if (space <= 0 || space == token.length() - 1) {
            stats.authError();
            answer(Unpooled.wrappedBuffer(BAD_TOKEN));
            return;
        }
        checking = true;
        updateReading();
        Slot slot = newSlot();
        String user = token.substring(0, space);
        auth.check(user, token.substring(space + 1), clientAddress(), outcome -> ctx.executor()
                .execute(() -> settled(slot, user, outcome)));
    }

    /** An attempt's outcome, on this client's loop: answered, then what waited behind it is served. */
    private void settled(Slot slot, String user, AuthFile.Outcome outcome) {
        checking = false;
        Tenant t = outcome == AuthFile.Outcome.ACCEPTED && tenants != null ? tenants.ofUser(user) : null;
        if (outcome == AuthFile.Outcome.ACCEPTED && tenants != null && t == null) {
            // a user of the auth file who is no tenant: with tenants, nobody comes in as nobody
            log.warn(
                    "refused user {} from {}: no tenant names it",
                    user,
                    clientAddress().getHostAddress());
            stats.authError();
            slot.reply(Unpooled.wrappedBuffer(AUTH_FAILURE));
        } else if (t != null && !enter(t)) {
            slot.reply(Unpooled.wrappedBuffer(atConnectionLimit(t)));
            answerAndClose(Unpooled.EMPTY_BUFFER);
        } else if (outcome == AuthFile.Outcome.ACCEPTED) {
            authenticated = true;
            slot.reply(Unpooled.wrappedBuffer(STORED));
        } else {
            stats.authError();
            slot.reply(Unpooled.wrappedBuffer(
                    outcome == AuthFile.Outcome.BUSY
                            ? TextReplies.serverError("authentication busy, try again")
                            : AUTH_FAILURE));
        }
        while (!checking && !held.isEmpty()) {
            channelRead(ctx, held.poll());
        }
        swallowing = false; // what was held came with an earlier read: the next read is judged afresh
        updateReading();
    }

    @Override
    protected boolean holdsRequests() {
        return checking || !held.isEmpty();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        while (!held.isEmpty()) {
            release(held.poll());
        }
        super.channelInactive(ctx);
    }

    private static void release(Request request) {
        if (request instanceof StoreRequest s) {
            s.release();
        } else if (request instanceof MetaRequest m) {
            m.release();
        }
    }
}
