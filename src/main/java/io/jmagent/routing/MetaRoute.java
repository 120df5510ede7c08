package io.jmagent.routing;

import io.jmagent.backend.ReplyCallback;
import io.jmagent.backend.ServerConnection;
import io.jmagent.backend.ServerHealth;
import io.jmagent.protocol.MetaRequest;
import io.jmagent.protocol.ReplyShape;
import io.jmagent.protocol.ServerReply;
import io.jmagent.replica.KeyVersions;
import io.jmagent.replica.SessionWrites;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * A meta command (mg, ms, md, ma, me) routed by its key and sent to the server as the client
 * wrote it, so memcached itself serves every flag; its reply comes back unchanged.
 *
 * <p>Every meta command goes to the server followed by {@code mn}, quiet or not, and its reply is
 * read up to the MN ({@link ReplyShape#META_UNTIL_MN}): the client gets what came before it. So a
 * reply's end never rests on the proxy's reading of the flags (memcached reads {@code q1} as quiet;
 * a proxy that waited for its reply would hand the next client's reply to this one). More than one
 * reply before the MN fails the command and closes that connection rather than shift replies
 * ({@link io.jmagent.protocol.ReplyFramingException}). The cost: 4 bytes ({@code mn\r\n}) more per
 * command on the way out and 4 ({@code MN\r\n}) on the way back, and memcached's answer to a no-op.
 *
 * <p>Backup and failover as for the other protocols: mg falls back to the backup on a primary
 * miss, failure or outage, and a backup hit for a primary miss is written back (a hit of a key
 * stale on the server that answered it is a miss, never served nor written back); ms of a plain set
 * is mirrored as the same ms once the primary stored it (an ms that carries a mirror line, the
 * proxy's own for a binary add, replace or cas, as that plain set of the same value); any other
 * successful write (ms with a mode, cas or invalidation, md, ma) deletes the key on the backup. A
 * primary that is down or fails passes the command to the backup, whose answer the client gets,
 * and the key is remembered as stale on the primary. Lives on the client's event loop.
 */
final class MetaRoute {

    private static final ByteBuf MN = Unpooled.unreleasableBuffer(
                    Unpooled.copiedBuffer("mn\r\n", StandardCharsets.US_ASCII))
            .asReadOnly();

    private final Router router;
    private final Router.RouteContext ctx;
    private final MetaRequest request;
    private final ReplySink sink;
    private final int primary;
    private final ServerHealth health;
    /** With a backup farm: the key's slot in {@link KeyVersions}. */
    private final int slot;
    /**
     * The key's version when the request started (a write: right after it took the key's ticket,
     * held until {@link #parts} is 0).
     */
    private final long stamp;
    /** A write's requests not answered yet, plus one while it is being started. */
    private int parts = 1;
    /** A write: the session's own count when it started ({@link SessionWrites#onlyOwnWritesSince}). */
    private long ownStamp;
    /** A write: the session's changes to the key's backup when it started ({@link SessionWrites#backupSends}). */
    private long sendsAtStart;
    /** A write: the key's order epoch when it started ({@link KeyVersions#noOrderedChangeSince}). */
    private long orderStamp;
    /** A write: the backup's stale mark for the key when it began (0: not stale). */
    private long backupStaleMark;
    /** A write: the backup's copy could be trusted when it began (it may answer for a primary that lost the key). */
    private boolean backupTrusted;
    /** A write: trusted, and no write of another session on its way to it ({@link KeyWrite}'s rule for non-blind writes). */
    private boolean backupCurrent;
    /** The primary's stale marks when the command was sent to it (see {@code Retrieval.StaleView}). */
    private boolean staleAtSend;

    private long marksAtSend;
    private long unmarksAtSend;
    /** A write: every change it makes to the backup is queued on the session's connection ({@link SessionWrites}). */
    private boolean queuedOnBackup;
    /** An md (not invalidating) the primary answered: over a shared farm it goes there once more ({@link #deleteFromPrimaryAgain}). */
    private boolean primaryTookDelete;

    private boolean deletedTwice;

    private MetaRoute(Router router, Router.RouteContext ctx, MetaRequest request, ReplySink sink) {
        this.router = router;
        this.ctx = ctx;
        this.request = request;
        this.sink = request.isWrite() ? HeldReply.of(router, sink) : sink;
        this.primary = request.kind() == MetaRequest.Kind.GET
                ? router.readPrimaryFor(request.key())
                : router.primaryFor(request.key());
        this.health = router.primaries().health(primary);
        KeyVersions versions = router.versions();
        this.slot = router.hasBackups() ? versions.slotOf(request.key()) : 0;
        if (router.hasBackups() && request.isWrite()) {
            boolean othersDone = ctx.writes().onlyOwnInFlight(versions, slot);
            this.ownStamp = ctx.writes().writeStarted(versions, slot, request.plainArithmetic());
            this.orderStamp = versions.orderStamp(slot);
            this.sendsAtStart = ctx.writes().backupSends(slot);
            ServerHealth bh = router.backups().health(router.backupFor(request.key()));
            if (!bh.writable()) {
                bh.markStale(request.key()); // it misses this write: a write that starts meanwhile must not trust it
            }
            this.backupStaleMark = bh.staleMark(request.key());
            this.backupTrusted = bh.readable() && !bh.isStale(request.key());
            this.backupCurrent = backupTrusted && othersDone;
        }
        this.stamp = versions.stamp(slot);
    }

    static void start(Router router, Router.RouteContext ctx, MetaRequest request, ReplySink sink) {
        MetaRoute route = new MetaRoute(router, ctx, request, sink);
        route.run();
        route.partDone();
    }

    /** One request of a write is done; the last one gives the key's ticket back. */
    private void partDone() {
        if (parts == 1
                && primaryTookDelete
                && !deletedTwice
                && router.answersAfterEveryCopy()
                && request.counter() == MetaRequest.Counter.DELETE
                && health.writable()) {
            deleteFromPrimaryAgain();
        }
        if (--parts == 0 && router.hasBackups() && request.isWrite()) {
            ctx.writes().writeSettled(router.versions(), slot, queuedOnBackup, request.plainArithmetic());
            HeldReply.settled(sink);
        }
    }

    /** As {@code KeyWrite}'s: an md both copies answered reaches the primary once more before it is answered. */
    private void deleteFromPrimaryAgain() {
        deletedTwice = true;
        parts++;
        Rebuild.deleteOnPrimary(router, ctx, request.key(), primary, gone -> {
            if (!gone) {
                health.markStale(request.key());
            }
            partDone();
        });
    }

    /** From now on this write sends nothing more to the backup: a read the session sends there comes after it. */
    private void backupQueued() {
        if (!queuedOnBackup) {
            queuedOnBackup = true;
            ctx.writes().queued(slot);
        }
    }

    /** Whether backup {@code bh}'s copy may be asked for now ({@link SessionWrites#mayReadBackup}). */
    private boolean backupMayBeAsked(ServerHealth bh) {
        return !bh.isStale(request.key()) && ctx.writes().mayReadBackup(router.versions(), slot);
    }

    private void run() {
        int natural = router.ring().serverFor(request.key());
        if (natural != primary && request.isWrite()) {
            router.primaries().health(natural).markStale(request.key());
        }
        boolean usable = request.isWrite() || request.kind() == MetaRequest.Kind.DEBUG
                ? health.writable()
                : router.hasBackups() ? health.readable() : health.writable();
        if (usable && router.hasBackups() && request.isWrite() && !blind() && health.isStale(request.key())) {
            usable = false; // its copy is older than the backup's: the backup alone takes a write that reads it
        }
        if (!usable) {
            if (router.hasBackups() && request.isWrite() && !blind() && !backupCurrent) {
                // applied nowhere: the primary's copy misses nothing and stays as trusted as it was
                request.release();
                sink.reply(Router.serverError(
                        "backend " + health.server() + " down and the key's other copy is not known current"));
                return;
            }
            if (request.isWrite()) {
                health.markStale(request.key());
            }
            if (router.hasBackups()) {
                router.stats().primaryFailover();
                toBackup(encode(), true, false);
                if (request.isWrite() && health.writable() && router.answersAfterEveryCopy()) {
                    parts++;
                    Rebuild.dropStaleCopy(router, ctx, request.key(), primary, this::partDone);
                }
            } else {
                request.release();
                sink.reply(Router.serverError("backend " + health.server() + " down"));
            }
            return;
        }
        if (request.kind() == MetaRequest.Kind.ARITHMETIC
                && router.hasBackups()
                && router.backups().health(router.backupFor(request.key())).writable()) {
            arithmeticOnBoth();
            return;
        }
        ByteBuf mirror = request.mirroredAsSet() && router.hasBackups() ? encodeMirror() : null;
        staleAtSend = health.isStale(request.key());
        marksAtSend = health.staleMarks();
        unmarksAtSend = health.unmarks();
        parts++;
        router.primary(ctx, primary).send(encode(), ReplyShape.META_UNTIL_MN, new ReplyCallback() {
            @Override
            public void onReply(ServerReply reply) {
                ByteBuf answer = Router.lineOf(reply);
                onPrimaryAnswer(answer, mirror);
                partDone();
            }

            @Override
            public void onFailure(String reason) {
                if (request.isWrite()) {
                    health.markStale(request.key());
                }
                if (mirror != null) {
                    mirror.release();
                }
                if (router.hasBackups() && request.isWrite() && !blind() && !backupCurrent) {
                    request.release();
                    sink.reply(Router.serverError(reason)); // the backup's copy may lack a write: not applied there
                } else if (router.hasBackups()) {
                    router.stats().primaryFailover();
                    toBackup(encode(), true, false);
                } else {
                    request.release();
                    sink.reply(Router.serverError(reason));
                }
                partDone();
            }
        });
    }

    private void onPrimaryAnswer(ByteBuf answer, ByteBuf mirror) {
        if (!router.hasBackups()) {
            request.release();
            sink.reply(answer);
            return;
        }
        boolean stale = health.isStale(request.key())
                || staleAtSend
                || health.unmarks() != unmarksAtSend && health.staleMarks() != marksAtSend; // cleaned after it was read
        if (request.kind() == MetaRequest.Kind.GET && (isMiss(answer) || stale)) {
            answer.release();
            toBackup(encode(), false, false);
            writeBackFromBackup();
            return;
        }
        if (request.kind() == MetaRequest.Kind.ARITHMETIC
                && startsWith(answer, "NF")
                && backupTrusted
                && router.backups().health(router.backupFor(request.key())).writable()) {
            // the primary lost the counter (restarted, evicted): the backup's copy takes the write and
            // answers, and the primary gets it back
            answer.release();
            if (mirror != null) {
                mirror.release();
            }
            toBackup(encode(), true, true);
            return;
        }
        boolean deleteMissed = request.kind() == MetaRequest.Kind.DELETE && startsWith(answer, "NF");
        primaryTookDelete = request.kind() == MetaRequest.Kind.DELETE && (succeeded(answer) || deleteMissed);
        if (request.isWrite() && (succeeded(answer) || deleteMissed)) {
            // an md the primary found nothing for still goes to the backup: the primary may have lost the key
            if (mirror != null) {
                sendToBackupQuietly(mirror);
                mirror = null;
            } else if (request.kind() == MetaRequest.Kind.DELETE) {
                router.stats().backupDelete();
                sendToBackupQuietly(deleteOnBackup());
            } else {
                // ma, an ms with a mode: the result depends on what the copy held; the backup gets the primary's
                parts++;
                Rebuild.backupFromPrimary(
                        router,
                        ctx,
                        request.key(),
                        primary,
                        router.backupFor(request.key()),
                        slot,
                        stamp,
                        ownStamp,
                        backupStaleMark,
                        false,
                        holds -> partDone());
            }
        }
        if (mirror != null) {
            mirror.release();
        }
        if (request.kind() == MetaRequest.Kind.GET && request.mirrorLine() != null) {
            mirrorTouch(); // a hit the primary touched (a miss went to the backup as it is)
        }
        request.release();
        sink.reply(answer);
    }

    /**
     * An mg with a T flag the primary served: the backup's copy gets the same new TTL (a quiet mg
     * with the same T), as gat does, or else it could outlive the primary's and be served after it
     * expired there. A write of the key as far as the backup's copy goes ({@link KeyVersions}); a
     * backup that cannot take it now keeps the old TTL, so its copy is marked stale.
     */
    private void mirrorTouch() {
        int b = router.backupFor(request.key());
        ServerHealth bh = router.backups().health(b);
        byte[] key = request.key();
        if (!bh.writable()) {
            bh.markStale(key);
            return;
        }
        KeyVersions versions = router.versions();
        SessionWrites writes = ctx.writes();
        long own = writes.writeStarted(versions, slot);
        long startStamp = versions.stamp(slot);
        writes.sentToBackup(slot);
        writes.queued(slot);
        router.mirror(
                ctx,
                b,
                encode(request.mirrorLine()),
                ReplyShape.META_UNTIL_MN,
                Retrieval.settling(
                        router.mirrorLanding(bh, key, () -> writes.onlyOwnWritesSince(versions, slot, startStamp, own)),
                        () -> writes.writeSettled(versions, slot, true)));
    }

    /**
     * ma with a backup farm, as incr and decr ({@link MirrorPolicy#COUNTER}): the same command to
     * both copies at once, so that the backup's copy counts each increment even if the primary
     * dies right after answering. Once both answered ({@link #arithmeticAnswered}).
     */
    private void arithmeticOnBoth() {
        int b = router.backupFor(request.key());
        ServerHealth bh = router.backups().health(b);
        ByteBuf[] answers = new ByteBuf[2];
        String[] failures = new String[2];
        int[] waiting = {2};
        parts += 2;
        ctx.writes().sentToBackup(slot);
        router.primary(ctx, primary)
                .send(encode(), ReplyShape.META_UNTIL_MN, joining(0, answers, failures, waiting, b));
        router.mirror(ctx, b, encode(), ReplyShape.META_UNTIL_MN, joining(1, answers, failures, waiting, b));
        backupQueued();
    }

    private ReplyCallback joining(int copy, ByteBuf[] answers, String[] failures, int[] waiting, int b) {
        return new ReplyCallback() {
            @Override
            public void onReply(ServerReply reply) {
                answers[copy] = Router.lineOf(reply);
                done();
            }

            @Override
            public void onFailure(String reason) {
                failures[copy] = reason;
                if (copy == 1) {
                    // at once, not when the primary answers: cleaning must not find the backup whole meanwhile
                    router.backups().health(b).markStale(request.key());
                    router.stats().mirrorFailure();
                }
                done();
            }

            private void done() {
                if (--waiting[0] == 0) {
                    arithmeticAnswered(answers[0], answers[1], failures[0], b);
                }
                partDone();
            }
        };
    }

    /**
     * Both copies answered an ma ({@code null}: that copy failed). A primary that applied it is
     * the answer; the backup is rebuilt from it unless both surely hold the same number (the same
     * value returned, or, without one, no other write of the key overlapped and the backup was
     * trusted) and the backup's copy is not stale. A primary that does not hold the counter while the trusted backup applied it lost
     * it: the backup's answer is the client's once the primary has the counter back. A primary
     * that failed leaves the answer to a trusted backup; anything else is an error, the backup's
     * copy stale.
     */
    private void arithmeticAnswered(ByteBuf p, ByteBuf bAnswer, String primaryFailure, int b) {
        ServerHealth bh = router.backups().health(b);
        byte[] key = request.key();
        boolean backupApplied = bAnswer != null && succeeded(bAnswer);
        if (bAnswer != null && startsWith(bAnswer, "SERVER_ERROR")) {
            bh.markStale(key);
            router.stats().mirrorFailure();
        }
        ByteBuf reply;
        if (p != null && succeeded(p)) {
            boolean same = backupApplied
                    && backupTrusted
                    && (startsWith(p, "VA") && startsWith(bAnswer, "VA")
                            ? p.equals(bAnswer) || addedAlike(p, bAnswer, bh)
                            : ctx.writes().onlyOwnWritesSince(router.versions(), slot, stamp, ownStamp)
                                    || request.counter() == MetaRequest.Counter.INCR && addedAlike(p, bAnswer, bh));
            release(bAnswer);
            // a primary that missed a write meanwhile holds the older copy: the backup keeps its own
            if ((!same || bh.staleMark(key) != 0) && bAnswer != null && !health.isStale(key)) {
                // answered once the backup holds the primary's number: one more fault must not lose it
                ByteBuf held = p;
                parts++;
                Rebuild.backupFromPrimary(
                        router,
                        ctx,
                        key,
                        primary,
                        b,
                        slot,
                        stamp,
                        ownStamp,
                        backupStaleMark,
                        backupApplied && backupTrusted,
                        holds -> {
                            request.release();
                            sink.reply(holds ? held : lostWith(held, bh));
                            partDone();
                        });
                return;
            }
            reply = p;
        } else if (p != null && startsWith(p, "NF") && backupTrusted && (backupApplied || bAnswer == null)) {
            p.release();
            if (bAnswer == null) {
                reply = Router.serverError("backend " + bh.server() + " failed: the counter's other copy is unknown");
            } else {
                ByteBuf held = bAnswer;
                parts++;
                Rebuild.primaryFromBackup(router, ctx, key, primary, b, slot, stamp, ownStamp, () -> {
                    request.release();
                    sink.reply(held);
                    partDone();
                });
                return;
            }
        } else if (p == null) {
            health.markStale(key);
            router.stats().primaryFailover();
            if (backupApplied && backupCurrent) {
                reply = bAnswer; // the backup holds the key's latest value now
            } else {
                if (backupApplied && !backupTrusted) {
                    bh.markStale(key); // applied to a copy older than the primary's
                }
                release(bAnswer);
                reply = Router.serverError(primaryFailure);
            }
        } else {
            // NF with an untrusted backup, or an error: the backup applied what the primary did not
            if (backupApplied) {
                bh.markStale(key);
            }
            release(bAnswer);
            reply = p;
        }
        request.release();
        sink.reply(reply);
    }

    /**
     * Whether the two copies, which both applied this ma, surely hold the same number now although
     * other writes overlapped it: a plain ma ({@link MetaRequest#plainArithmetic}), both copies
     * alike when it started, and since then only increments sent to both reached them
     * ({@link KeyVersions#noOrderedChangeSince}), none of which made the backup stale. Such
     * increments commute, unless a decrement stopped at 0 on one copy: numbers returned ({@code v})
     * must not be 0; without them only an increment (mode I) qualifies.
     */
    private boolean addedAlike(ByteBuf p, ByteBuf b, ServerHealth bh) {
        return request.plainArithmetic()
                && !endsWithZero(p)
                && !endsWithZero(b)
                && router.versions().noOrderedChangeSince(slot, orderStamp)
                && bh.staleMark(request.key()) == backupStaleMark;
    }

    /** A VA answer whose number is 0 ("VA 1 ...\r\n0\r\n"). */
    private static boolean endsWithZero(ByteBuf answer) {
        int end = answer.writerIndex();
        return startsWith(answer, "VA")
                && answer.readableBytes() >= 5
                && answer.getByte(end - 3) == '0'
                && answer.getByte(end - 4) == '\n';
    }

    /**
     * The answer to a counter write the primary applied but whose other copy could not get: the
     * counter has one copy, which a fault of the primary would lose, so the increment is not
     * acknowledged (it may have been applied).
     */
    private static ByteBuf lostWith(ByteBuf held, ServerHealth bh) {
        held.release();
        return Router.serverError("backend " + bh.server() + " could not take the counter's second copy");
    }

    private static void release(ByteBuf b) {
        if (b != null) {
            b.release();
        }
    }

    /**
     * The command (or what a primary miss leaves) goes to the key's backup; its answer is the
     * client's. {@code rebuildPrimary}: the primary lost the key, and gets the backup's item back
     * before the client is answered.
     */
    private void toBackup(ByteBuf encoded, boolean onlySource, boolean rebuildPrimary) {
        int b = router.backupFor(request.key());
        ServerHealth bh = router.backups().health(b);
        if (!bh.readable() && !(request.isWrite() && bh.writable())) {
            encoded.release();
            if (request.isWrite()) {
                bh.markStale(request.key());
            }
            request.release();
            // a miss stays a miss; with no source left at all, the failure is the answer
            sink.reply(onlySource ? Router.serverError("backend " + health.server() + " down") : miss());
            return;
        }
        ServerConnection via = router.backup(ctx, b);
        if (request.kind() == MetaRequest.Kind.GET && !backupMayBeAsked(bh)) {
            // its copy may be older than the key's latest write: not even asked
            encoded.release();
            request.release();
            sink.reply(miss());
            return;
        }
        long marksAtSend = bh.staleMarks();
        if (request.isWrite()) {
            ctx.writes().sentToBackup(slot);
        }
        parts++;
        via.send(encoded, ReplyShape.META_UNTIL_MN, new ReplyCallback() {
            @Override
            public void onReply(ServerReply reply) {
                ByteBuf answer = Router.lineOf(reply);
                if (request.kind() == MetaRequest.Kind.GET && !isMiss(answer)) {
                    if (bh.isStale(request.key()) || bh.staleMarks() != marksAtSend) {
                        answer.release();
                        answer = miss(); // a write to it failed meanwhile: its copy may be old
                    } else {
                        router.stats().backupRead();
                    }
                }
                if (request.isWrite() && onlySource && replacesWhole(answer)) {
                    bh.writtenHere(request.key(), backupStaleMark); // the key's latest write is here
                }
                if (rebuildPrimary && succeeded(answer)) {
                    ByteBuf held = answer;
                    parts++;
                    Rebuild.primaryFromBackup(router, ctx, request.key(), primary, b, slot, stamp, ownStamp, () -> {
                        request.release();
                        sink.reply(held);
                        partDone();
                    });
                } else {
                    request.release();
                    sink.reply(answer);
                }
                partDone();
            }

            @Override
            public void onFailure(String reason) {
                if (request.isWrite()) {
                    bh.markStale(request.key());
                }
                request.release();
                sink.reply(onlySource ? Router.serverError(reason) : miss());
                partDone();
            }
        });
        if (request.isWrite()) {
            backupQueued();
        }
    }

    /**
     * A write whose result does not depend on what the copy held: a plain-set ms, an md (not an
     * add, a replace or a cas, although the backup repeats their success as a plain set).
     */
    private boolean blind() {
        return request.plainSet() || request.kind() == MetaRequest.Kind.DELETE;
    }

    /** A write's answer that leaves the key as written whatever it held: a plain ms stored, an md. */
    private boolean replacesWhole(ByteBuf answer) {
        return request.kind() == MetaRequest.Kind.SET && request.mirroredAsSet() && succeeded(answer)
                || request.kind() == MetaRequest.Kind.DELETE && (succeeded(answer) || startsWith(answer, "NF"));
    }

    /** A primary miss that the backup may hold: fetch flags, TTL and value to write it back. */
    private void writeBackFromBackup() {
        int b = router.backupFor(request.key());
        ServerHealth bh = router.backups().health(b);
        byte[] key = request.key();
        ServerConnection via = router.backup(ctx, b);
        if (!bh.readable()
                || !health.writable()
                || bh.isStale(key)
                || !router.versions().unchangedSince(slot, stamp)) {
            return;
        }
        via.send(TextEncoder.metaGets(ctx.alloc(), List.of(key), null), ReplyShape.META_VALUES, new ReplyCallback() {
            @Override
            public void onReply(ServerReply reply) {
                try {
                    if (reply instanceof ServerReply.Values values
                            && !values.values().isEmpty()
                            && !bh.isStale(key)) {
                        router.writeBack(
                                ctx, primary, key, slot, stamp, values.values().get(0));
                    }
                } finally {
                    reply.release();
                }
            }

            @Override
            public void onFailure(String reason) {
                // the client already has its answer; the primary simply stays without the key
            }
        });
    }

    private void sendToBackupQuietly(ByteBuf encoded) {
        int b = router.backupFor(request.key());
        ServerHealth bh = router.backups().health(b);
        if (!bh.writable()) {
            encoded.release();
            bh.markStale(request.key());
            router.stats().mirrorFailure();
            return;
        }
        parts++;
        // sent once the primary answered: a change of the session sent in between went to the backup first
        boolean inOrder = ctx.writes().backupSends(slot) == sendsAtStart;
        router.mirror(
                ctx,
                b,
                encoded,
                ReplyShape.META_UNTIL_MN,
                Retrieval.settling(
                        router.mirrorLanding(
                                bh,
                                request.key(),
                                () -> inOrder
                                        && ctx.writes().onlyOwnWritesSince(router.versions(), slot, stamp, ownStamp)),
                        this::partDone));
        backupQueued();
    }

    private ByteBuf deleteOnBackup() {
        String line = "md " + request.keyToken() + (request.base64() ? " b" : "") + (request.quiet() ? " q" : "")
                + "\r\nmn\r\n";
        // the key token is as the decoder read it, byte for byte (ISO-8859-1)
        return Unpooled.copiedBuffer(line, StandardCharsets.ISO_8859_1);
    }

    /** The client's bytes for the server: the line, an ms value and its CRLF, then mn. */
    private ByteBuf encode() {
        return encode(request.line());
    }

    /** What the backup gets after the primary stored a set: the same ms, or the set the request names. */
    private ByteBuf encodeMirror() {
        return encode(request.mirrorLine() != null ? request.mirrorLine() : request.line());
    }

    private ByteBuf encode(ByteBuf line) {
        CompositeByteBuf b = ctx.alloc().compositeBuffer(4);
        b.addComponent(true, line.retainedDuplicate());
        if (request.value() != null) {
            b.addComponent(true, request.value().retainedDuplicate());
            b.addComponent(true, Unpooled.wrappedBuffer(new byte[] {'\r', '\n'}));
        }
        b.addComponent(true, MN.duplicate());
        return b;
    }

    /** What a client gets for a miss: EN, or silence from a quiet mg. */
    private ByteBuf miss() {
        return Unpooled.copiedBuffer(request.quiet() ? "" : "EN\r\n", StandardCharsets.US_ASCII);
    }

    /** EN, or silence from a quiet mg. */
    private boolean isMiss(ByteBuf answer) {
        return answer.readableBytes() == 0 && request.quiet() || startsWith(answer, "EN");
    }

    /** HD or a value (VA), or silence from a quiet write (its HD suppressed). */
    private boolean succeeded(ByteBuf answer) {
        return answer.readableBytes() == 0 && request.quiet() || startsWith(answer, "HD") || startsWith(answer, "VA");
    }

    private static boolean startsWith(ByteBuf b, String prefix) {
        if (b.readableBytes() < prefix.length()) {
            return false;
        }
        for (int i = 0; i < prefix.length(); i++) {
            if (b.getByte(b.readerIndex() + i) != prefix.charAt(i)) {
                return false;
            }
        }
        return true;
    }
}
