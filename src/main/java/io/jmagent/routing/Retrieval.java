package io.jmagent.routing;

import io.jmagent.backend.ReplyCallback;
import io.jmagent.backend.ServerHealth;
import io.jmagent.protocol.ReplyShape;
import io.jmagent.protocol.RetrievalRequest;
import io.jmagent.protocol.ServerReply;
import io.jmagent.protocol.TextReplies;
import io.jmagent.replica.KeyVersions;
import io.jmagent.replica.SessionWrites;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import java.util.ArrayList;
import java.util.List;

/**
 * A get/gets/gat/gats over one or more keys. Keys are grouped by primary server and each group
 * goes to its server as one command, all groups at once. With a backup farm, the keys a primary
 * misses, or all of a group's keys when its primary is down or fails, are looked up on the
 * backup with quiet meta gets ({@code mg ... v f t k c q}, closed by {@code mn}; a text get for a
 * server without meta); a backup hit for a primary miss is written back to the primary
 * ({@link Router#writeBack}). A hit of a key stale on the server that answered it (a write to it
 * failed) is a miss. The hits are merged in the client's key order, closed by one END.
 *
 * <p>A group that neither its primary nor (if any) its backup could answer fails the whole
 * request with that {@code SERVER_ERROR}: a failure is never reported as a miss. Lives on the
 * client's event loop.
 */
final class Retrieval {

    private static final List<Integer> ONLY_KEY = List.of(0);

    private final Router router;
    private final RetrievalRequest request;
    private final Router.RouteContext ctx;
    private final ReplySink sink;
    private final ServerReply.Value[] hits;
    private int pending;
    private String failure;
    private ByteBuf errorLine;
    /** A single-key primary hit, the server's reply kept whole ({@link #askPrimaryWhole}). */
    private ByteBuf whole;
    /** With a backup farm: each key's slot and version when the read started ({@link KeyVersions}). */
    private final int[] slots;

    private final long[] stamps;

    private Retrieval(Router router, RetrievalRequest request, Router.RouteContext ctx, ReplySink sink) {
        this.router = router;
        this.request = request;
        this.ctx = ctx;
        this.sink = sink;
        this.hits = new ServerReply.Value[request.keys().size()];
        int n = router.hasBackups() ? request.keys().size() : 0;
        this.slots = new int[n];
        this.stamps = new long[n];
        KeyVersions versions = router.versions();
        for (int i = 0; i < n; i++) {
            slots[i] = versions.slotOf(request.keys().get(i));
            stamps[i] = versions.stamp(slots[i]);
        }
    }

    /**
     * Whether backup {@code server}'s copy of key {@code i} may be asked for now: not stale there,
     * and every write of the key in flight is this session's, with its backup change queued ahead
     * on the same connection ({@link SessionWrites#mayReadBackup}). A write that starts later is
     * concurrent with this read, which may then return the value before it.
     */
    private boolean backupMayBeAsked(int i, ServerHealth server) {
        return !server.isStale(request.keys().get(i)) && ctx.writes().mayReadBackup(router.versions(), slots[i]);
    }

    static void start(Router router, RetrievalRequest request, Router.RouteContext ctx, ReplySink sink) {
        List<byte[]> keys = request.keys();
        if (keys.size() == 1 && !router.hasBackups()) {
            WholeGet.start(router, request, ctx, sink);
            return;
        }
        Retrieval r = new Retrieval(router, request, ctx, sink);
        if (keys.size() == 1) {
            r.pending = 1;
            if (request.kind().touching()) {
                r.askPrimary(router.readPrimaryFor(keys.get(0)), ONLY_KEY);
            } else {
                r.askPrimaryWhole(router.readPrimaryFor(keys.get(0)));
            }
            return;
        }
        int[] primaryOf = new int[keys.size()];
        int servers = router.primaries().size();
        List<List<Integer>> groups = new ArrayList<>(servers);
        for (int s = 0; s < servers; s++) {
            groups.add(null);
        }
        for (int i = 0; i < keys.size(); i++) {
            int p = router.readPrimaryFor(keys.get(i));
            primaryOf[i] = p;
            if (groups.get(p) == null) {
                groups.set(p, new ArrayList<>());
            }
            groups.get(p).add(i);
        }
        r.pending = 1; // held until every group is out, so completion cannot run early
        for (int p = 0; p < servers; p++) {
            if (groups.get(p) != null) {
                for (List<Integer> command : TextEncoder.retrievalCommands(request, groups.get(p))) {
                    r.pending++;
                    r.askPrimary(p, command);
                }
            }
        }
        r.finishOne();
    }

    /**
     * A single-key get or gets with a backup farm: a primary hit is passed through whole, as
     * {@link WholeGet} does; a miss, a failure, a primary that is down or holds the key stale
     * take the general path to the backup.
     */
    private void askPrimaryWhole(int primary) {
        ServerHealth health = router.primaries().health(primary);
        byte[] key = request.keys().get(0);
        if (!health.readable() || health.isStale(key)) {
            askPrimary(primary, ONLY_KEY);
            return;
        }
        ByteBuf encoded = TextEncoder.retrieval(ctx.alloc(), request, request.keys());
        long marksAtSend = health.staleMarks();
        long unmarksAtSend = health.unmarks();
        router.primary(ctx, primary).send(encoded, ReplyShape.WHOLE_VALUES, new ReplyCallback() {
            @Override
            public void onReply(ServerReply reply) {
                ByteBuf line = Router.lineOf(reply);
                boolean hit = TextReplies.startsWith(line, TextReplies.VALUE_PREFIX);
                boolean trusted = !health.isStale(key)
                        && !(health.unmarks() != unmarksAtSend && health.staleMarks() != marksAtSend);
                if (hit && trusted) {
                    whole = line;
                } else if (hit || TextReplies.startsWith(line, TextReplies.END)) {
                    // a miss, or a hit for a key that went stale there meanwhile
                    line.release();
                    askBackup(ONLY_KEY, primary, null);
                } else {
                    errorLine = line;
                }
                finishOne();
            }

            @Override
            public void onFailure(String reason) {
                router.stats().primaryFailover();
                askBackup(ONLY_KEY, -1, reason);
                finishOne();
            }
        });
    }

    private void askPrimary(int primary, List<Integer> indexes) {
        ServerHealth health = router.primaries().health(primary);
        if (router.hasBackups() && !health.readable()) {
            router.stats().primaryFailover();
            askBackup(indexes, -1, "backend " + health.server() + " down");
            finishOne();
            return;
        }
        if (!router.hasBackups() && !health.writable()) {
            fail("backend " + health.server() + " down");
            finishOne();
            return;
        }
        List<byte[]> keys = keysAt(indexes);
        ByteBuf encoded = TextEncoder.retrieval(ctx.alloc(), request, keys);
        StaleView atSend = router.hasBackups() ? StaleView.of(health, request.keys(), indexes) : null;
        router.primary(ctx, primary).send(encoded, ReplyShape.VALUES, new ReplyCallback() {
            @Override
            public void onReply(ServerReply reply) {
                if (reply instanceof ServerReply.Values values) {
                    List<Integer> missed = assignInOrder(indexes, values.values());
                    if (router.hasBackups()) {
                        dropStale(indexes, health, missed, atSend);
                    }
                    if (router.hasBackups() && !missed.isEmpty()) {
                        askBackup(missed, primary, null);
                    }
                    mirrorTouches(indexes);
                } else {
                    if (errorLine == null) {
                        errorLine = ((ServerReply.Line) reply).line();
                    } else {
                        reply.release();
                    }
                }
                finishOne();
            }

            @Override
            public void onFailure(String reason) {
                if (router.hasBackups()) {
                    router.stats().primaryFailover();
                    askBackup(indexes, -1, reason);
                } else {
                    fail(reason);
                }
                finishOne();
            }
        });
    }

    /**
     * Looks {@code indexes} up on their backups. {@code writeBackTo} is the primary that missed
     * them (-1: none, it is down or failed). {@code primaryFailure} is set when the backup is the
     * only source left: then its failure is the request's failure, not a miss.
     */
    private void askBackup(List<Integer> indexes, int writeBackTo, String primaryFailure) {
        int servers = router.backups().size();
        List<List<Integer>> groups = new ArrayList<>(servers);
        for (int s = 0; s < servers; s++) {
            groups.add(null);
        }
        for (int i : indexes) {
            byte[] key = request.keys().get(i);
            int b = router.backupFor(key);
            if (router.backups().health(b).readable()
                    && !backupMayBeAsked(i, router.backups().health(b))) {
                continue; // its copy may be older than the key's latest write: a miss, not even asked
            }
            if (groups.get(b) == null) {
                groups.set(b, new ArrayList<>());
            }
            groups.get(b).add(i);
        }
        for (int b = 0; b < servers; b++) {
            List<Integer> group = groups.get(b);
            if (group == null) {
                continue;
            }
            ServerHealth health = router.backups().health(b);
            if (!health.readable()) {
                if (primaryFailure != null) {
                    fail(primaryFailure);
                }
                continue;
            }
            pending++;
            long marksAtSend = health.staleMarks();
            List<byte[]> keys = keysAt(group);
            boolean meta = health.speaksMeta();
            ByteBuf encoded = meta
                    ? TextEncoder.metaGets(ctx.alloc(), keys, request.kind().touching() ? request.exptime() : null)
                    : TextEncoder.retrieval(ctx.alloc(), request, keys);
            router.backup(ctx, b).send(encoded, meta ? ReplyShape.META_VALUES : ReplyShape.VALUES, new ReplyCallback() {
                @Override
                public void onReply(ServerReply reply) {
                    if (reply instanceof ServerReply.Values values) {
                        onBackupHits(group, values.values(), writeBackTo, health, marksAtSend);
                    } else {
                        reply.release();
                        if (primaryFailure != null) {
                            fail(primaryFailure);
                        }
                    }
                    finishOne();
                }

                @Override
                public void onFailure(String reason) {
                    if (primaryFailure != null) {
                        fail(primaryFailure);
                    }
                    finishOne();
                }
            });
        }
    }

    /**
     * The backup's hits: one of a key that went stale there since the read was sent (a write to it
     * failed: {@code marksAtSend} changed) is a miss. A hit is written back to the primary that
     * missed it only if no write of its key started since the read began ({@link Router#writeBack}).
     */
    private void onBackupHits(
            List<Integer> indexes,
            List<ServerReply.Value> values,
            int writeBackTo,
            ServerHealth backup,
            long marksAtSend) {
        int before = countHits(indexes);
        assignInOrder(indexes, values);
        boolean marked = backup.staleMarks() != marksAtSend;
        for (int i : indexes) {
            if (hits[i] != null && (marked || backup.isStale(request.keys().get(i)))) {
                hits[i].release();
                hits[i] = null;
            }
        }
        int found = countHits(indexes) - before;
        for (int j = 0; j < found; j++) {
            router.stats().backupRead();
        }
        if (writeBackTo >= 0) {
            for (int i : indexes) {
                if (hits[i] != null) {
                    router.writeBack(ctx, writeBackTo, request.keys().get(i), slots[i], stamps[i], hits[i]);
                }
            }
        }
    }

    /**
     * Hits of keys whose latest write may not have reached primary {@code server} become misses,
     * added to {@code missed}: its copy may be old ({@link ServerHealth#isStale}).
     */
    private void dropStale(List<Integer> indexes, ServerHealth server, List<Integer> missed, StaleView atSend) {
        boolean unmarked = server.unmarks() != atSend.unmarks;
        if (!server.mayHoldStaleKeys() && !unmarked && atSend.stale.isEmpty()) {
            return;
        }
        boolean marked = server.staleMarks() != atSend.marks;
        for (int i : indexes) {
            if (hits[i] != null
                    && (server.isStale(request.keys().get(i)) || atSend.stale.contains(i) || unmarked && marked)) {
                hits[i].release();
                hits[i] = null;
                missed.add(i);
            }
        }
    }

    /**
     * What a primary's stale marks were when a read was sent: its counts of marks made and
     * removed, and which of the read's keys were stale. A hit of a key stale at send, or sent
     * while a mark was made, is not trusted if a mark was removed before the answer (the cleaning
     * that removed it may have come after the read).
     */
    private record StaleView(long marks, long unmarks, List<Integer> stale) {
        static StaleView of(ServerHealth health, List<byte[]> keys, List<Integer> indexes) {
            long unmarks = health.unmarks();
            long marks = health.staleMarks();
            List<Integer> stale = List.of();
            if (health.mayHoldStaleKeys()) {
                stale = new ArrayList<>();
                for (int i : indexes) {
                    if (health.isStale(keys.get(i))) {
                        stale.add(i);
                    }
                }
            }
            return new StaleView(marks, unmarks, stale);
        }
    }

    /** gat/gats served by a primary: the backup's copy gets the same new TTL. */
    private void mirrorTouches(List<Integer> indexes) {
        if (!router.hasBackups() || !request.kind().touching()) {
            return;
        }
        for (int i : indexes) {
            if (hits[i] != null) { // the primary's hits: the backup has not answered yet
                byte[] key = request.keys().get(i);
                int b = router.backupFor(key);
                ServerHealth bh = router.backups().health(b);
                if (bh.writable()) {
                    KeyVersions versions = router.versions();
                    int slot = slots[i];
                    SessionWrites writes = ctx.writes();
                    long ownStamp = writes.writeStarted(versions, slot);
                    long startStamp = versions.stamp(slot);
                    writes.sentToBackup(slot);
                    writes.queued(slot);
                    router.mirror(
                            ctx,
                            b,
                            TextEncoder.touch(ctx.alloc(), key, request.exptime()),
                            ReplyShape.LINE,
                            settling(
                                    router.mirrorLanding(
                                            bh,
                                            key,
                                            () -> writes.onlyOwnWritesSince(versions, slot, startStamp, ownStamp)),
                                    () -> writes.writeSettled(versions, slot, true)));
                } else {
                    // its copy keeps the old expiry and could outlive the primary's
                    bh.markStale(key);
                }
            }
        }
    }

    /** {@code then}, followed by {@code settled} whatever the outcome. */
    static ReplyCallback settling(ReplyCallback then, Runnable settled) {
        return new ReplyCallback() {
            @Override
            public void onReply(ServerReply reply) {
                try {
                    then.onReply(reply);
                } finally {
                    settled.run();
                }
            }

            @Override
            public void onFailure(String reason) {
                try {
                    then.onFailure(reason);
                } finally {
                    settled.run();
                }
            }
        };
    }

    private int countHits(List<Integer> indexes) {
        int n = 0;
        for (int i : indexes) {
            if (hits[i] != null) {
                n++;
            }
        }
        return n;
    }

    /**
     * Gives each hit to the next requested key it matches (a server answers hits in the order it
     * was asked, skipping misses); returns the indexes left without a hit. Unclaimed hits are
     * released.
     */
    private List<Integer> assignInOrder(List<Integer> indexes, List<ServerReply.Value> values) {
        List<Integer> missed = new ArrayList<>();
        int cursor = 0;
        for (int i : indexes) {
            if (hits[i] == null
                    && cursor < values.size()
                    && values.get(cursor).keyEquals(request.keys().get(i))) {
                hits[i] = values.get(cursor++);
            } else if (hits[i] == null) {
                missed.add(i);
            }
        }
        for (int j = cursor; j < values.size(); j++) {
            values.get(j).release();
        }
        return missed;
    }

    private List<byte[]> keysAt(List<Integer> indexes) {
        List<byte[]> keys = new ArrayList<>(indexes.size());
        for (int i : indexes) {
            keys.add(request.keys().get(i));
        }
        return keys;
    }

    private void fail(String reason) {
        if (failure == null) {
            failure = reason;
        }
    }

    private void finishOne() {
        if (--pending > 0) {
            return;
        }
        if (whole != null) {
            router.stats().commands().retrieved(false, 1, 1);
            sink.reply(whole);
            return;
        }
        if (errorLine != null || failure != null) {
            router.stats().commands().retrievalFailed(request.kind().touching(), hits.length);
            for (ServerReply.Value v : hits) {
                if (v != null) {
                    v.release();
                }
            }
            if (errorLine != null) {
                sink.reply(errorLine);
            } else {
                sink.reply(Router.serverError(failure));
            }
            return;
        }
        router.stats().commands().retrieved(request.kind().touching(), hits.length, hitCount());
        sink.reply(merge());
    }

    private int hitCount() {
        int n = 0;
        for (ServerReply.Value v : hits) {
            if (v != null) {
                n++;
            }
        }
        return n;
    }

    /** The hits in client key order, then END; their bytes move into the reply. */
    private ByteBuf merge() {
        List<byte[]> keys = request.keys();
        List<ByteBuf> parts = new ArrayList<>();
        boolean withCas = request.kind().withCas();
        for (int i = 0; i < keys.size(); i++) {
            if (hits[i] != null) {
                parts.add(hits[i].takeTextBlock(ctx.alloc(), keys.get(i), withCas));
                hits[i] = null;
            }
        }
        ByteBuf end = TextReplies.END_BUFFER.duplicate();
        if (parts.isEmpty()) {
            return end;
        }
        parts.add(end);
        CompositeByteBuf merged = ctx.alloc().compositeBuffer(parts.size());
        merged.addComponents(true, parts);
        return merged;
    }
}
