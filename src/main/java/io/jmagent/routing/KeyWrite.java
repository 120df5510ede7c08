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
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;

/**
 * One write (set, add, replace, append, prepend, cas, delete, incr, decr, touch) to its key's
 * primary, mirrored to the key's backup. The client gets the primary's answer as soon as it
 * arrives; the mirror is off that path. How each command is mirrored, so that the backup never
 * holds a value the primary did not acknowledge:
 *
 * <ul>
 *   <li>set, delete, touch: the same command, sent to both at once.</li>
 *   <li>incr, decr: the same command to both; if the two results differ, the key is deleted
 *       on the backup.</li>
 *   <li>add, replace, cas: after the primary says STORED, a {@code set} of the same value (the
 *       value the primary now holds); nothing otherwise. cas tokens differ per server.</li>
 *   <li>append, prepend: after the primary says STORED, a delete on the backup (its copy may
 *       have differed, so the result cannot be repeated exactly).</li>
 * </ul>
 *
 * When the primary is down or fails, the backup takes the write and its answer goes to the
 * client, and the key is remembered as stale on the primary (cleaned before it serves reads
 * again). A mirror that fails is counted and its key remembered as stale on the backup.
 * Lives on the client's event loop.
 */
final class KeyWrite {

    private enum Mirror { SAME, COMPARE, SET_AFTER_STORED, DELETE_AFTER_STORED }

    private static final byte[] STORED = TextReplies.bytes("STORED\r\n");
    private static final byte[] DELETED = TextReplies.bytes("DELETED\r\n");
    private static final byte[] NOT_FOUND = TextReplies.bytes("NOT_FOUND\r\n");

    private final Router router;
    private final Router.RouteContext ctx;
    private final Request request;
    private final byte[] key;
    private final ReplySink sink;
    private final int backup;
    private final Mirror mirror;

    private boolean answered;
    private boolean primaryAnswered;
    private boolean primaryFailed;
    private ByteBuf primaryLine;
    private boolean backupDone;
    private ByteBuf backupLine;
    private String backupFailure;
    /** {@link Router#reserveMirror} was called for a mirror sent after the primary answers. */
    private boolean mirrorReserved;
    /** A second reference to the value, kept for a mirror that is sent after the primary answers. */
    private ByteBuf heldValue;

    private KeyWrite(Router router, Router.RouteContext ctx, Request request, byte[] key, ReplySink sink,
            int backup) {
        this.router = router;
        this.ctx = ctx;
        this.request = request;
        this.key = key;
        this.sink = sink;
        this.backup = backup;
        this.mirror = mirrorOf(request);
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
            return;
        }
        KeyWrite w = new KeyWrite(router, ctx, request, key, sink, router.backupFor(key));
        if (!health.writable()) {
            health.markStale(key);
            router.stats().primaryFailover();
            w.primaryFailed = true;
            w.sendToBackup(encode(ctx, request));
            return;
        }
        w.sendToPrimary(primary, health);
    }

    private void sendToPrimary(int primary, ServerHealth health) {
        if ((mirror == Mirror.SET_AFTER_STORED || mirror == Mirror.DELETE_AFTER_STORED)
                && request instanceof StoreRequest s) {
            heldValue = s.value().retain();
        }
        if (mirror == Mirror.SET_AFTER_STORED || mirror == Mirror.DELETE_AFTER_STORED) {
            // once the primary answers, the backup's copy is older until the mirror lands
            router.reserveMirror(key);
            mirrorReserved = true;
        }
        if (mirror == Mirror.SAME || mirror == Mirror.COMPARE) {
            ByteBuf second = request instanceof StoreRequest s ? encodeStoreCopy(s) : encode(ctx, request);
            router.primary(ctx, primary).send(encode(ctx, request), ReplyShape.LINE, primaryCallback(health));
            sendToBackup(second);
        } else {
            router.primary(ctx, primary).send(encode(ctx, request), ReplyShape.LINE, primaryCallback(health));
        }
    }

    private ReplyCallback primaryCallback(ServerHealth health) {
        return new ReplyCallback() {
            @Override
            public void onReply(ServerReply reply) {
                ByteBuf line = Router.lineOf(reply);
                primaryAnswered = true;
                if (mirror != Mirror.COMPARE) {
                    releaseBackupLine();
                }
                switch (mirror) {
                    case SAME -> answer(line);
                    case COMPARE -> {
                        primaryLine = line.retainedDuplicate();
                        answer(line);
                        compareIfDone();
                    }
                    case SET_AFTER_STORED -> {
                        if (isStored(line)) {
                            StoreRequest s = (StoreRequest) request;
                            ByteBuf v = heldValue;
                            heldValue = null;
                            sendToBackup(TextEncoder.store(ctx.alloc(), StoreRequest.Kind.SET, key, s.flags(),
                                    s.exptime(), 0, v));
                        }
                        releaseReservation();
                        releaseHeld();
                        answer(line);
                    }
                    case DELETE_AFTER_STORED -> {
                        releaseHeld();
                        if (isStored(line)) {
                            router.stats().backupDelete();
                            sendToBackup(TextEncoder.delete(ctx.alloc(), key));
                        }
                        releaseReservation();
                        answer(line);
                    }
                }
            }

            @Override
            public void onFailure(String reason) {
                health.markStale(key);
                router.stats().primaryFailover();
                primaryFailed = true;
                releaseReservation();
                if (mirror == Mirror.SAME || mirror == Mirror.COMPARE) {
                    if (backupDone) {
                        answerFromBackup();
                    }
                } else {
                    // the backup has not seen this write yet: it takes it now, and answers
                    ByteBuf retry = heldValue != null ? encodeHeld() : encode(ctx, request);
                    sendToBackup(retry);
                }
            }
        };
    }

    private void sendToBackup(ByteBuf encoded) {
        ServerHealth bh = router.backups().health(backup);
        if (!bh.writable()) {
            encoded.release();
            bh.markStale(key);
            releaseReservation();
            if (!primaryFailed) {
                router.stats().mirrorFailure();
            }
            onBackupDone(null, "backup " + bh.server() + " down");
            return;
        }
        long staleMark = bh.staleMark(key);
        ReplyCallback then = new ReplyCallback() {
            @Override
            public void onReply(ServerReply reply) {
                ByteBuf line = Router.lineOf(reply);
                if (TextReplies.startsWith(line, TextReplies.SERVER_ERROR_PREFIX)) {
                    bh.markStale(key);
                    router.stats().mirrorFailure();
                } else if (primaryFailed && replacesWhole(line)) {
                    // the backup alone took the key's latest write: its copy is the one to read
                    bh.writtenHere(key, staleMark);
                }
                onBackupDone(line, null);
            }

            @Override
            public void onFailure(String reason) {
                bh.markStale(key);
                if (!primaryFailed) {
                    router.stats().mirrorFailure();
                }
                onBackupDone(null, reason);
            }
        };
        if (primaryFailed) {
            // the backup alone takes this write, on this connection, in order: nothing can overtake it
            router.backup(ctx, backup).send(encoded, ReplyShape.LINE, then);
        } else {
            boolean reserved = mirrorReserved;
            mirrorReserved = false;
            router.mirror(ctx, backup, key, reserved, encoded, ReplyShape.LINE, then);
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
        return request instanceof DeleteRequest && (TextReplies.startsWith(line, DELETED)
                || TextReplies.startsWith(line, NOT_FOUND));
    }

    private void onBackupDone(ByteBuf line, String failure) {
        backupDone = true;
        backupLine = line;
        backupFailure = failure;
        if (primaryFailed) {
            answerFromBackup();
        } else if (mirror == Mirror.COMPARE) {
            compareIfDone();
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
        answer(line != null ? line : Router.serverError(backupFailure));
    }

    /** incr/decr: a backup whose result differs from the primary's loses the key. */
    private void compareIfDone() {
        if (primaryLine == null || !backupDone) {
            return;
        }
        boolean same = backupLine != null && ByteBufUtil.equals(primaryLine, backupLine);
        if (!same && backupFailure == null) {
            router.stats().backupDelete();
            sendDeleteToBackupQuietly();
        }
        primaryLine.release();
        primaryLine = null;
        releaseBackupLine();
    }

    private void sendDeleteToBackupQuietly() {
        ServerHealth bh = router.backups().health(backup);
        if (bh.writable()) {
            router.mirror(ctx, backup, key, false, TextEncoder.delete(ctx.alloc(), key), ReplyShape.LINE,
                    router.staleOnFailure(bh, key));
        } else {
            bh.markStale(key);
        }
    }

    /** The reserved mirror was not sent (not stored, primary failed, backup down): the key is read again. */
    private void releaseReservation() {
        if (mirrorReserved) {
            mirrorReserved = false;
            router.releaseMirror(key);
        }
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
        return TextEncoder.store(ctx.alloc(), s.kind(), key, s.flags(), s.exptime(), s.cas(), s.value().retain());
    }

    private static boolean isStored(ByteBuf line) {
        return line.readableBytes() == STORED.length && TextReplies.startsWith(line, STORED);
    }

    private static Mirror mirrorOf(Request r) {
        if (r instanceof StoreRequest s) {
            return switch (s.kind()) {
                case SET -> Mirror.SAME;
                case ADD, REPLACE, CAS -> Mirror.SET_AFTER_STORED;
                case APPEND, PREPEND -> Mirror.DELETE_AFTER_STORED;
            };
        }
        if (r instanceof ArithmeticRequest) {
            return Mirror.COMPARE;
        }
        return Mirror.SAME; // delete, touch
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
