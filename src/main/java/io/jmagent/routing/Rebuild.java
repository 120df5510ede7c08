package io.jmagent.routing;

import io.jmagent.backend.ReplyCallback;
import io.jmagent.backend.ServerConnection;
import io.jmagent.backend.ServerHealth;
import io.jmagent.protocol.ReplyShape;
import io.jmagent.protocol.ServerReply;
import io.jmagent.protocol.StoreRequest;
import io.jmagent.protocol.TextReplies;
import io.jmagent.replica.KeyVersions;
import io.jmagent.replica.SessionWrites;
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
        /** The source failed or answered an error: the target was not touched. */
        SOURCE_FAILED,
        /** The target failed or answered an error: it may or may not have changed. */
        FAILED
    }

    private Rebuild() {}

    /**
     * After a write whose effect depends on what the copy held (incr, decr, append, prepend, an ms
     * with a mode, ma), the backup gets the primary's item as it is after that write. The copy is
     * trusted only if it holds the key's writes in the backup's order ({@link #onlyOwnWrites}, and
     * no change of the session was sent to the backup meanwhile); otherwise, or when it failed,
     * the key is stale on the backup. A primary without meta commands cannot tell the item's TTL:
     * the backup's copy is deleted instead. {@code backupApplied}: the backup took the same write
     * itself (an ma sent to both), so a primary that fails before it is read leaves the backup's
     * copy as it is. {@code done} runs exactly once, when it is settled, told whether the backup
     * holds the key now (the primary's item, or the write it applied itself; a backup whose copy
     * was deleted for a primary without meta commands counts as holding it, as before).
     */
    static void backupFromPrimary(
            Router router,
            Router.RouteContext ctx,
            byte[] key,
            int primary,
            int backup,
            int slot,
            long startStamp,
            long ownStamp,
            long backupStaleMark,
            boolean backupApplied,
            Consumer<Boolean> done) {
        ServerHealth bh = router.backups().health(backup);
        if (!bh.writable()) {
            bh.markStale(key);
            router.stats().mirrorFailure();
            done.accept(backupApplied);
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
                    done.accept(true);
                }

                @Override
                public void onFailure(String reason) {
                    bh.markStale(key);
                    router.stats().mirrorFailure();
                    bh.mirrorLanded();
                    done.accept(true);
                }
            });
            return;
        }
        SessionWrites writes = ctx.writes();
        long sendsBefore = writes.backupSends(slot);
        copy(
                router,
                ctx,
                key,
                router.primary(ctx, primary),
                router.backup(ctx, backup),
                StoreRequest.Kind.SET,
                outcome -> {
                    bh.mirrorLanded();
                    boolean kept =
                            (outcome == Outcome.SOURCE_FAILED || outcome == Outcome.SOURCE_MISSING) && backupApplied;
                    if (outcome == Outcome.COPIED
                            && onlyOwnWrites(router, ctx, slot, startStamp, ownStamp)
                            && writes.backupSends(slot) == sendsBefore) {
                        bh.writtenHere(key, backupStaleMark);
                    } else if (kept) {
                        // the primary failed, or lost the key it had just applied this write to (a
                        // delete would have reached the backup too): the backup took the same write
                        // itself and keeps it
                    } else {
                        bh.markStale(key); // older than this write, or than one that overlapped it
                        if (outcome == Outcome.FAILED || outcome == Outcome.SOURCE_FAILED) {
                            router.stats().mirrorFailure();
                        }
                    }
                    done.accept(outcome == Outcome.COPIED || kept);
                });
    }

    /**
     * The primary, which lost the key (restarted, evicted), gets the backup's item back with
     * {@code add}: a copy written there meanwhile stays. Unless the copy holds the writes in the
     * primary's order ({@link #onlyOwnWrites}, and no write of the session started meanwhile), or
     * should it fail, the key is stale on the primary: it may hold an older value than a write
     * that came between; a copy stored but not trusted is marked uncertain
     * ({@link ServerHealth#markUncertain}): the best copy left should the backup's be lost before
     * cleaning refilled it. {@code done} runs exactly once.
     */
    static void primaryFromBackup(
            Router router,
            Router.RouteContext ctx,
            byte[] key,
            int primary,
            int backup,
            int slot,
            long startStamp,
            long ownStamp,
            Runnable done) {
        ServerHealth health = router.primaries().health(primary);
        if (!health.writable() || !router.backups().health(backup).speaksMeta()) {
            done.run();
            return;
        }
        router.stats().writeBack();
        SessionWrites writes = ctx.writes();
        long startedBefore = writes.started(slot);
        copy(
                router,
                ctx,
                key,
                router.backup(ctx, backup),
                router.primary(ctx, primary),
                StoreRequest.Kind.ADD,
                outcome -> {
                    if (outcome == Outcome.FAILED || outcome == Outcome.SOURCE_FAILED) {
                        health.markStale(key);
                    } else if (outcome == Outcome.COPIED
                            && !(onlyOwnWrites(router, ctx, slot, startStamp, ownStamp)
                                    && writes.started(slot) == startedBefore)) {
                        health.markUncertain(key, router.backups().health(backup));
                    }
                    done.run();
                });
    }

    /**
     * Over a farm other proxies share ({@link Router#answersAfterEveryCopy}): a write that skips the
     * primary's copy of its key, which this proxy holds stale there, deletes that copy as one of its
     * parts. Another proxy does not know the copy is stale and would read it; gone, it misses there
     * and reads the backup. The key's stale mark is lifted once the server said the key is gone,
     * unless a write failed there meanwhile. {@code done} runs exactly once.
     */
    static void dropStaleCopy(Router router, Router.RouteContext ctx, byte[] key, int primary, Runnable done) {
        ServerHealth health = router.primaries().health(primary);
        long mark = health.staleMark(key);
        deleteOnPrimary(router, ctx, key, primary, gone -> {
            if (gone) {
                health.writtenHere(key, mark); // it holds nothing: as new as every write
            }
            done.run(); // otherwise still stale here: the next probe deletes it
        });
    }

    /**
     * Deletes {@code key} on {@code primary}; {@code settled} is told, exactly once, whether the
     * server said the key is gone (false when it failed or answered otherwise).
     */
    static void deleteOnPrimary(
            Router router, Router.RouteContext ctx, byte[] key, int primary, Consumer<Boolean> settled) {
        router.primary(ctx, primary)
                .send(TextEncoder.deleteAnyKey(ctx.alloc(), key), ReplyShape.LINE, new ReplyCallback() {
                    @Override
                    public void onReply(ServerReply reply) {
                        boolean gone = TextEncoder.gone(reply);
                        reply.release();
                        settled.accept(gone);
                    }

                    @Override
                    public void onFailure(String reason) {
                        settled.accept(false);
                    }
                });
    }

    /**
     * Whether no write of another session overlapped a write of this one ({@code startStamp},
     * {@code ownStamp} taken when it started). A copy made for it then holds the key's writes in
     * the order the target gets them, provided no change of the session reached the target while
     * the copy was on its way (the callers count those: {@link SessionWrites#backupSends} for a
     * backup, {@link SessionWrites#started} for a primary).
     */
    private static boolean onlyOwnWrites(
            Router router, Router.RouteContext ctx, int slot, long startStamp, long ownStamp) {
        return ctx.writes().onlyOwnWritesSince(router.versions(), slot, startStamp, ownStamp);
    }

    /**
     * Source {@code from} must speak the meta commands. {@code done} runs exactly once. From the
     * read to the store's answer, the copy is an ordered change of the key ({@link KeyVersions}):
     * an increment that overlaps it cannot tell whether the copy holds it.
     */
    static void copy(
            Router router,
            Router.RouteContext ctx,
            byte[] key,
            ServerConnection from,
            ServerConnection to,
            StoreRequest.Kind kind,
            Consumer<Outcome> settled) {
        KeyVersions versions = router.versions();
        int slot = versions.slotOf(key);
        versions.orderedStarted(slot);
        Consumer<Outcome> done = outcome -> {
            versions.orderedSettled(slot);
            settled.accept(outcome);
        };
        from.send(TextEncoder.metaGets(ctx.alloc(), List.of(key), null), ReplyShape.META_VALUES, new ReplyCallback() {
            @Override
            public void onReply(ServerReply reply) {
                if (!(reply instanceof ServerReply.Values values)) {
                    reply.release();
                    done.accept(Outcome.SOURCE_FAILED);
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
                    encoded = TextEncoder.copyStore(
                            ctx.alloc(),
                            kind,
                            key,
                            hit.flags(),
                            exptime,
                            0,
                            hit.data().retainedSlice());
                } finally {
                    reply.release();
                }
                to.send(encoded, ReplyShape.LINE, new ReplyCallback() {
                    @Override
                    public void onReply(ServerReply stored) {
                        Outcome o = TextEncoder.stored(stored)
                                ? Outcome.COPIED
                                : TextEncoder.notStored(stored) ? Outcome.NOT_STORED : Outcome.FAILED;
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
                done.accept(Outcome.SOURCE_FAILED);
            }
        });
    }
}
