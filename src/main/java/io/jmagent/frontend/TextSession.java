package io.jmagent.frontend;

import io.jmagent.auth.AuthFile;
import io.jmagent.config.ProxyConfig;
import io.jmagent.metrics.ProxyStats;
import io.jmagent.metrics.StatsReport;
import io.jmagent.protocol.CutShortRetrievalRequest;
import io.jmagent.protocol.LocalReply;
import io.jmagent.protocol.MetaRequest;
import io.jmagent.protocol.QuitRequest;
import io.jmagent.protocol.Request;
import io.jmagent.protocol.StatsRequest;
import io.jmagent.protocol.StoreRequest;
import io.jmagent.protocol.TextReplies;
import io.jmagent.protocol.TextRequestDecoder;
import io.jmagent.protocol.VersionRequest;
import io.jmagent.routing.Router;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.function.Supplier;

/** A client speaking memcached's text protocol: requests from {@link TextRequestDecoder}, text replies. */
final class TextSession extends ClientSession {

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

    TextSession(ProxyConfig config, ProxyStats stats, Supplier<Router> routers) {
        this(config, stats, routers, null);
    }

    /** {@code auth}: the auth file clients must authenticate with first, or null. */
    TextSession(ProxyConfig config, ProxyStats stats, Supplier<Router> routers, AuthFile auth) {
        super(config, stats, routers);
        this.auth = auth;
        this.authenticated = auth == null;
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
            route(r.fetched(), fetched -> {
                fetched.release();
                slot.reply(Unpooled.wrappedBuffer(TextReplies.BAD_FORMAT));
            });
        } else if (request instanceof QuitRequest) {
            answerAndClose(Unpooled.EMPTY_BUFFER);
        } else if (request instanceof VersionRequest) {
            answer(Unpooled.wrappedBuffer(VERSION_LINE));
        } else if (request instanceof StatsRequest r) {
            answer(Unpooled.wrappedBuffer(
                    r.group().isEmpty()
                            ? StatsReport.text(generalStats())
                            : isServersGroup(r.group())
                                    ? StatsReport.text(serverStats())
                                    : TextReplies.serverError("stats " + r.group() + " not supported by jmagent")));
        } else if (request.noreply()) {
            route(request, null);
        } else {
            route(request, newSlot());
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
        if (request instanceof StoreRequest s && s.kind() == StoreRequest.Kind.SET) {
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
        auth.check(token.substring(0, space), token.substring(space + 1), clientAddress(), outcome -> ctx.executor()
                .execute(() -> settled(slot, outcome)));
    }

    /** An attempt's outcome, on this client's loop: answered, then what waited behind it is served. */
    private void settled(Slot slot, AuthFile.Outcome outcome) {
        checking = false;
        if (outcome == AuthFile.Outcome.ACCEPTED) {
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
