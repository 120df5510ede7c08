package io.jmagent.routing;

import io.jmagent.backend.CopyRefill;
import io.jmagent.backend.Farm;
import io.jmagent.backend.ReplyCallback;
import io.jmagent.backend.ServerConnection;
import io.jmagent.backend.ServerHealth;
import io.jmagent.protocol.ReplyShape;
import io.jmagent.protocol.ServerReply;
import io.jmagent.protocol.StoreRequest;
import io.jmagent.replica.KeyVersions;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.EventLoop;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Refills a stale copy of a key (one that missed a write) from the key's other copy, for the
 * health checker's cleaning: the primary from the backup, the backup from the primary. Deleting
 * the stale copy instead would leave the key one copy, lost at the next fault.
 *
 * <p>A refill starts only when no write of the key is in flight ({@link KeyVersions}), and its
 * copy is trusted only if none started or settled before it ended, and no flush_all reached
 * either server meanwhile. It takes no ticket itself: the key stays stale on the target until it
 * is trusted, so no read takes the target's copy meanwhile, and reads of the other copy go on. It reads the target's cas first, then the
 * source's item (value, flags, remaining TTL), and stores it with {@code cas} (or {@code add}
 * where the target holds nothing), so that a write landing on the target meanwhile is never
 * overwritten; a source without the key makes it a delete of the target's copy, by its cas. An
 * untrusted result leaves the key stale, for the next round. Runs on one event loop, over that
 * loop's connections.
 */
public final class StaleCopyRefill implements CopyRefill {

    /** The connection of each server the refills use (as a session id picks one). */
    private static final long SESSION_ID = 0;

    private static final byte[] HD = "HD\r\n".getBytes(StandardCharsets.US_ASCII);

    private final Router router;
    private final Supplier<? extends Executor> loops;
    private final Function<Executor, Router.RouteContext> context;
    /** The loop the refills run on, taken from {@code loops} at the first refill (the health thread's). */
    private Executor loop;
    /** "server key" of the refills under way: a key is refilled once at a time per server. */
    private final Set<String> underWay = ConcurrentHashMap.newKeySet();

    private Router.RouteContext ctx;

    /**
     * {@code loops} gives the loop to run on (null while there is none yet: keys are then deleted);
     * {@code context} is called on it, once, to make the connections the refills use.
     */
    public StaleCopyRefill(
            Router router, Supplier<? extends Executor> loops, Function<Executor, Router.RouteContext> context) {
        this.router = router;
        this.loops = loops;
        this.context = context;
    }

    /** Refills over the connections of a loop of the pool's group, once {@code loops} has one. */
    public static StaleCopyRefill onLoopOf(Router router, Supplier<EventLoop> loops) {
        return new StaleCopyRefill(
                router,
                loops,
                l -> new Router.RouteContext(
                        router.primaries().poolFor((EventLoop) l),
                        router.backups().poolFor((EventLoop) l),
                        SESSION_ID,
                        ByteBufAllocator.DEFAULT));
    }

    /** Where the copies of a key are: the stale one and the source, by farm index. */
    private record Copies(boolean targetIsPrimary, int target, int source, ServerHealth sourceHealth) {}

    @Override
    public Start refill(ServerHealth stale, String keyText, Consumer<Boolean> done) {
        if (loop == null) {
            loop = loops.get();
        }
        if (!router.hasBackups() || loop == null) {
            return Start.NO_SOURCE;
        }
        byte[] key = keyText.getBytes(StandardCharsets.ISO_8859_1);
        Copies c = locate(stale, key);
        if (c != null) {
            // a source's copy rebuilt, untrusted, from this one, lost since, is the best copy left
            c.sourceHealth.adoptUncertain(key, stale);
        }
        if (c == null || !c.sourceHealth.speaksMeta() || c.sourceHealth.isStale(key)) {
            // no copy newer than the stale one to take it from; an uncertain copy waits for its
            // source's server to come back (or be lost) rather than be deleted
            return c != null && stale.uncertain(key) ? Start.LATER : Start.NO_SOURCE;
        }
        if (!c.sourceHealth.readable() || !stale.writable()) {
            return Start.LATER;
        }
        String id = stale.server() + " " + keyText;
        if (!underWay.add(id)) {
            return Start.LATER;
        }
        KeyVersions versions = router.versions();
        int slot = versions.slotOf(key);
        long stamp = versions.stamp(slot);
        long flushes = c.sourceHealth.flushesSent();
        long targetFlushes = stale.flushesSent();
        if (versions.inFlight(slot) != 0 || flushes < 0 || targetFlushes < 0) {
            underWay.remove(id);
            return Start.LATER;
        }
        Refill r = new Refill(stale, c, key, slot, stamp, flushes, targetFlushes, ok -> {
            underWay.remove(id);
            done.accept(ok);
        });
        loop.execute(r::start);
        return Start.STARTED;
    }

    private Copies locate(ServerHealth stale, byte[] key) {
        int p = router.primaryFor(key);
        int b = router.backupFor(key);
        Farm primaries = router.primaries();
        Farm backups = router.backups();
        if (primaries.health(p) == stale && router.ring().serverFor(key) == p) {
            return new Copies(true, p, b, backups.health(b));
        }
        if (backups.health(b) == stale) {
            return new Copies(false, b, p, primaries.health(p));
        }
        return null; // the key's copies are elsewhere (a reload moved it)
    }

    /** One refill, on the loop. */
    private final class Refill {
        private final ServerHealth target;
        private final Copies copies;
        private final byte[] key;
        private final int slot;
        private final long stamp;
        private final long sourceFlushes;
        private final long targetFlushes;
        private final Consumer<Boolean> done;
        private ServerConnection from;
        private ServerConnection to;
        /** Whether the target may have changed (a store or delete it accepted). */
        private boolean changed;

        Refill(
                ServerHealth target,
                Copies copies,
                byte[] key,
                int slot,
                long stamp,
                long sourceFlushes,
                long targetFlushes,
                Consumer<Boolean> done) {
            this.target = target;
            this.copies = copies;
            this.key = key;
            this.slot = slot;
            this.stamp = stamp;
            this.sourceFlushes = sourceFlushes;
            this.targetFlushes = targetFlushes;
            this.done = done;
        }

        void start() {
            router.versions().orderedStarted(slot);
            if (ctx == null) {
                ctx = context.apply(loop);
            }
            ServerConnection primary = router.primary(ctx, copies.targetIsPrimary ? copies.target : copies.source);
            ServerConnection backup = router.backup(ctx, copies.targetIsPrimary ? copies.source : copies.target);
            from = copies.targetIsPrimary ? backup : primary;
            to = copies.targetIsPrimary ? primary : backup;
            get(to, targetHit -> {
                long targetCas = targetHit == null ? 0 : targetHit.cas();
                release(targetHit);
                get(from, sourceHit -> copy(targetHit != null, targetCas, sourceHit));
            });
        }

        /** The item on {@code server} (null when it holds none); a failure ends the refill. */
        private void get(ServerConnection server, Consumer<ServerReply.Value> then) {
            server.send(
                    TextEncoder.metaGets(ctx.alloc(), List.of(key), null), ReplyShape.META_VALUES, new ReplyCallback() {
                        @Override
                        public void onReply(ServerReply reply) {
                            if (!(reply instanceof ServerReply.Values values)
                                    || values.values().size() > 1) {
                                reply.release();
                                finish(false);
                                return;
                            }
                            then.accept(
                                    values.values().isEmpty()
                                            ? null
                                            : values.values().get(0));
                        }

                        @Override
                        public void onFailure(String reason) {
                            finish(false);
                        }
                    });
        }

        private void copy(boolean targetHolds, long targetCas, ServerReply.Value source) {
            int exptime = source == null ? -1 : router.exptimeOf(source);
            if (exptime < 0) {
                release(source); // missing, or expiring this very second
                if (!targetHolds) {
                    finish(true);
                    return;
                }
                changed = true;
                send(TextEncoder.metaDeleteIfCas(key, targetCas), ReplyShape.META_UNTIL_MN, false);
                return;
            }
            ByteBuf encoded;
            try {
                encoded = TextEncoder.copyStore(
                        ctx.alloc(),
                        targetHolds ? StoreRequest.Kind.CAS : StoreRequest.Kind.ADD,
                        key,
                        source.flags(),
                        exptime,
                        targetCas,
                        source.data().retainedSlice());
            } finally {
                source.release();
            }
            changed = true;
            send(encoded, ReplyShape.LINE, true);
        }

        /** {@code store}: a {@link TextEncoder#copyStore} (else an md), whose success is told apart as such. */
        private void send(ByteBuf request, ReplyShape shape, boolean store) {
            to.send(request, shape, new ReplyCallback() {
                @Override
                public void onReply(ServerReply reply) {
                    boolean ok = store ? TextEncoder.stored(reply) : reply instanceof ServerReply.Line l && l.is(HD);
                    reply.release();
                    finish(ok);
                }

                @Override
                public void onFailure(String reason) {
                    finish(false);
                }
            });
        }

        private void finish(boolean ok) {
            KeyVersions versions = router.versions();
            versions.orderedSettled(slot);
            boolean trusted = ok
                    && versions.unchangedSince(slot, stamp)
                    && copies.sourceHealth.flushesSent() == sourceFlushes
                    && target.flushesSent() == targetFlushes;
            if (!trusted && changed) {
                target.markStale(key); // it may now hold an older value than a write that came between
            }
            if (trusted) {
                router.stats().writeBack();
            }
            done.accept(trusted);
        }

        private void release(ServerReply.Value v) {
            if (v != null) {
                v.release();
            }
        }
    }
}
