package io.jmagent.routing;

import io.jmagent.backend.ReplyCallback;
import io.jmagent.backend.ServerHealth;
import io.jmagent.protocol.ReplyShape;
import io.jmagent.protocol.RetrievalRequest;
import io.jmagent.protocol.ServerReply;
import io.jmagent.protocol.TextReplies;
import io.netty.buffer.ByteBuf;

/**
 * A get, gets, gat or gats of one key with no backup to fall back on: the server's reply, VALUE
 * block and END together, is the client's reply, passed on as the one slice it arrived in
 * ({@link ReplyShape#WHOLE_VALUES}): no per-hit object, no merge. Counted in the stats as
 * {@link Retrieval} counts. Lives on the client's event loop.
 */
final class WholeGet {

    private WholeGet() {}

    static void start(Router router, RetrievalRequest request, Router.RouteContext ctx, ReplySink sink) {
        boolean touching = request.kind().touching();
        int primary = router.readPrimaryFor(request.keys().get(0));
        ServerHealth health = router.primaries().health(primary);
        if (!health.writable()) {
            router.stats().commands().retrievalFailed(touching, 1);
            sink.reply(Router.serverError("backend " + health.server() + " down"));
            return;
        }
        ByteBuf encoded = TextEncoder.retrieval(ctx.alloc(), request, request.keys());
        router.primary(ctx, primary).send(encoded, ReplyShape.WHOLE_VALUES, new ReplyCallback() {
            @Override
            public void onReply(ServerReply reply) {
                ByteBuf whole = Router.lineOf(reply);
                if (TextReplies.startsWith(whole, TextReplies.VALUE_PREFIX)) {
                    router.stats().commands().retrieved(touching, 1, 1);
                } else if (TextReplies.startsWith(whole, TextReplies.END)) {
                    router.stats().commands().retrieved(touching, 1, 0);
                } else {
                    router.stats().commands().retrievalFailed(touching, 1);
                }
                sink.reply(whole);
            }

            @Override
            public void onFailure(String reason) {
                router.stats().commands().retrievalFailed(touching, 1);
                sink.reply(Router.serverError(reason));
            }
        });
    }
}
