package io.jmagent.routing;

import io.jmagent.backend.ReplyCallback;
import io.jmagent.protocol.ServerReply;
import io.jmagent.protocol.TextReplies;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

/**
 * A command every server must run (flush_all, verbosity): sent to all, answered once. The client
 * gets {@code OK} when every server said OK, otherwise the first other answer or failure.
 * Lives on the client's event loop.
 */
final class Broadcast implements ReplyCallback {

    private final ReplySink sink;
    private int remaining;
    private ByteBuf firstProblem;

    private Broadcast(int servers, ReplySink sink) {
        this.remaining = servers;
        this.sink = sink;
    }

    static void start(String line, Router.RouteContext ctx, ReplySink sink) {
        int servers = ctx.pool().serverCount();
        Broadcast b = new Broadcast(servers, sink);
        for (int s = 0; s < servers; s++) {
            ctx.pool().connection(s, ctx.sessionId()).send(TextEncoder.line(ctx.alloc(), line), false, b);
        }
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
            sink.reply(firstProblem != null ? firstProblem : Unpooled.wrappedBuffer(TextReplies.OK));
        }
    }
}
