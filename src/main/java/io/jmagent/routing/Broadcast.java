package io.jmagent.routing;

import io.jmagent.backend.Farm;
import io.jmagent.backend.ReplyCallback;
import io.jmagent.backend.ServerConnections;
import io.jmagent.backend.ServerHealth;
import io.jmagent.protocol.ReplyShape;
import io.jmagent.protocol.ServerReply;
import io.jmagent.protocol.TextReplies;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

/**
 * A command every server must run (flush_all, verbosity): sent to every primary and every backup,
 * answered once. The client gets {@code OK} when every primary that is up said OK, otherwise the
 * first other answer or failure. A down primary fails the command unless a backup farm holds its
 * keys; backups' answers never reach the client. A server that answers OK to an immediate
 * flush_all holds no stale value any more: one whose stale set overflowed becomes readable again
 * ({@link ServerHealth#flushed}). Lives on the client's event loop.
 */
final class Broadcast implements ReplyCallback {

    private final ReplySink sink;
    private int remaining;
    private ByteBuf firstProblem;

    private Broadcast(ReplySink sink) {
        this.sink = sink;
    }

    /** {@code flushNow}: the line is a flush_all without delay. */
    static void start(Router router, String line, boolean flushNow, Router.RouteContext ctx, ReplySink sink) {
        Broadcast b = new Broadcast(sink);
        Farm primaries = router.primaries();
        b.remaining = 1; // held until every request is out
        for (int s = 0; s < primaries.size(); s++) {
            if (!primaries.health(s).writable()) {
                if (!router.hasBackups()) {
                    b.remaining++;
                    b.onFailure("backend " + primaries.health(s).server() + " down");
                } else if (flushNow) {
                    primaries.health(s).missedFlush(); // its keys are read from the backup meanwhile
                }
                continue;
            }
            b.remaining++;
            send(
                    ctx.primaries(),
                    s,
                    line,
                    ctx,
                    flushNow ? confirmingFlush(primaries.health(s), router.hasBackups(), b) : b);
        }
        if (router.hasBackups()) {
            for (int s = 0; s < router.backups().size(); s++) {
                ServerHealth h = router.backups().health(s);
                if (h.writable()) {
                    send(
                            ctx.backups(),
                            s,
                            line,
                            ctx,
                            flushNow ? confirmingFlush(h, true, Router.IGNORE) : Router.IGNORE);
                } else if (flushNow) {
                    h.missedFlush();
                }
            }
        }
        b.done();
    }

    private static void send(
            ServerConnections pool, int server, String line, Router.RouteContext ctx, ReplyCallback cb) {
        pool.connection(server, ctx.sessionId()).send(TextEncoder.line(ctx.alloc(), line), ReplyShape.LINE, cb);
    }

    /**
     * Keeps every key of {@code health}'s server from being read until it answers the flush
     * ({@link ServerHealth#flushSent}), tells it how it went, then hands the reply on.
     * {@code readAround}: a backup farm can serve the keys of a server that missed the flush
     * (without one, the client's error is the whole answer, and the server keeps serving).
     */
    private static ReplyCallback confirmingFlush(ServerHealth health, boolean readAround, ReplyCallback next) {
        long token = health.flushStarting();
        health.flushSent();
        return new ReplyCallback() {
            @Override
            public void onReply(ServerReply reply) {
                boolean ok = reply instanceof ServerReply.Line l && l.is(TextReplies.OK);
                if (ok) {
                    health.flushed(token);
                }
                health.flushAnswered(ok || !readAround);
                next.onReply(reply);
            }

            @Override
            public void onFailure(String reason) {
                health.flushAnswered(!readAround);
                next.onFailure(reason);
            }
        };
    }

    @Override
    public void onReply(ServerReply reply) {
        if (reply instanceof ServerReply.Line l && l.is(TextReplies.OK)) {
            reply.release();
        } else if (firstProblem == null) {
            firstProblem = Router.lineOf(reply);
        } else {
            reply.release();
        }
        done();
    }

    @Override
    public void onFailure(String reason) {
        if (firstProblem == null) {
            firstProblem = Unpooled.wrappedBuffer(TextReplies.serverError(reason));
        }
        done();
    }

    private void done() {
        if (--remaining == 0) {
            sink.reply(firstProblem != null ? firstProblem : TextReplies.OK_BUFFER.duplicate());
        }
    }
}
