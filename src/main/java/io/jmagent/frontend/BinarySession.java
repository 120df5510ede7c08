package io.jmagent.frontend;

import static java.nio.charset.StandardCharsets.US_ASCII;

import io.jmagent.config.ProxyConfig;
import io.jmagent.metrics.ProxyStats;
import io.jmagent.protocol.ArithmeticRequest;
import io.jmagent.protocol.BinaryOpcode;
import io.jmagent.protocol.BinaryRequest;
import io.jmagent.protocol.BinaryRequestDecoder;
import io.jmagent.protocol.BinaryResponses;
import io.jmagent.protocol.DeleteRequest;
import io.jmagent.protocol.FlushAllRequest;
import io.jmagent.protocol.OversizedStoreRequest;
import io.jmagent.protocol.Request;
import io.jmagent.protocol.RetrievalRequest;
import io.jmagent.protocol.StoreRequest;
import io.jmagent.protocol.VerbosityRequest;
import io.jmagent.routing.ReplySink;
import io.jmagent.routing.Router;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import java.util.List;
import java.util.Map;

/**
 * A client speaking memcached's binary protocol. Each request becomes the equivalent text-level
 * request (a get is a gets, so the cas is known; touch is a gat, so the flags are), goes through
 * the same router (same ketama, same backup and failover), and its text reply is translated into
 * the binary response memcached would send ({@link BinaryResponses}). Quiet commands answer only
 * on error (gets: only on a hit), and keep their place in the reply order, so a Noop answers after
 * everything before it. Increment/decrement of a missing key creates it with the initial value
 * unless the expiration is 0xffffffff, as memcached does.
 */
final class BinarySession extends ClientSession {

    private static final int NO_AUTO_CREATE = 0xffffffff;

    BinarySession(ProxyConfig config, ProxyStats stats, Router router) {
        super(config, stats, router);
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
        if (closing()) {
            r.release();
            return;
        }
        ByteBufAllocator alloc = ctx.alloc();
        if (r.badMagic()) {
            answerAndClose(Unpooled.EMPTY_BUFFER);
            return;
        }
        if (r.invalid()) {
            answerAndClose(BinaryResponses.error(alloc, r, BinaryResponses.INVALID_ARGUMENTS, null));
            return;
        }
        BinaryOpcode op = r.opcode();
        if (op == null) {
            answer(BinaryResponses.error(alloc, r, BinaryResponses.UNKNOWN_COMMAND, null));
            return;
        }
        if (r.tooLarge()) {
            StoreRequest.Kind kind = op == BinaryOpcode.SET || op == BinaryOpcode.SETQ ? StoreRequest.Kind.SET
                    : StoreRequest.Kind.APPEND;
            route(new OversizedStoreRequest(kind, r.key(), true), null);
            answer(BinaryResponses.error(alloc, r, BinaryResponses.TOO_LARGE, null));
            return;
        }
        switch (op) {
            case NOOP -> answer(BinaryResponses.success(alloc, r));
            case VERSION -> answer(BinaryResponses.response(alloc, r.rawOpcode(), BinaryResponses.SUCCESS,
                    r.opaque(), 0, null, null, Unpooled.copiedBuffer(VERSION, US_ASCII)));
            case QUIT -> answerAndClose(BinaryResponses.success(alloc, r));
            case QUITQ -> answerAndClose(Unpooled.EMPTY_BUFFER);
            case STAT -> answer(stats(alloc, r));
            case GET, GETQ, GETK, GETKQ -> routeTranslated(r,
                    new RetrievalRequest(RetrievalRequest.Kind.GETS, 0, List.of(r.key())));
            case GAT, GATQ, GATK, GATKQ, TOUCH -> routeTranslated(r,
                    new RetrievalRequest(RetrievalRequest.Kind.GATS, r.exptime(), List.of(r.key())));
            case SET, SETQ -> routeTranslated(r, store(r, r.cas() != 0 ? StoreRequest.Kind.CAS : StoreRequest.Kind.SET));
            case ADD, ADDQ -> routeTranslated(r, store(r, StoreRequest.Kind.ADD));
            case REPLACE, REPLACEQ -> routeTranslated(r,
                    store(r, r.cas() != 0 ? StoreRequest.Kind.CAS : StoreRequest.Kind.REPLACE));
            case APPEND, APPENDQ -> routeTranslated(r, store(r, StoreRequest.Kind.APPEND));
            case PREPEND, PREPENDQ -> routeTranslated(r, store(r, StoreRequest.Kind.PREPEND));
            case DELETE, DELETEQ -> routeTranslated(r, new DeleteRequest(r.key(), false));
            case INCREMENT, INCREMENTQ, DECREMENT, DECREMENTQ -> arithmetic(r);
            case FLUSH, FLUSHQ -> routeTranslated(r, new FlushAllRequest(r.exptime() == 0 ? null : r.exptime(), false));
            case VERBOSITY -> routeTranslated(r, new VerbosityRequest(r.exptime(), false));
            default -> answer(BinaryResponses.error(alloc, r, BinaryResponses.UNKNOWN_COMMAND, null));
        }
    }

    private static StoreRequest store(BinaryRequest r, StoreRequest.Kind kind) {
        return new StoreRequest(kind, r.key(), kind == StoreRequest.Kind.APPEND || kind == StoreRequest.Kind.PREPEND
                ? 0 : r.flags(), r.exptime(), r.cas(), false, r.value());
    }

    /** Routes {@code request} and answers, in order, the binary translation of its text reply. */
    private void routeTranslated(BinaryRequest r, Request request) {
        Slot slot = newSlot();
        route(request, translating(r, slot));
    }

    private ReplySink translating(BinaryRequest r, Slot slot) {
        return text -> {
            ByteBuf binary = BinaryResponses.fromText(ctx.alloc(), r, text);
            slot.reply(binary == null ? Unpooled.EMPTY_BUFFER : binary);
        };
    }

    /**
     * incr/decr; on a miss, add the initial value (unless told not to), then retry the incr once if
     * beaten. As in memcached, a miss that creates the counter counts as neither incr_misses nor
     * cmd_set: such a command is counted by hand, only when it finds a number.
     */
    private void arithmetic(BinaryRequest r) {
        Slot slot = newSlot();
        boolean increment = r.opcode() == BinaryOpcode.INCREMENT || r.opcode() == BinaryOpcode.INCREMENTQ;
        ArithmeticRequest incr = new ArithmeticRequest(increment, r.key(), r.delta(), false);
        if (r.exptime() == NO_AUTO_CREATE) {
            route(incr, translating(r, slot));
            return;
        }
        routeFollowUp(incr, text -> {
            if (isLine(text, "NOT_FOUND\r\n")) {
                text.release();
                createWithInitial(r, incr, slot);
            } else {
                stats.commands().replied(incr, text);
                translating(r, slot).reply(text);
            }
        });
    }

    private void createWithInitial(BinaryRequest r, ArithmeticRequest incr, Slot slot) {
        String initial = Long.toUnsignedString(r.initial());
        ByteBuf value = ctx.alloc().buffer(initial.length()).writeBytes(initial.getBytes(US_ASCII));
        routeFollowUp(new StoreRequest(StoreRequest.Kind.ADD, r.key(), 0, r.exptime(), 0, false, value), text -> {
            if (isLine(text, "STORED\r\n")) {
                text.release();
                // the reply to a created counter is its initial value
                translating(r, slot).reply(Unpooled.copiedBuffer(initial + "\r\n", US_ASCII));
            } else if (isLine(text, "NOT_STORED\r\n")) {
                text.release();
                route(incr, translating(r, slot)); // someone created it meanwhile: count on it
            } else {
                translating(r, slot).reply(text);
            }
        });
    }

    private static boolean isLine(ByteBuf text, String line) {
        return text.readableBytes() == line.length() && text.toString(US_ASCII).equals(line);
    }

    /** One response per statistic (key = name, value = value), closed by one with an empty key. */
    private ByteBuf stats(ByteBufAllocator alloc, BinaryRequest r) {
        String group = new String(r.key(), US_ASCII);
        if (!group.isEmpty() && !isServersGroup(group)) {
            return BinaryResponses.error(alloc, r, BinaryResponses.KEY_NOT_FOUND, null);
        }
        Map<String, String> all = group.isEmpty() ? generalStats() : serverStats();
        CompositeByteBuf out = alloc.compositeBuffer(all.size() + 1);
        all.forEach((name, value) -> out.addComponent(true, BinaryResponses.response(alloc, r.rawOpcode(),
                BinaryResponses.SUCCESS, r.opaque(), 0, null, name.getBytes(US_ASCII),
                Unpooled.copiedBuffer(value, US_ASCII))));
        out.addComponent(true, BinaryResponses.success(alloc, r));
        return out;
    }
}
