package io.jmagent.routing;

import io.jmagent.backend.ReplyCallback;
import io.jmagent.backend.ServerConnection;
import io.jmagent.backend.ServerHealth;
import io.jmagent.replica.KeyVersions;
import io.jmagent.protocol.ReplyShape;
import io.jmagent.protocol.ServerReply;
import io.jmagent.protocol.StoreRequest;
import io.jmagent.protocol.TextReplies;
import io.netty.buffer.ByteBuf;
import java.util.List;
import java.util.function.Consumer;

/**
 * Rebuilds one copy of a key from the other: reads the item (value, flags, remaining TTL) with
 * {@code mg} on the connection that has just applied the client's write, so that it sees at
 * least that write, and stores it on the other server with {@code set} (a copy that differs is
 * replaced) or {@code add} (a copy written meanwhile is kept). This is how a write whose effect
 * depends on what a copy held (incr, decr, append, prepend) leaves both copies alike. Whether a
 * rebuilt copy can be trusted is the caller's to decide from the key's write epoch: another write
 * may have reached the target between the read and the store. Lives on the client's event loop.
 */
final class Rebuild {

    /** What became of a rebuild. */
    enum Outcome {
        /** The target stored the source's item. */
        COPIED,
        /** The source does not hold the key (any more): nothing was stored. */
        SOURCE_MISSING,
        /** The target refused the add: it holds the key already. */
        NOT_STORED,
        /** A server failed or answered an error: the target may or may not have changed. */
        FAILED
    }

    private Rebuild() {
    }

    /**
     * After a write whose effect depends on what the copy held (incr, decr, append, prepend, an ms
     * with a mode, ma), the backup gets the primary's item as it is after that write. The copy is
     * trusted only if no other write of the key overlapped this one ({@link KeyVersions#onlyWriteSince}
     * with the write's {@code slot} and {@code startStamp}); otherwise, or when it failed, the key
     * is stale on the backup. A primary without meta commands cannot tell the item's TTL: the
     * backup's copy is deleted instead. {@code done} runs exactly once, when it is settled.
     */
    static void backupFromPrimary(Router router, Router.RouteContext ctx, byte[] key, int primary, int backup,
            int slot, long startStamp, long backupStaleMark, Runnable done) {
        ServerHealth bh = router.backups().health(backup);
        KeyVersions versions = router.versions();
        if (!bh.writable()) {
            bh.markStale(key);
            router.stats().mirrorFailure();
            done.run();
            return;
        }
        bh.mirrorSent();
        if (!router.primaries().health(primary).speaksMeta()) {
            router.stats().backupDelete();
            router.backup(ctx, backup).send(TextEncoder.delete(ctx.alloc(), key), ReplyShape.LINE, new ReplyCallback() {
                @Override
                public void onReply(ServerReply reply) {
                    boolean gone = reply instanceof ServerReply.Line l
                            && (l.is(TextReplies.DELETED) || l.is(TextReplies.NOT_FOUND));
                    reply.release();
                    if (!gone) {
                        bh.markStale(key);
                        router.stats().mirrorFailure();
                    }
                    bh.mirrorLanded();
                    done.run();
                }

                @Override
                public void onFailure(String reason) {
                    bh.markStale(key);
                    router.stats().mirrorFailure();
                    bh.mirrorLanded();
                    done.run();
                }
            });
            return;
        }
        copy(router, ctx, key, router.primary(ctx, primary), router.backup(ctx, backup), StoreRequest.Kind.SET,
                outcome -> {
                    bh.mirrorLanded();
                    if (outcome == Outcome.COPIED && versions.onlyWriteSince(slot, startStamp)) {
                        bh.writtenHere(key, backupStaleMark);
                    } else {
                        bh.markStale(key); // older than this write, or than one that overlapped it
                        if (outcome == Outcome.FAILED) {
                            router.stats().mirrorFailure();
                        }
                    }
                    done.run();
                });
    }

    /**
     * The primary, which lost the key (restarted, evicted), gets the backup's item back with
     * {@code add}: a copy written there meanwhile stays. Should another write of the key have
     * overlapped, or the copy fail, the key is stale on the primary: it may hold an older value
     * than that write. {@code done} runs exactly once.
     */
    static void primaryFromBackup(Router router, Router.RouteContext ctx, byte[] key, int primary, int backup,
            int slot, long startStamp, Runnable done) {
        ServerHealth health = router.primaries().health(primary);
        if (!health.writable() || !router.backups().health(backup).speaksMeta()) {
            done.run();
            return;
        }
        router.stats().writeBack();
        copy(router, ctx, key, router.backup(ctx, backup), router.primary(ctx, primary), StoreRequest.Kind.ADD,
                outcome -> {
                    if (outcome == Outcome.FAILED
                            || outcome == Outcome.COPIED && !router.versions().onlyWriteSince(slot, startStamp)) {
                        health.markStale(key);
                    }
                    done.run();
                });
    }

    /** Source {@code from} must speak the meta commands. {@code done} runs exactly once. */
    static void copy(Router router, Router.RouteContext ctx, byte[] key, ServerConnection from, ServerConnection to,
            StoreRequest.Kind kind, Consumer<Outcome> done) {
        from.send(TextEncoder.metaGets(ctx.alloc(), List.of(key), null), ReplyShape.META_VALUES, new ReplyCallback() {
            @Override
            public void onReply(ServerReply reply) {
                if (!(reply instanceof ServerReply.Values values)) {
                    reply.release();
                    done.accept(Outcome.FAILED);
                    return;
                }
                if (values.values().isEmpty()) {
                    reply.release();
                    done.accept(Outcome.SOURCE_MISSING);
                    return;
                }
                ServerReply.Value hit = values.values().get(0);
                int exptime = router.exptimeOf(hit);
                if (exptime < 0) {
                    reply.release();
                    done.accept(Outcome.SOURCE_MISSING); // it expires this very second
                    return;
                }
                ByteBuf encoded;
                try {
                    encoded = TextEncoder.store(ctx.alloc(), kind, key, hit.flags(), exptime, 0,
                            hit.data().retainedSlice());
                } finally {
                    reply.release();
                }
                to.send(encoded, ReplyShape.LINE, new ReplyCallback() {
                    @Override
                    public void onReply(ServerReply stored) {
                        Outcome o = !(stored instanceof ServerReply.Line l) ? Outcome.FAILED
                                : l.is(TextReplies.STORED) ? Outcome.COPIED
                                : l.is(TextReplies.NOT_STORED) ? Outcome.NOT_STORED : Outcome.FAILED;
                        stored.release();
                        done.accept(o);
                    }

                    @Override
                    public void onFailure(String reason) {
                        done.accept(Outcome.FAILED);
                    }
                });
            }

            @Override
            public void onFailure(String reason) {
                done.accept(Outcome.FAILED);
            }
        });
    }
}
