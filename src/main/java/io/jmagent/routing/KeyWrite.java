package io.jmagent.routing;

import io.jmagent.backend.ReplyCallback;
import io.jmagent.backend.ServerHealth;
import io.jmagent.protocol.ArithmeticRequest;
import io.jmagent.protocol.DeleteRequest;
import io.jmagent.protocol.ReplyShape;
import io.jmagent.protocol.Request;
import io.jmagent.protocol.ServerReply;
import io.jmagent.protocol.StoreRequest;
import io.jmagent.protocol.TextReplies;
import io.jmagent.protocol.TouchRequest;
import io.jmagent.replica.KeyVersions;
import io.jmagent.replica.SessionWrites;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import java.nio.charset.StandardCharsets;
import java.util.function.Consumer;

/**
 * One write (set, add, replace, append, prepend, cas, delete, incr, decr, touch) to its key's
 * primary, mirrored to the key's backup (the mirror policy of each command is in
 * {@link MirrorPolicy}). The client gets the primary's answer as soon as it arrives; the mirror
 * is off that path. From its start until every copy it changes has answered (or been marked
 * stale), the write holds its key's ticket in {@link KeyVersions}: no read trusts the key's backup
 * copy meanwhile.
 *
 * <p>When the primary is down or fails, the backup takes the write and its answer goes to the
 * client, and the key is remembered as stale on the primary (cleaned before it serves reads
 * again). A write whose result depends on what the copy holds (anything but set, delete and
 * touch) does not go to a primary that holds the key stale either: the backup's copy is the
 * truth. A mirror that fails is counted and its key remembered as stale on the backup.
 * Lives on the client's event loop.
 */
final class KeyWrite {

    private final Router router;
    private final Router.RouteContext ctx;
    private final Request request;
    private final byte[] key;
    private final ReplySink sink;
    private final int primary;
    private final int backup;
    private final MirrorPolicy policy;
    private final KeyVersions versions;
    private final int slot;
    /** The key's version right after this write started: {@link SessionWrites#onlyOwnWritesSince}. */
    private final long startStamp;
    /** The session's own count right after this write started: {@link SessionWrites#onlyOwnWritesSince}. */
    private final long ownStamp;
    /** The session's changes to the key's backup when this write started ({@link SessionWrites#backupSends}). */
    private final long sendsAtStart;
    /** The key's order epoch when this write started ({@link KeyVersions#noOrderedChangeSince}). */
    private final long orderStamp;
    /** A mirror sent once the primary answered: no change of the session reached the backup in between. */
    private boolean mirrorInOrder;
    /** The backup's stale mark for the key when the write began (0: not stale). */
    private final long backupStaleMark;
    /** The backup's copy could be trusted when the write began: it may answer for a primary that lost the key. */
    private final boolean backupTrusted;
    /**
     * The backup's copy held every write of the key when this one began: trusted, and no write of
     * another session on its way to it (the session's own reach it in order). Only then may it take a write
     * whose result depends on what it holds (incr, append...) in place of the primary.
     */
    private final boolean backupCurrent;

    /** Requests of this write not answered yet, plus one while it is being started; the ticket is held until 0. */
    private int parts = 1;

    private boolean answered;
    private boolean primaryAnswered;
    private boolean primaryFailed;
    /** A counter's primary answer, kept until the backup's is known. */
    private ByteBuf primaryLine;

    private boolean backupDone;
    private ByteBuf backupLine;
    private String backupFailure;
    /** A second reference to the value, kept for a mirror that is sent after the primary answers. */
    private ByteBuf heldValue;
    /** Every change this write makes to the backup is queued on the session's connection ({@link SessionWrites}). */
    private boolean queuedOnBackup;
    /** A delete over a shared farm went to the primary a second time ({@link #deleteFromPrimaryAgain}). */
    private boolean deletedTwice;

    private KeyWrite(Router router, Router.RouteContext ctx, Request request, byte[] key, ReplySink sink, int primary) {
        this.router = router;
        this.ctx = ctx;
        this.request = request;
        this.key = key;
        this.sink = HeldReply.of(router, sink);
        this.primary = primary;
        this.backup = router.backupFor(key);
        this.policy = MirrorPolicy.of(request);
        this.versions = router.versions();
        this.slot = versions.slotOf(key);
        boolean othersDone = ctx.writes().onlyOwnInFlight(versions, slot);
        this.ownStamp = ctx.writes().writeStarted(versions, slot, commutes());
        this.startStamp = versions.stamp(slot);
        this.orderStamp = versions.orderStamp(slot);
        this.sendsAtStart = ctx.writes().backupSends(slot);
        ServerHealth bh = router.backups().health(backup);
        if (!bh.writable()) {
            bh.markStale(key); // it misses this write: a write that starts meanwhile must not trust it
        }
        this.backupStaleMark = bh.staleMark(key);
        this.backupTrusted = bh.readable() && !bh.isStale(key);
        this.backupCurrent = backupTrusted && othersDone;
    }

    static void start(Router router, Router.RouteContext ctx, Request request, byte[] key, ReplySink sink) {
        int natural = router.ring().serverFor(key);
        int primary = router.primaryFor(key);
        if (primary != natural) {
            // auto-eject: the write lands elsewhere, so the natural owner's copy goes stale
            router.primaries().health(natural).markStale(key);
        }
        ServerHealth health = router.primaries().health(primary);
        if (!router.hasBackups()) {
            withoutBackup(router, ctx, request, key, sink, health, primary);
            return;
        }
        KeyWrite w = new KeyWrite(router, ctx, request, key, sink, primary);
        if (!health.writable() || (!w.policy.blind() && health.isStale(key))) {
            // down, or its copy is older than the backup's: the backup alone takes the write
            if (!w.policy.blind() && !w.backupCurrent) {
                // its result would rest on a copy that may lack an acknowledged write: not applied
                // anywhere, so the primary's copy misses nothing and stays as trusted as it was
                w.refuse("backend " + health.server() + " down and the key's other copy is not known current");
                return;
            }
            health.markStale(key);
            router.stats().primaryFailover();
            w.primaryFailed = true;
            w.sendToBackup(encode(ctx, request));
            w.backupQueued();
            if (health.writable() && router.answersAfterEveryCopy()) {
                w.parts++;
                Rebuild.dropStaleCopy(router, ctx, key, primary, w::partDone);
            }
        } else {
            w.sendToPrimary(health);
        }
        w.partDone();
    }

    private static void withoutBackup(
            Router router,
            Router.RouteContext ctx,
            Request request,
            byte[] key,
            ReplySink sink,
            ServerHealth health,
            int primary) {
        if (!health.writable()) {
            health.markStale(key);
            release(request);
            sink.reply(Router.serverError("backend " + health.server() + " down"));
            return;
        }
        router.primary(ctx, primary).send(encode(ctx, request), ReplyShape.LINE, new ReplyCallback() {
            @Override
            public void onReply(ServerReply reply) {
                sink.reply(Router.lineOf(reply));
            }

            @Override
            public void onFailure(String reason) {
                health.markStale(key);
                sink.reply(Router.serverError(reason));
            }
        });
    }

    private void sendToPrimary(ServerHealth health) {
        if (policy.mirrorsAtOnce()) {
            ByteBuf second = request instanceof StoreRequest s ? encodeStoreCopy(s) : encode(ctx, request);
            parts++;
            router.primary(ctx, primary).send(encode(ctx, request), ReplyShape.LINE, primaryCallback(health));
            sendToBackup(second);
            if (policy == MirrorPolicy.SAME) {
                backupQueued(); // whatever the primary answers, nothing more goes to the backup
            }
        } else {
            if (request instanceof StoreRequest s) {
                heldValue = s.value().retain();
            }
            parts++;
            router.primary(ctx, primary).send(encode(ctx, request), ReplyShape.LINE, primaryCallback(health));
        }
    }

    private ReplyCallback primaryCallback(ServerHealth health) {
        return new ReplyCallback() {
            @Override
            public void onReply(ServerReply reply) {
                ByteBuf line = Router.lineOf(reply);
                primaryAnswered = true;
                switch (policy) {
                    case SAME -> {
                        releaseBackupLine();
                        answer(line);
                    }
                    case COUNTER -> onCounterFromPrimary(line);
                    case SET_AFTER_STORED -> {
                        releaseBackupLine();
                        if (isStored(line)) {
                            StoreRequest s = (StoreRequest) request;
                            ByteBuf v = heldValue;
                            heldValue = null;
                            mirrorInOrder = ctx.writes().backupSends(slot) == sendsAtStart;
                            sendToBackup(
                                    TextEncoder.store(
                                            ctx.alloc(), StoreRequest.Kind.SET, key, s.flags(), s.exptime(), 0, v),
                                    true);
                            backupQueued();
                        }
                        releaseHeld();
                        answer(line);
                    }
                    case COPY_AFTER_STORED -> onCopyFromPrimary(line);
                }
                partDone();
            }

            @Override
            public void onFailure(String reason) {
                health.markStale(key);
                router.stats().primaryFailover();
                primaryFailed = true;
                if (policy.mirrorsAtOnce()) {
                    if (backupDone) {
                        answerFromBackup();
                    }
                } else if (!policy.blind() && !backupCurrent) {
                    releaseHeld();
                    answer(Router.serverError(reason)); // the backup's copy may lack a write: not applied there
                } else {
                    // the backup has not seen this write yet: it takes it now, and answers
                    sendToBackup(heldValue != null ? encodeHeld() : encode(ctx, request));
                }
                backupQueued(); // the backup's answer is the client's: nothing is rebuilt
                partDone();
            }
        };
    }

    /**
     * append, prepend: once the primary stored, the backup gets the primary's resulting item. A
     * primary that did not store while the backup holds a trusted copy may have lost the key
     * (restarted, evicted): the backup takes the write and answers.
     */
    private void onCopyFromPrimary(ByteBuf line) {
        ServerHealth bh = router.backups().health(backup);
        if (isLine(line, TextReplies.NOT_STORED) && backupTrusted && bh.writable()) {
            line.release();
            primaryFailed = true; // the backup's answer is the client's
            sendToBackup(encodeHeld());
            backupQueued();
            return;
        }
        releaseHeld();
        boolean stored = isStored(line);
        answer(line);
        if (stored) {
            rebuildBackup();
        }
    }

    /**
     * incr, decr, sent to both copies at once. A number from the primary is the answer, and a
     * backup that answered otherwise, or whose copy is stale, is rebuilt from the primary (unless a write the primary missed
     * made its copy stale meanwhile: the backup's is the newer one). The client is answered once
     * both copies hold the number, so that one fault of either cannot lose it; a backup that could
     * not get it makes the answer an error (the increment may have been applied). NOT_FOUND from the primary while
     * the backup, trusted, holds the counter: the primary lost it (restarted, evicted), so the
     * backup's number is the answer and the primary is rebuilt from the backup.
     */
    private void onCounterFromPrimary(ByteBuf line) {
        if (isNumber(line)) {
            // answered once the backup holds the same number: a fault of the primary must not lose it
            primaryLine = line;
        } else if (isLine(line, TextReplies.NOT_FOUND)) {
            primaryLine = line; // answered once the backup's result is known
        } else {
            answer(line); // an error: the backup's copy is left as it is
            releaseBackupLine();
            return;
        }
        counterIfBothDone();
    }

    private void counterIfBothDone() {
        if (primaryLine == null || !backupDone) {
            return;
        }
        ByteBuf p = primaryLine;
        primaryLine = null;
        if (isNumber(p)) {
            boolean same = backupLine != null
                    && (ByteBufUtil.equals(p, backupLine) || isNumber(backupLine) && addedAlike(p, backupLine));
            boolean backupApplied = backupTrusted && backupLine != null && isNumber(backupLine);
            releaseBackupLine();
            boolean primaryBehind = router.primaries().health(primary).isStale(key);
            boolean backupStale = router.backups().health(backup).staleMark(key) != 0;
            if ((!same || backupStale) && backupFailure == null && !primaryBehind) {
                // the backup's copy differed, or is not trusted although it answered alike: one more
                // fault must not lose the number the client gets
                rebuildBackup(backupApplied, holds -> answer(holds ? p : lostWith(p)));
            } else {
                answer(p); // released if the client has its answer already
            }
        } else if (backupLine != null && isNumber(backupLine) && backupTrusted) {
            p.release();
            ByteBuf b = backupLine;
            backupLine = null;
            // answered once the primary holds the counter again, so that the client's next write finds it there
            rebuildPrimary(() -> answer(b));
        } else if (backupFailure != null && backupTrusted) {
            // the primary lost it or never had it; the backup, which may hold it, did not answer
            p.release();
            answer(Router.serverError(backupFailure));
        } else {
            answer(p);
            releaseBackupLine();
        }
    }

    /**
     * Whether the two copies, which answered different numbers, surely hold the same one now: both
     * were alike when this increment started, and since then only increments sent to both copies
     * reached them ({@link KeyVersions#noOrderedChangeSince}), none of which made either copy stale.
     * Such increments commute, unless a decrement stopped at 0 on one copy: neither number is 0.
     */
    private boolean addedAlike(ByteBuf p, ByteBuf b) {
        return backupTrusted
                && !isLine(p, ZERO)
                && !isLine(b, ZERO)
                && versions.noOrderedChangeSince(slot, orderStamp)
                && router.backups().health(backup).staleMark(key) == backupStaleMark;
    }

    /** incr and decr, sent to both copies at once, commute with one another ({@link KeyVersions}). */
    private boolean commutes() {
        return policy == MirrorPolicy.COUNTER;
    }

    /** The backup gets the primary's item, as it is after this write ({@link Rebuild#backupFromPrimary}). */
    private void rebuildBackup() {
        rebuildBackup(false, holds -> {});
    }

    /**
     * The answer to a counter write the primary applied but whose other copy could not get: the
     * counter has one copy, which a fault of the primary would lose, so the increment is not
     * acknowledged (it may have been applied).
     */
    private ByteBuf lostWith(ByteBuf p) {
        p.release();
        return Router.serverError(
                "backend " + router.backups().health(backup).server() + " could not take the counter's second copy");
    }

    /**
     * {@link #rebuildBackup()}, then {@code then} runs. {@code backupApplied}: the trusted backup
     * took this write itself (a counter), so a primary that fails before it is read leaves the
     * backup's copy trusted.
     */
    private void rebuildBackup(boolean backupApplied, Consumer<Boolean> then) {
        parts++;
        Rebuild.backupFromPrimary(
                router,
                ctx,
                key,
                primary,
                backup,
                slot,
                startStamp,
                ownStamp,
                backupStaleMark,
                backupApplied,
                holds -> {
                    then.accept(holds);
                    partDone();
                });
    }

    /** The primary, which lost the key, gets the backup's item back ({@link Rebuild#primaryFromBackup}), then {@code then} runs. */
    private void rebuildPrimary(Runnable then) {
        parts++;
        Rebuild.primaryFromBackup(router, ctx, key, primary, backup, slot, startStamp, ownStamp, () -> {
            then.run();
            partDone();
        });
    }

    private void sendToBackup(ByteBuf encoded) {
        sendToBackup(encoded, false);
    }

    /** {@code late}: a mirror sent once the primary answered ({@link SessionWrites#sentToBackup}). */
    private void sendToBackup(ByteBuf encoded, boolean late) {
        ServerHealth bh = router.backups().health(backup);
        if (!late) {
            ctx.writes().sentToBackup(slot);
        }
        if (!bh.writable()) {
            encoded.release();
            bh.markStale(key);
            if (!primaryFailed) {
                router.stats().mirrorFailure();
            }
            onBackupDone(null, "backup " + bh.server() + " down");
            return;
        }
        parts++;
        ReplyCallback then = new ReplyCallback() {
            @Override
            public void onReply(ServerReply reply) {
                ByteBuf line = Router.lineOf(reply);
                if (TextReplies.startsWith(line, TextReplies.SERVER_ERROR_PREFIX)) {
                    bh.markStale(key);
                    router.stats().mirrorFailure();
                } else if (primaryFailed) {
                    if (replacesWhole(line)) {
                        // the backup alone took the key's latest write: its copy is the one to read
                        bh.writtenHere(key, backupStaleMark);
                    }
                } else if (policy != MirrorPolicy.COUNTER
                        && !((policy.mirrorsAtOnce() || mirrorInOrder)
                                && ctx.writes().onlyOwnWritesSince(versions, slot, startStamp, ownStamp))) {
                    // another write of the key overlapped this one and could have overtaken its mirror:
                    // the backup may have applied the two in the other order than the primary
                    bh.markStale(key);
                }
                onBackupDone(line, null);
                partDone();
            }

            @Override
            public void onFailure(String reason) {
                bh.markStale(key);
                if (!primaryFailed) {
                    router.stats().mirrorFailure();
                }
                onBackupDone(null, reason);
                partDone();
            }
        };
        if (primaryFailed) {
            router.backup(ctx, backup).send(encoded, ReplyShape.LINE, then);
        } else {
            router.mirror(ctx, backup, encoded, ReplyShape.LINE, then);
        }
    }

    /**
     * Whether this write's answer leaves the key exactly as written, whatever the server held
     * before: a set that was stored, a delete (the key is gone either way). Not an append,
     * incr or cas, whose result depends on what was there.
     */
    private boolean replacesWhole(ByteBuf line) {
        if (request instanceof StoreRequest s && s.kind() == StoreRequest.Kind.SET) {
            return isStored(line);
        }
        return request instanceof DeleteRequest
                && (isLine(line, TextReplies.DELETED) || isLine(line, TextReplies.NOT_FOUND));
    }

    private void onBackupDone(ByteBuf line, String failure) {
        backupDone = true;
        backupLine = line;
        backupFailure = failure;
        if (primaryFailed) {
            answerFromBackup();
        } else if (policy == MirrorPolicy.COUNTER) {
            counterIfBothDone();
        } else if (primaryAnswered) {
            releaseBackupLine();
        }
        // otherwise the line is kept: should the primary fail, the backup's answer is the client's
    }

    private void answerFromBackup() {
        if (answered) {
            releaseBackupLine();
            return;
        }
        ByteBuf line = backupLine;
        backupLine = null;
        if (line != null && !policy.blind() && !backupCurrent) {
            // applied to a copy that may not hold yet a write on its way there: its result is no
            // answer (the copy is not stale for it: that write lands there too)
            line.release();
            if (!backupTrusted) {
                router.backups().health(backup).markStale(key); // applied to an older copy
            }
            answer(Router.serverError(
                    "backend " + router.primaries().health(primary).server()
                            + " failed and the key's other copy is not known current"));
            return;
        }
        if (line != null && policy == MirrorPolicy.COUNTER && isLine(line, TextReplies.NOT_FOUND)) {
            // the backup alone does not know the counter: it may have lost it (restarted) while the
            // primary, which did not answer, holds it
            line.release();
            answer(Router.serverError(
                    "backend " + router.primaries().health(primary).server()
                            + " failed and the key's other copy does not hold it"));
            return;
        }
        answer(line != null ? line : Router.serverError(backupFailure));
    }

    /** The write is answered with an error and sent nowhere. */
    private void refuse(String reason) {
        release(request);
        answer(Router.serverError(reason));
        partDone();
    }

    /** From now on this write sends nothing more to the backup: a read the session sends there comes after it. */
    private void backupQueued() {
        if (!queuedOnBackup) {
            queuedOnBackup = true;
            ctx.writes().queued(slot);
        }
    }

    /** One part of the write is done; the last one gives the key's ticket back. */
    private void partDone() {
        if (parts == 1
                && !deletedTwice
                && request instanceof DeleteRequest
                && router.answersAfterEveryCopy()
                && !primaryFailed
                && router.primaries().health(primary).writable()) {
            deleteFromPrimaryAgain();
        }
        if (--parts == 0) {
            releaseBackupLine();
            if (primaryLine != null) {
                primaryLine.release();
                primaryLine = null;
            }
            ctx.writes().writeSettled(versions, slot, queuedOnBackup, commutes());
            HeldReply.settled(sink);
        }
    }

    /**
     * Over a shared farm, a delete both copies answered goes to the primary once more before it is
     * answered: another proxy's write-back of the key (an {@code add} of the value it read from the
     * backup before this delete reached it) may have landed on the primary after the first delete.
     * Whatever lands after this one was added after the backup lost the key, which that proxy
     * checks ({@code Router.confirmWriteBack}).
     */
    private void deleteFromPrimaryAgain() {
        deletedTwice = true;
        ServerHealth health = router.primaries().health(primary);
        parts++;
        Rebuild.deleteOnPrimary(router, ctx, key, primary, gone -> {
            if (!gone) {
                health.markStale(key);
            }
            partDone();
        });
    }

    private void answer(ByteBuf line) {
        if (answered) {
            line.release();
            return;
        }
        answered = true;
        sink.reply(line);
    }

    private void releaseBackupLine() {
        if (backupLine != null) {
            backupLine.release();
            backupLine = null;
        }
    }

    private void releaseHeld() {
        if (heldValue != null) {
            heldValue.release();
            heldValue = null;
        }
    }

    private ByteBuf encodeHeld() {
        StoreRequest s = (StoreRequest) request;
        ByteBuf v = heldValue;
        heldValue = null;
        return TextEncoder.store(ctx.alloc(), s.kind(), key, s.flags(), s.exptime(), s.cas(), v);
    }

    /** A second encoding of a store request, sharing its value (one more reference). */
    private ByteBuf encodeStoreCopy(StoreRequest s) {
        return TextEncoder.store(
                ctx.alloc(),
                s.kind(),
                key,
                s.flags(),
                s.exptime(),
                s.cas(),
                s.value().retain());
    }

    private static final byte[] ZERO = "0\r\n".getBytes(StandardCharsets.US_ASCII);

    private static boolean isStored(ByteBuf line) {
        return isLine(line, TextReplies.STORED);
    }

    private static boolean isLine(ByteBuf line, byte[] expected) {
        return line.readableBytes() == expected.length && TextReplies.startsWith(line, expected);
    }

    /** An incr/decr result: digits. */
    private static boolean isNumber(ByteBuf line) {
        if (!line.isReadable()) {
            return false;
        }
        byte first = line.getByte(line.readerIndex());
        return first >= '0' && first <= '9';
    }

    static ByteBuf encode(Router.RouteContext ctx, Request r) {
        if (r instanceof StoreRequest s) {
            return TextEncoder.store(ctx.alloc(), s);
        } else if (r instanceof DeleteRequest d) {
            return TextEncoder.delete(ctx.alloc(), d);
        } else if (r instanceof ArithmeticRequest a) {
            return TextEncoder.arithmetic(ctx.alloc(), a);
        } else if (r instanceof TouchRequest t) {
            return TextEncoder.touch(ctx.alloc(), t);
        }
        throw new IllegalArgumentException("not a key write: " + r);
    }

    private static void release(Request r) {
        if (r instanceof StoreRequest s) {
            s.release();
        }
    }
}
