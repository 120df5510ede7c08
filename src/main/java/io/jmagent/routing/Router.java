package io.jmagent.routing;

import io.jmagent.backend.BackendPool;
import io.jmagent.backend.ReplyCallback;
import io.jmagent.protocol.ArithmeticRequest;
import io.jmagent.protocol.DeleteRequest;
import io.jmagent.protocol.FlushAllRequest;
import io.jmagent.protocol.OversizedStoreRequest;
import io.jmagent.protocol.Request;
import io.jmagent.protocol.RetrievalRequest;
import io.jmagent.protocol.ServerReply;
import io.jmagent.protocol.StoreRequest;
import io.jmagent.protocol.TextReplies;
import io.jmagent.protocol.TouchRequest;
import io.jmagent.protocol.VerbosityRequest;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;

/**
 * Sends each request where ketama says its key lives and turns the server's answer into the
 * client's reply: one key to its server ({@link #routeKey}), a multi-key retrieval split by server
 * and merged back in key order ({@link SplitRetrieval}), flush_all and verbosity to every server
 * ({@link Broadcast}). Stateless beyond the ring; safe to share between event loops.
 */
public final class Router {

    private final KetamaRing ring;

    public Router(KetamaRing ring) {
        this.ring = ring;
    }

    public KetamaRing ring() {
        return ring;
    }

    /**
     * Routes one request that needs the servers. {@code sink} receives the reply (for a noreply
     * request, pass {@link ReplySink#DISCARD}). Takes ownership of the request's value.
     */
    public void route(Request request, RouteContext ctx, ReplySink sink) {
        if (request instanceof RetrievalRequest r) {
            SplitRetrieval.start(r, ring, ctx, sink);
        } else if (request instanceof StoreRequest r) {
            routeKey(r.key(), TextEncoder.store(ctx.alloc(), r), ctx, sink);
        } else if (request instanceof DeleteRequest r) {
            routeKey(r.key(), TextEncoder.delete(ctx.alloc(), r), ctx, sink);
        } else if (request instanceof ArithmeticRequest r) {
            routeKey(r.key(), TextEncoder.arithmetic(ctx.alloc(), r), ctx, sink);
        } else if (request instanceof TouchRequest r) {
            routeKey(r.key(), TextEncoder.touch(ctx.alloc(), r), ctx, sink);
        } else if (request instanceof OversizedStoreRequest r) {
            oversized(r, ctx, sink);
        } else if (request instanceof FlushAllRequest r) {
            Broadcast.start(r.delay() == null ? "flush_all" : "flush_all " + r.delay(), ctx, sink);
        } else if (request instanceof VerbosityRequest r) {
            Broadcast.start("verbosity " + Integer.toUnsignedString(r.level()), ctx, sink);
        } else {
            throw new IllegalArgumentException("not a routed request: " + request);
        }
    }

    private void routeKey(byte[] key, ByteBuf encoded, RouteContext ctx, ReplySink sink) {
        int server = ring.serverFor(key);
        ctx.pool().connection(server, ctx.sessionId()).send(encoded, false, new ReplyCallback() {
            @Override
            public void onReply(ServerReply reply) {
                sink.reply(lineOf(reply));
            }

            @Override
            public void onFailure(String reason) {
                sink.reply(Unpooled.wrappedBuffer(TextReplies.serverError(reason)));
            }
        });
    }

    /**
     * memcached answers an oversized value with SERVER_ERROR and, for set, drops the key's old
     * value; the proxy swallowed the value, so it repeats the drop as a delete on the server.
     */
    private void oversized(OversizedStoreRequest r, RouteContext ctx, ReplySink sink) {
        if (r.kind() == StoreRequest.Kind.SET) {
            routeKey(r.key(), TextEncoder.delete(ctx.alloc(), r.key()), ctx, ReplySink.DISCARD);
        }
        sink.reply(Unpooled.wrappedBuffer(TextReplies.TOO_LARGE));
    }

    /** A one-line reply's bytes; a retrieval-shaped reply here would be a server bug. */
    static ByteBuf lineOf(ServerReply reply) {
        if (reply instanceof ServerReply.Line line) {
            return line.line();
        }
        reply.release();
        return Unpooled.wrappedBuffer(TextReplies.serverError("unexpected reply from backend"));
    }

    /** What a route needs from the session that sent the request. */
    public record RouteContext(BackendPool pool, long sessionId, ByteBufAllocator alloc) {
    }
}
