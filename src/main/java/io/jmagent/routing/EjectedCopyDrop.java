package io.jmagent.routing;

import io.jmagent.backend.CopyRefill;
import io.jmagent.backend.ReplyCallback;
import io.jmagent.backend.ServerHealth;
import io.jmagent.protocol.ReplyShape;
import io.jmagent.protocol.ServerReply;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.EventLoop;
import java.nio.charset.StandardCharsets;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * The cleaning of a server back from an auto-eject (no backup farm): each key written elsewhere
 * while it was ejected is deleted from it, as without this, and also from the server its write
 * went to. Left there, that copy would be read, older than what the server took since, when the
 * server is ejected again. Reads of the key meanwhile go to that other server
 * ({@link Router#readPrimaryFor}): they miss from the moment it is gone, never read an old value.
 * Runs the deletes over the connections of one loop of the pool's group.
 */
public final class EjectedCopyDrop implements CopyRefill {

    /** The connection of each server these deletes use (as a session id picks one). */
    private static final long SESSION_ID = 0;

    private final Router router;
    private final Supplier<EventLoop> loops;
    private EventLoop loop;
    private Router.RouteContext ctx;

    /** {@code loops} gives a loop of the pool's group, or null while there is none yet. */
    public EjectedCopyDrop(Router router, Supplier<EventLoop> loops) {
        this.router = router;
        this.loops = loops;
    }

    @Override
    public Start refill(ServerHealth stale, String keyText, Consumer<Boolean> done) {
        if (loop == null) {
            loop = loops.get();
        }
        if (loop != null) {
            byte[] key = keyText.getBytes(StandardCharsets.ISO_8859_1);
            int natural = router.ring().serverFor(key);
            int elsewhere = router.readPrimaryFor(key);
            if (router.primaries().health(natural) == stale && elsewhere != natural) {
                loop.execute(() -> deleteOn(elsewhere, key));
            }
        }
        return Start.NO_SOURCE; // the server's own copy: deleted by the cleaning
    }

    private void deleteOn(int server, byte[] key) {
        if (ctx == null) {
            ctx = new Router.RouteContext(router.primaries().poolFor(loop), null, SESSION_ID, ByteBufAllocator.DEFAULT);
        }
        router.primary(ctx, server)
                .send(TextEncoder.deleteAnyKey(ctx.alloc(), key), ReplyShape.LINE, new ReplyCallback() {
                    @Override
                    public void onReply(ServerReply reply) {
                        reply.release();
                    }

                    @Override
                    public void onFailure(String reason) {
                        // that server failed: its copy is its own problem at its return
                    }
                });
    }
}
