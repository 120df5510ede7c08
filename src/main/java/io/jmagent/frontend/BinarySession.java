package io.jmagent.frontend;

import static java.nio.charset.StandardCharsets.US_ASCII;

import io.jmagent.protocol.ArithmeticRequest;
import io.jmagent.protocol.BinaryMetaCommands;
import io.jmagent.protocol.BinaryOpcode;
import io.jmagent.protocol.BinaryRequest;
import io.jmagent.protocol.BinaryRequestDecoder;
import io.jmagent.protocol.BinaryResponses;
import io.jmagent.protocol.DeleteRequest;
import io.jmagent.protocol.FlushAllRequest;
import io.jmagent.protocol.MetaRequest;
import io.jmagent.protocol.OversizedStoreRequest;
import io.jmagent.protocol.Request;
import io.jmagent.protocol.RetrievalRequest;
import io.jmagent.protocol.StoreRequest;
import io.jmagent.protocol.TextKeys;
import io.jmagent.tenant.Tenant;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A client speaking memcached's binary protocol. Each request becomes the equivalent text-level
 * request (a get is a gets, so the cas is known; touch is a gat, so the flags are), goes through
 * the same router (same ketama, same backup and failover), and its text reply is translated into
 * the binary response memcached would send ({@link BinaryResponses}). Where the text commands
 * cannot say it all, and the key's servers speak the meta commands, the request goes as ms, ma or
 * md instead ({@link BinaryMetaCommands}): storage and arithmetic commands, for the new cas their
 * response carries, and a delete with a cas to compare. Quiet commands answer only
 * on error (gets: only on a hit), and keep their place in the reply order, so a Noop answers after
 * everything before it. Increment/decrement of a missing key creates it with the initial value
 * unless the expiration is 0xffffffff, as memcached does; requests on that key wait until it is
 * created. With an auth file, the client must first authenticate with SASL PLAIN ({@link SaslGate}).
 * Owned by the client channel's event loop.
 */
final class BinarySession extends ClientSession {

    private static final int NO_AUTO_CREATE = 0xffffffff;

    /** Keys of increments and decrements that may still create their counter. */
    private final Set<ByteBuffer> creating = new HashSet<>();
    /** Requests that came while one before them waits for a counter, in order (rarely any: capacity 0). */
    private final ArrayDeque<BinaryRequest> held = new ArrayDeque<>(0);
    /** memcached's -S with the auth file's users, or null where there is no auth file. */
    private final SaslGate sasl;

    /** With an auth file ({@code setup.auth()}) clients authenticate first, with SASL PLAIN. */
    BinarySession(SessionSetup setup) {
        super(setup);
        this.sasl = setup.auth() == null ? null : new SaslGate(this, setup.auth(), stats);
    }

    @Override
    protected void enteredByCertificate() {
        if (sasl != null) {
            sasl.authenticatedByCertificate();
        }
    }

    @Override
    protected byte[] atTenantLimit(Tenant t) {
        return new byte[0]; // no request to answer yet: the connection just closes
    }

    @Override
    protected void limitKeys(int max) {
        BinaryRequestDecoder decoder = ctx.pipeline().get(BinaryRequestDecoder.class);
        if (decoder != null) {
            decoder.limitKeys(max);
        }
    }

    /**
     * The SASL login of {@code user} succeeded: {@link BinaryResponses#SUCCESS} when the client is
     * let in; without tenants, always. With tenants, {@link BinaryResponses#AUTH_ERROR} for a user
     * no tenant names, {@link BinaryResponses#TEMPORARY_FAILURE} when the tenant is at its
     * connection limit (the caller closes the connection).
     */
    int loggedIn(String user) {
        if (tenants == null) {
            return BinaryResponses.SUCCESS;
        }
        Tenant t = tenants.ofUser(user);
        if (t == null) {
            return BinaryResponses.AUTH_ERROR;
        }
        return enter(t) ? BinaryResponses.SUCCESS : BinaryResponses.TEMPORARY_FAILURE;
    }

    @Override
    protected void stopDecoding() {
        BinaryRequestDecoder decoder = ctx.pipeline().get(BinaryRequestDecoder.class);
        if (decoder != null) {
            decoder.stop();
        }
    }

    @Override
    protected boolean hasPartialRequest() {
        BinaryRequestDecoder decoder = ctx.pipeline().get(BinaryRequestDecoder.class);
        return decoder != null && decoder.hasPartialRequest();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        BinaryRequest r = (BinaryRequest) msg;
        if (!held.isEmpty() || waitsForCounter(r) || checkingLogin()) {
            held.add(r);
            updateReading();
            return;
        }
        serve(r);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        held.forEach(BinaryRequest::release);
        held.clear();
        super.channelInactive(ctx);
    }

    @Override
    protected boolean holdsRequests() {
        return !held.isEmpty() || checkingLogin();
    }

    private boolean checkingLogin() {
        return sasl != null && sasl.checking();
    }

    private void serve(BinaryRequest r) {
        if (closing()) {
            r.release();
            return;
        }
        ByteBufAllocator alloc = ctx.alloc();
        if (r.badMagic()) {
            answerAndClose(Unpooled.EMPTY_BUFFER);
            return;
        }
        if (sasl != null && sasl.answers(r)) {
            return;
        }
        if (r.invalid()) {
            answerAndClose(BinaryResponses.error(alloc, r, r.closingStatus(), null));
            return;
        }
        BinaryOpcode op = r.opcode();
        if (tenants != null && tenant == null && op != BinaryOpcode.VERSION) {
            // tenants without an auth file: only a client certificate lets a client in
            r.release();
            answerAndClose(BinaryResponses.error(alloc, r, BinaryResponses.AUTH_ERROR, null));
            return;
        }
        if (op == null || op.isSasl()) {
            r.release(); // SASL without an auth file: memcached without -S does not know it
            answer(BinaryResponses.error(alloc, r, BinaryResponses.UNKNOWN_COMMAND, null));
            return;
        }
        if (tenant != null && op.touchesKeys()) {
            r = forTenant(r);
            if (r == null) {
                return;
            }
        }
        boolean keyInBase64 = !TextKeys.carries(r.key()) && op != BinaryOpcode.STAT;
        if (keyInBase64 && !speaksMeta(r)) {
            r.release();
            answer(BinaryResponses.error(
                    alloc,
                    r,
                    BinaryResponses.INVALID_ARGUMENTS,
                    "Invalid arguments: a key with a space, CR, LF or NUL byte needs servers that speak the meta"
                            + " commands (memcached 1.6)"));
            return;
        }
        if (r.tooLarge()) {
            StoreRequest.Kind kind = op == BinaryOpcode.SET || op == BinaryOpcode.SETQ
                    ? StoreRequest.Kind.SET
                    : StoreRequest.Kind.APPEND;
            route(new OversizedStoreRequest(kind, r.key(), true), null);
            answer(BinaryResponses.error(alloc, r, BinaryResponses.TOO_LARGE, null));
            return;
        }
        if (r.cas() != 0
                && (op == BinaryOpcode.DELETE || op == BinaryOpcode.DELETEQ || op.isArithmetic() || op.isConcat())
                && !speaksMeta(r)) {
            // memcached compares the cas; only the meta commands can, and a server before 1.6.10 has none as the proxy
            // sends them
            r.release();
            answer(BinaryResponses.error(
                    alloc,
                    r,
                    BinaryResponses.NOT_SUPPORTED,
                    "Not supported: jmagent cannot compare a cas on delete, incr, decr, append or prepend"
                            + " on a memcached older than 1.6.10"));
            return;
        }
        switch (op) {
            case NOOP -> answer(BinaryResponses.success(alloc, r));
            case VERSION ->
                answer(BinaryResponses.response(
                        alloc,
                        r.rawOpcode(),
                        BinaryResponses.SUCCESS,
                        r.opaque(),
                        0,
                        null,
                        null,
                        Unpooled.copiedBuffer(VERSION, US_ASCII)));
            case QUIT -> answerAndClose(BinaryResponses.success(alloc, r));
            case QUITQ -> answerAndClose(Unpooled.EMPTY_BUFFER);
            case STAT -> answer(stats(alloc, r));
            case GET, GETQ, GETK, GETKQ -> {
                if (keyInBase64) {
                    routeMetaRetrieval(r, null);
                } else {
                    routeTranslated(r, new RetrievalRequest(RetrievalRequest.Kind.GETS, 0, List.of(r.key())));
                }
            }
            case GAT, GATQ, GATK, GATKQ, TOUCH -> {
                if (keyInBase64) {
                    routeMetaRetrieval(r, r.textExptime());
                } else {
                    routeTranslated(
                            r, new RetrievalRequest(RetrievalRequest.Kind.GATS, r.textExptime(), List.of(r.key())));
                }
            }
            // proto_bin.c: any storage command with a cas is a cas, an add too
            case SET, SETQ -> store(r, r.cas() != 0 ? StoreRequest.Kind.CAS : StoreRequest.Kind.SET);
            case ADD, ADDQ -> store(r, r.cas() != 0 ? StoreRequest.Kind.CAS : StoreRequest.Kind.ADD);
            case REPLACE, REPLACEQ -> store(r, r.cas() != 0 ? StoreRequest.Kind.CAS : StoreRequest.Kind.REPLACE);
            case APPEND, APPENDQ -> store(r, StoreRequest.Kind.APPEND);
            case PREPEND, PREPENDQ -> store(r, StoreRequest.Kind.PREPEND);
            case DELETE, DELETEQ -> delete(r);
            case INCREMENT, INCREMENTQ, DECREMENT, DECREMENTQ -> arithmetic(r);
            case FLUSH, FLUSHQ ->
                routeTranslated(r, new FlushAllRequest(r.exptime() == 0 ? null : r.textExptime(), false));
            default -> answer(BinaryResponses.error(alloc, r, BinaryResponses.UNKNOWN_COMMAND, null));
        }
    }

    /**
     * A tenant's request: refused (and answered) over its rate, or a flush by a tenant with a key
     * prefix (it would empty the other tenants' keys too); otherwise with its key prefixed, which
     * replies take off again ({@link BinaryRequest#clientKey}). Null when answered here.
     */
    private BinaryRequest forTenant(BinaryRequest r) {
        BinaryOpcode op = r.opcode();
        if ((op == BinaryOpcode.FLUSH || op == BinaryOpcode.FLUSHQ) && tenantKeys != null) {
            r.release();
            answer(BinaryResponses.error(
                    ctx.alloc(),
                    r,
                    BinaryResponses.NOT_SUPPORTED,
                    "Not supported: flush is not allowed for tenant " + tenant.name()));
            return null;
        }
        if (!tenant.admit()) {
            r.release();
            answer(BinaryResponses.error(
                    ctx.alloc(),
                    r,
                    BinaryResponses.TEMPORARY_FAILURE,
                    "Temporary failure: tenant " + tenant.name() + " is over its request rate"));
            return null;
        }
        if (tenantKeys == null || op == BinaryOpcode.FLUSH || op == BinaryOpcode.FLUSHQ) {
            return r;
        }
        if (!tenantKeys.fits(r.key())) {
            // decoded before the login that made it a tenant's: refused as memcached refuses a key over 250
            r.release();
            answerAndClose(BinaryResponses.error(ctx.alloc(), r, BinaryResponses.INVALID_ARGUMENTS, null));
            return null;
        }
        return r.withKeyPrefix(tenantKeys.prefix());
    }

    /**
     * A get, gat or touch of a key the text commands cannot carry ({@link TextKeys}): an mg with the
     * key in base64 ({@link BinaryMetaCommands#get}), counted as a meta get is, its reply read as
     * the text gets reply it stands for.
     */
    private void routeMetaRetrieval(BinaryRequest r, Integer touchExptime) {
        MetaRequest mg = BinaryMetaCommands.get(ctx.alloc(), r, touchExptime);
        TextAnswer answer = translating(r, newSlot());
        route(mg, reply -> {
            stats.commands().replied(mg, reply);
            answer.reply(BinaryMetaCommands.readRetrieval(reply), 0);
        });
    }

    /**
     * True when the key's servers speak the meta commands (memcached 1.6): then a storage or
     * arithmetic command goes as ms/ma, which return the new cas, and a cas on delete, incr, decr,
     * append or prepend is compared ({@link BinaryMetaCommands}). Otherwise as its text equivalent.
     */
    private boolean speaksMeta(BinaryRequest r) {
        return routerFor(r.key()).speaksMeta(r.key());
    }

    private void store(BinaryRequest r, StoreRequest.Kind kind) {
        if (speaksMeta(r)) {
            // counted as the text command it stands for, which never travels (so without its value)
            StoreRequest counted = new StoreRequest(kind, r.key(), 0, 0, r.cas(), false, null);
            routeMeta(BinaryMetaCommands.store(ctx.alloc(), r, kind), counted, translating(r, newSlot()));
        } else {
            routeTranslated(r, textStore(r, kind));
        }
    }

    private void delete(BinaryRequest r) {
        DeleteRequest delete = new DeleteRequest(r.key(), false);
        if (r.cas() == 0 && TextKeys.carries(r.key())) {
            routeTranslated(r, delete); // memcached's delete answers no cas: nothing to learn from md
        } else {
            routeMeta(BinaryMetaCommands.delete(ctx.alloc(), r), delete, translating(r, newSlot()));
        }
    }

    private static StoreRequest textStore(BinaryRequest r, StoreRequest.Kind kind) {
        return new StoreRequest(
                kind,
                r.key(),
                kind == StoreRequest.Kind.APPEND || kind == StoreRequest.Kind.PREPEND ? 0 : r.flags(),
                r.textExptime(),
                r.cas(),
                false,
                r.value());
    }

    /** A text reply, or the text reply a meta reply stands for, and the cas of the item it left (0: unknown). */
    @FunctionalInterface
    private interface TextAnswer {
        void reply(ByteBuf text, long cas);
    }

    /** Routes {@code request} and answers, in order, the binary translation of its text reply. */
    private void routeTranslated(BinaryRequest r, Request request) {
        TextAnswer answer = translating(r, newSlot());
        route(request, text -> answer.reply(text, 0));
    }

    /**
     * Routes a meta command made for a binary request and hands on its reply as text and cas,
     * counting it as {@code countedAs} (its text equivalent) unless that is null: the meta command
     * itself carries {@link MetaRequest.Counter#NONE}, so the stats count it once, as the binary
     * client's command.
     */
    private void routeMeta(MetaRequest meta, Request countedAs, TextAnswer answer) {
        route(meta, reply -> {
            BinaryMetaCommands.Reply text = BinaryMetaCommands.read(meta.kind(), reply);
            if (countedAs != null) {
                stats.commands().replied(countedAs, text.text());
            }
            answer.reply(text.text(), text.cas());
        });
    }

    private TextAnswer translating(BinaryRequest r, Slot slot) {
        return (text, cas) -> {
            ByteBuf binary = BinaryResponses.fromText(ctx.alloc(), r, text, cas);
            slot.reply(binary == null ? Unpooled.EMPTY_BUFFER : binary);
        };
    }

    /**
     * incr/decr; on a miss, add the initial value (unless told not to), then retry the incr once if
     * beaten. Until that is settled, later requests on the key (and flushes) wait: memcached runs
     * a connection's commands in order, so they must see the counter created. As in memcached, a
     * miss that creates the counter counts as neither incr_misses nor cmd_set: such a command is
     * counted by hand, only when it finds a number. A cas is compared only on an existing counter,
     * as memcached does (a missing one is created whatever the cas).
     */
    private void arithmetic(BinaryRequest r) {
        boolean increment = r.opcode() == BinaryOpcode.INCREMENT || r.opcode() == BinaryOpcode.INCREMENTQ;
        ArithmeticRequest incr = new ArithmeticRequest(increment, r.key(), r.delta(), false);
        // with a backup farm and no cas to compare, the text incr/decr, which the backup repeats,
        // keeps the counter through a failover (ma would delete it there); the response then has cas 0
        boolean meta =
                speaksMeta(r) && (r.cas() != 0 || !routerFor(r.key()).hasBackups() || !TextKeys.carries(r.key()));
        TextAnswer answer = translating(r, newSlot());
        if (r.exptime() == NO_AUTO_CREATE) {
            routeArithmetic(r, incr, meta, true, answer);
            return;
        }
        ByteBuffer key = ByteBuffer.wrap(r.key());
        creating.add(key);
        TextAnswer settled = (text, cas) -> {
            answer.reply(text, cas);
            counterSettled(key);
        };
        routeArithmetic(r, incr, meta, false, (text, cas) -> {
            if (isLine(text, "NOT_FOUND\r\n")) {
                text.release();
                createWithInitial(r, incr, meta, settled);
            } else {
                stats.commands().replied(incr, text);
                settled.reply(text, cas);
            }
        });
    }

    /** The incr/decr as ma (cas compared, new cas returned) or as text; counted when {@code counted}. */
    private void routeArithmetic(
            BinaryRequest r, ArithmeticRequest incr, boolean meta, boolean counted, TextAnswer answer) {
        if (meta) {
            routeMeta(BinaryMetaCommands.arithmetic(ctx.alloc(), r), counted ? incr : null, answer);
        } else if (counted) {
            route(incr, text -> answer.reply(text, 0));
        } else {
            routeFollowUp(incr, text -> answer.reply(text, 0));
        }
    }

    private void createWithInitial(BinaryRequest r, ArithmeticRequest incr, boolean meta, TextAnswer answer) {
        String initial = Long.toUnsignedString(r.initial());
        ByteBuf value = ctx.alloc().buffer(initial.length()).writeBytes(initial.getBytes(US_ASCII));
        TextAnswer created = (text, cas) -> {
            if (isLine(text, "STORED\r\n")) {
                text.release();
                // the reply to a created counter is its initial value
                answer.reply(Unpooled.copiedBuffer(initial + "\r\n", US_ASCII), cas);
            } else if (isLine(text, "NOT_STORED\r\n")) {
                text.release();
                routeArithmetic(r, incr, meta, true, answer); // someone created it meanwhile: count on it
            } else {
                answer.reply(text, cas);
            }
        };
        if (meta) {
            routeMeta(BinaryMetaCommands.createCounter(ctx.alloc(), r, value), null, created);
        } else {
            routeFollowUp(
                    new StoreRequest(StoreRequest.Kind.ADD, r.key(), 0, r.textExptime(), 0, false, value),
                    text -> created.reply(text, 0));
        }
    }

    /** True when {@code r} must wait for a counter being created: it is on that key, or a flush. */
    private boolean waitsForCounter(BinaryRequest r) {
        return !creating.isEmpty()
                && (r.opcode() == BinaryOpcode.FLUSH
                        || r.opcode() == BinaryOpcode.FLUSHQ
                        || creating.contains(ByteBuffer.wrap(tenantKeys == null ? r.key() : tenantKeys.key(r.key()))));
    }

    private void counterSettled(ByteBuffer key) {
        creating.remove(key);
        serveHeld();
    }

    /** Serves the requests held back, in order, until one must wait again (for a counter or a login). */
    void serveHeld() {
        BinaryRequest next;
        while (!checkingLogin() && (next = held.peek()) != null && !waitsForCounter(next)) {
            held.poll();
            serve(next);
        }
        updateReading();
    }

    private static boolean isLine(ByteBuf text, String line) {
        return text.readableBytes() == line.length() && text.toString(US_ASCII).equals(line);
    }

    /** One response per statistic (key = name, value = value), closed by one with an empty key. */
    private ByteBuf stats(ByteBufAllocator alloc, BinaryRequest r) {
        String group = new String(r.key(), US_ASCII);
        if (!group.isEmpty()
                && !isServersGroup(group)
                && !group.equals("tenants")
                && !group.equals("routes")
                && !group.equals("shadow")) {
            return BinaryResponses.error(alloc, r, BinaryResponses.KEY_NOT_FOUND, null);
        }
        Map<String, String> all = group.isEmpty()
                ? generalStats()
                : group.equals("tenants")
                        ? tenantStats()
                        : group.equals("routes")
                                ? routeStats()
                                : group.equals("shadow") ? shadowStats() : serverStats();
        CompositeByteBuf out = alloc.compositeBuffer(all.size() + 1);
        all.forEach((name, value) -> out.addComponent(
                true,
                BinaryResponses.response(
                        alloc,
                        r.rawOpcode(),
                        BinaryResponses.SUCCESS,
                        r.opaque(),
                        0,
                        null,
                        name.getBytes(US_ASCII),
                        Unpooled.copiedBuffer(value, US_ASCII))));
        out.addComponent(true, BinaryResponses.success(alloc, r));
        return out;
    }
}
