package io.jmagent.routing;

import io.jmagent.backend.Farm;
import io.jmagent.backend.ReplyCallback;
import io.jmagent.backend.ServerConnection;
import io.jmagent.backend.ServerConnections;
import io.jmagent.backend.ServerHealth;
import io.jmagent.metrics.ProxyStats;
import io.jmagent.protocol.ArithmeticRequest;
import io.jmagent.protocol.DeleteRequest;
import io.jmagent.protocol.FlushAllRequest;
import io.jmagent.protocol.MetaRequest;
import io.jmagent.protocol.OversizedStoreRequest;
import io.jmagent.protocol.ReplyShape;
import io.jmagent.protocol.Request;
import io.jmagent.protocol.RetrievalRequest;
import io.jmagent.protocol.ServerReply;
import io.jmagent.protocol.StoreRequest;
import io.jmagent.protocol.TextKeys;
import io.jmagent.protocol.TextReplies;
import io.jmagent.protocol.TouchRequest;
import io.jmagent.protocol.VerbosityRequest;
import io.jmagent.replica.KeyVersions;
import io.jmagent.replica.SessionWrites;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.IntPredicate;
import java.util.function.Supplier;

/**
 * Decides where each request goes and how the answer is made: a key's reads and writes go to its
 * primary (ketama over {@code -s}); with a backup farm ({@code -b}), writes are mirrored to the
 * key's backup ({@link KeyWrite}) and reads fall back to it on a primary miss, failure or outage
 * ({@link Retrieval}); without one, {@code autoEject} rehashes a down server's keys over the live
 * servers. flush_all and verbosity go to every server ({@link Broadcast}).
 *
 * <p>Shared by every event loop: its own state is immutable but for the ejection view, an
 * immutable snapshot swapped atomically.
 */
public final class Router {

    /** memcached: an exptime above 30 days is an absolute unix time. */
    private static final int MAX_RELATIVE_EXPTIME = 60 * 60 * 24 * 30;

    private final Farm primaries;
    private final Farm backups;
    private final KetamaRing ring;
    private final KetamaRing backupRing;
    /** Servers in force that owned a key's place in a former ring: they may hold an old copy of it. */
    private final FormerRings.Owners formerPrimaryOwners;

    private final FormerRings.Owners formerBackupOwners;
    private final boolean autoEject;
    private final int writeBackDefaultTtl;
    private final ProxyStats stats;
    private final KeyVersions versions;
    /** {@code --shared-farm}: a write is answered once every copy it changes answered ({@link HeldReply}). */
    private final boolean answersAfterEveryCopy;

    private volatile Ejection ejection;
    /** The same over the servers not readable (DOWN or RECOVERING), for {@link #readPrimaryFor}. */
    private volatile Ejection readEjection;

    public Router(Farm primaries, Farm backups, boolean autoEject, int writeBackDefaultTtl, ProxyStats stats) {
        this(primaries, backups, autoEject, writeBackDefaultTtl, stats, new KeyVersions());
    }

    /** {@code versions}: the write epochs of the keys, kept from the router this one replaces. */
    public Router(
            Farm primaries,
            Farm backups,
            boolean autoEject,
            int writeBackDefaultTtl,
            ProxyStats stats,
            KeyVersions versions) {
        this(primaries, backups, autoEject, writeBackDefaultTtl, stats, versions, false);
    }

    /**
     * {@code sharedFarm}: other proxies write to the same farms ({@code --shared-farm}), so a write
     * is answered only once every copy it changes answered.
     */
    public Router(
            Farm primaries,
            Farm backups,
            boolean autoEject,
            int writeBackDefaultTtl,
            ProxyStats stats,
            KeyVersions versions,
            boolean sharedFarm) {
        this(
                primaries,
                backups,
                autoEject,
                writeBackDefaultTtl,
                stats,
                versions,
                sharedFarm,
                FormerRings.NONE,
                FormerRings.NONE);
    }

    /**
     * {@code formerPrimaries}, {@code formerBackups}: the lists each farm had before, whose
     * servers may still hold copies of keys that moved away from them ({@link FormerRings}).
     */
    public Router(
            Farm primaries,
            Farm backups,
            boolean autoEject,
            int writeBackDefaultTtl,
            ProxyStats stats,
            KeyVersions versions,
            boolean sharedFarm,
            FormerRings formerPrimaries,
            FormerRings formerBackups) {
        this.versions = versions;
        this.primaries = primaries;
        this.backups = backups != null && backups.size() > 0 ? backups : null;
        this.ring = new KetamaRing(primaries.servers());
        this.backupRing = this.backups == null ? null : new KetamaRing(this.backups.servers());
        this.autoEject = autoEject;
        this.answersAfterEveryCopy = sharedFarm && this.backups != null;
        this.writeBackDefaultTtl = writeBackDefaultTtl;
        this.stats = stats;
        this.ejection = new Ejection(new BitSet(), ring, null);
        this.readEjection = ejection;
        this.formerPrimaryOwners = formerPrimaries.against(primaries.servers());
        this.formerBackupOwners =
                this.backups == null ? FormerRings.Owners.NONE : formerBackups.against(this.backups.servers());
    }

    public KetamaRing ring() {
        return ring;
    }

    public Farm primaries() {
        return primaries;
    }

    public Farm backups() {
        return backups;
    }

    ProxyStats stats() {
        return stats;
    }

    /** Whether a write is answered only once every copy it changes answered ({@link HeldReply}). */
    boolean answersAfterEveryCopy() {
        return answersAfterEveryCopy;
    }

    public boolean hasBackups() {
        return backups != null;
    }

    /** The write epochs of the keys: which backup copies a read may trust. */
    public KeyVersions versions() {
        return versions;
    }

    /**
     * Routes one request that needs the servers. {@code sink} receives the reply (for a noreply
     * request, pass {@link ReplySink#DISCARD}). Takes ownership of the request's value.
     */
    public void route(Request request, RouteContext ctx, ReplySink sink) {
        dispatch(request, ctx, new CountedReply(request, stats, true, sink));
    }

    /**
     * Routes a request the proxy makes to finish a client's command (a binary increment that
     * creates its counter): in flight like any other, but not counted as a command of its own.
     */
    public void routeFollowUp(Request request, RouteContext ctx, ReplySink sink) {
        dispatch(request, ctx, new CountedReply(request, stats, false, sink));
    }

    private void dispatch(Request request, RouteContext ctx, ReplySink sink) {
        if (!formerPrimaryOwners.isEmpty() || !formerBackupOwners.isEmpty()) {
            byte[] written = writtenKey(request);
            if (written != null) {
                dropFormerCopies(ctx, written);
            }
        }
        if (request instanceof RetrievalRequest r) {
            Retrieval.start(this, r, ctx, sink);
        } else if (request instanceof StoreRequest r) {
            KeyWrite.start(this, ctx, r, r.key(), sink);
        } else if (request instanceof DeleteRequest r) {
            KeyWrite.start(this, ctx, r, r.key(), sink);
        } else if (request instanceof ArithmeticRequest r) {
            KeyWrite.start(this, ctx, r, r.key(), sink);
        } else if (request instanceof TouchRequest r) {
            KeyWrite.start(this, ctx, r, r.key(), sink);
        } else if (request instanceof MetaRequest r) {
            MetaRoute.start(this, ctx, r, sink);
        } else if (request instanceof OversizedStoreRequest r) {
            oversized(r, ctx, sink);
        } else if (request instanceof FlushAllRequest r) {
            boolean now = r.delay() == null || r.delay() == 0;
            Broadcast.start(this, r.delay() == null ? "flush_all" : "flush_all " + r.delay(), now, ctx, sink);
        } else if (request instanceof VerbosityRequest r) {
            Broadcast.start(this, "verbosity " + Integer.toUnsignedString(r.level()), false, ctx, sink);
        } else {
            throw new IllegalArgumentException("not a routed request: " + request);
        }
    }

    /** The key a request changes (a write, a touch, an mg that touches), or null. */
    private static byte[] writtenKey(Request request) {
        if (request instanceof StoreRequest r) {
            return r.key();
        } else if (request instanceof DeleteRequest r) {
            return r.key();
        } else if (request instanceof ArithmeticRequest r) {
            return r.key();
        } else if (request instanceof TouchRequest r) {
            return r.key();
        } else if (request instanceof MetaRequest r && (r.isWrite() || r.mirrorLine() != null)) {
            return r.key();
        } else if (request instanceof OversizedStoreRequest r && r.kind() == StoreRequest.Kind.SET) {
            return r.key(); // deleted, as memcached drops the old value
        }
        return null;
    }

    /**
     * A write of {@code key} goes to its owners in force only: each server that owned it in a
     * former ring and is still in the farm is told its copy is stale and asked to delete it, so
     * that no later ring change that gives the key back to it reads that copy. A copy not
     * confirmed gone stays marked, and is cleaned by the server's next probe.
     */
    private void dropFormerCopies(RouteContext ctx, byte[] key) {
        long hash = KetamaRing.hash(key);
        formerPrimaryOwners.forEach(
                hash,
                ring.serverForHash(hash),
                s -> dropFormerCopy(ctx, key, primaries.health(s), () -> primary(ctx, s)));
        if (backups != null) {
            formerBackupOwners.forEach(
                    hash,
                    backupRing.serverForHash(hash),
                    s -> dropFormerCopy(ctx, key, backups.health(s), () -> backup(ctx, s)));
        }
    }

    private void dropFormerCopy(
            RouteContext ctx, byte[] key, ServerHealth health, Supplier<ServerConnection> connection) {
        long mark = health.markFormerCopy(key);
        if (!health.writable()) {
            return; // cleaned once it is back
        }
        stats.formerCopyDelete();
        connection.get().send(TextEncoder.deleteAnyKey(ctx.alloc(), key), ReplyShape.LINE, new ReplyCallback() {
            @Override
            public void onReply(ServerReply reply) {
                boolean gone = TextEncoder.gone(reply);
                reply.release();
                if (gone) {
                    health.formerCopyGone(key, mark); // it holds nothing of the key: as new as every write
                }
            }

            @Override
            public void onFailure(String reason) {
                // still marked: the next probe deletes it
            }
        });
    }

    /**
     * memcached answers an oversized value with SERVER_ERROR and, for set, drops the key's old
     * value; the proxy swallowed the value, so it repeats the drop as a delete.
     */
    private void oversized(OversizedStoreRequest r, RouteContext ctx, ReplySink sink) {
        if (r.kind() == StoreRequest.Kind.SET) {
            KeyWrite.start(this, ctx, new DeleteRequest(r.key(), true), r.key(), ReplySink.DISCARD);
        }
        sink.reply(TextReplies.TOO_LARGE_BUFFER.duplicate());
    }

    /**
     * The primary that serves {@code key} now: its ketama server, or, with auto-eject and no
     * backup, the live server ketama picks when its own is down.
     */
    int primaryFor(byte[] key) {
        int natural = ring.serverForHash(KetamaRing.hash(key));
        if (!autoEject || backups != null || primaries.health(natural).writable()) {
            return natural;
        }
        return currentEjection().serverFor(key, natural);
    }

    /**
     * True when the servers that take a write of {@code key} now (its primary, and its backup if
     * there is a backup farm) speak the meta commands, that is memcached 1.6 or later.
     */
    public boolean speaksMeta(byte[] key) {
        return primaries.health(primaryFor(key)).speaksMeta()
                && (backups == null || backups.health(backupFor(key)).speaksMeta());
    }

    int backupFor(byte[] key) {
        return backupRing.serverForHash(KetamaRing.hash(key));
    }

    /**
     * The server a read of {@code key} goes to: {@link #primaryFor}, except with auto-eject (and
     * no backup) while the key's server is back but not cleaned yet (RECOVERING: written, not
     * read) and holds the key stale. Its copy is then older than the one written on the live
     * servers while it was ejected: the read goes where that write went.
     */
    int readPrimaryFor(byte[] key) {
        int p = primaryFor(key);
        if (!autoEject || backups != null) {
            return p;
        }
        ServerHealth h = primaries.health(p);
        if (h.readable() || !h.isStale(key)) {
            return p;
        }
        Ejection e = refreshed(readEjection, i -> !primaries.health(i).readable());
        readEjection = e;
        return e.serverFor(key, p);
    }

    /** The ejection view for the servers down right now, rebuilt when that set changes. */
    private Ejection currentEjection() {
        Ejection e = refreshed(ejection, i -> !primaries.health(i).writable());
        ejection = e;
        return e;
    }

    /** {@code e}, or a new view when the servers {@code out} leaves out are no longer those {@code e} left out. */
    private Ejection refreshed(Ejection e, IntPredicate out) {
        BitSet down = new BitSet();
        for (int i = 0; i < primaries.size(); i++) {
            if (out.test(i)) {
                down.set(i);
            }
        }
        return e.down.equals(down) ? e : Ejection.of(primaries, down);
    }

    /** The ring over the live servers while some are ejected. */
    private record Ejection(BitSet down, KetamaRing liveRing, int[] liveToServer) {
        static Ejection of(Farm farm, BitSet down) {
            List<io.jmagent.backend.ServerAddress> live = new ArrayList<>();
            List<Integer> map = new ArrayList<>();
            for (int i = 0; i < farm.size(); i++) {
                if (!down.get(i)) {
                    live.add(farm.servers().get(i));
                    map.add(i);
                }
            }
            if (live.isEmpty()) {
                return new Ejection(down, null, null);
            }
            return new Ejection(
                    down,
                    new KetamaRing(live),
                    map.stream().mapToInt(Integer::intValue).toArray());
        }

        int serverFor(byte[] key, int natural) {
            return liveRing == null ? natural : liveToServer[liveRing.serverFor(key)];
        }
    }

    ServerConnection primary(RouteContext ctx, int server) {
        return ctx.primaries().connection(server, ctx.sessionId());
    }

    ServerConnection backup(RouteContext ctx, int server) {
        return ctx.backups().connection(server, ctx.sessionId());
    }

    /**
     * Writes a backup hit back to the primary that missed it, with {@code add} so that a newer
     * value written meanwhile is never clobbered, keeping the flags and the remaining TTL. Only a
     * copy no write has touched since {@code stamp} ({@link KeyVersions#unchangedSince}), and only
     * to a primary that does not hold the key stale (its cleaning would race the add). Should a
     * write of another session start before the add is answered, it may have landed after that
     * write (a delete, on another connection): the key is then marked stale there, so that no read
     * takes it. A write of this session comes after the add on the same connection.
     */
    void writeBack(RouteContext ctx, int primary, byte[] key, int slot, long stamp, ServerReply.Value hit) {
        ServerHealth h = primaries.health(primary);
        if (!h.writable() || h.isStale(key) || !versions.unchangedSince(slot, stamp)) {
            return;
        }
        int exptime = exptimeOf(hit);
        if (exptime < 0) {
            return; // expiring this very second
        }
        ByteBuf encoded = TextEncoder.copyStore(
                ctx.alloc(),
                StoreRequest.Kind.ADD,
                key,
                hit.flags(),
                exptime,
                0,
                hit.data().retainedSlice());
        stats.writeBack();
        SessionWrites writes = ctx.writes();
        long backupCas = hit.isMeta() ? hit.cas() : 0;
        primary(ctx, primary).send(encoded, ReplyShape.LINE, new ReplyCallback() {
            @Override
            public void onReply(ServerReply reply) {
                boolean stored = TextEncoder.stored(reply);
                reply.release();
                // a write of the session started after the add was sent reaches the primary after it
                if (stored && !writes.onlyOwnWritesSince(versions, slot, stamp, 0)) {
                    h.markStale(key);
                } else if (stored && answersAfterEveryCopy && backupCas != 0) {
                    confirmWriteBack(ctx, primary, key, backupCas);
                }
            }

            @Override
            public void onFailure(String reason) {
                h.markStale(key); // it may or may not have landed
            }
        });
    }

    /**
     * Over a shared farm, a write-back that landed is checked against its source: another proxy's
     * delete (or write) of the key may have reached the primary before the add and the backup after
     * the read, invisible to this proxy's {@link KeyVersions}. Such a write reaches the primary a
     * second time once both copies answered ({@link KeyWrite}), so an add that landed after it finds
     * the backup's copy changed here: the copy written back is deleted (a miss there reads the
     * backup again). Costs one meta read of the backup per write-back.
     */
    private void confirmWriteBack(RouteContext ctx, int primary, byte[] key, long backupCas) {
        int b = backupFor(key);
        if (!backups.health(b).readable()) {
            dropWriteBack(ctx, primary, key);
            return;
        }
        backup(ctx, b)
                .send(
                        TextEncoder.line(ctx.alloc(), "mg " + TextKeys.metaToken(key) + " c"),
                        ReplyShape.LINE,
                        new ReplyCallback() {
                            @Override
                            public void onReply(ServerReply reply) {
                                boolean same = reply instanceof ServerReply.Line l
                                        && l.is(("HD c" + Long.toUnsignedString(backupCas) + "\r\n")
                                                .getBytes(StandardCharsets.US_ASCII));
                                reply.release();
                                if (!same) {
                                    dropWriteBack(ctx, primary, key);
                                }
                            }

                            @Override
                            public void onFailure(String reason) {
                                dropWriteBack(ctx, primary, key);
                            }
                        });
    }

    private void dropWriteBack(RouteContext ctx, int primary, byte[] key) {
        ServerHealth h = primaries.health(primary);
        Rebuild.deleteOnPrimary(this, ctx, key, primary, gone -> {
            if (!gone) {
                h.markStale(key); // it may still hold the copy written back
            }
        });
    }

    /**
     * The exptime that gives a copy of {@code hit} the TTL it has left: -1 when it expires this very
     * second; the write-back TTL when the server could not tell (a text hit, memcached < 1.6.10).
     */
    int exptimeOf(ServerReply.Value hit) {
        if (!hit.isMeta()) {
            return writeBackDefaultTtl;
        }
        int ttl = hit.ttl();
        if (ttl == 0) {
            return -1;
        }
        return ttl < 0 ? 0 : ttl <= MAX_RELATIVE_EXPTIME ? ttl : (int) (System.currentTimeMillis() / 1000 + ttl);
    }

    /** For fire-and-forget requests whose answer changes nothing. */
    static final ReplyCallback IGNORE = new ReplyCallback() {
        @Override
        public void onReply(ServerReply reply) {
            reply.release();
        }

        @Override
        public void onFailure(String reason) {
            // nothing waits for this answer
        }
    };

    /**
     * Sends a mirror, a write its primary took (or is taking), to backup {@code b}, counted in the
     * backup's mirrors in flight until it is answered. The write's ticket ({@link KeyVersions})
     * keeps the key's backup copy from being read meanwhile. {@code then} sees the answer.
     */
    void mirror(RouteContext ctx, int b, ByteBuf encoded, ReplyShape shape, ReplyCallback then) {
        ServerHealth bh = backups.health(b);
        bh.mirrorSent();
        backup(ctx, b).send(encoded, shape, new ReplyCallback() {
            @Override
            public void onReply(ServerReply reply) {
                try {
                    then.onReply(reply);
                } finally {
                    bh.mirrorLanded();
                }
            }

            @Override
            public void onFailure(String reason) {
                try {
                    then.onFailure(reason);
                } finally {
                    bh.mirrorLanded();
                }
            }
        });
    }

    /**
     * For a write to a backup whose answer changes nothing unless none comes: then it may or may not
     * have applied, the key is stale there and the mirror is counted as failed.
     */
    ReplyCallback staleOnFailure(ServerHealth backup, byte[] key) {
        return new ReplyCallback() {
            @Override
            public void onReply(ServerReply reply) {
                // SERVER_ERROR (out of memory, an item over its -I): the backup kept what it had
                if (reply instanceof ServerReply.Line line
                        && TextReplies.startsWith(line.line(), TextReplies.SERVER_ERROR_PREFIX)) {
                    onFailure(line.text());
                }
                reply.release();
            }

            @Override
            public void onFailure(String reason) {
                backup.markStale(key);
                stats.mirrorFailure();
            }
        };
    }

    /**
     * {@link #staleOnFailure} for the mirror of a write that holds its key's ticket: unless
     * {@code alone} says that no write of the key that could have overtaken it on the way to the
     * backup overlapped it ({@link SessionWrites#onlyOwnWritesSince}),
     * the two may have reached the backup in another order than the primary, and the key is
     * stale there.
     */
    ReplyCallback mirrorLanding(ServerHealth backup, byte[] key, BooleanSupplier alone) {
        ReplyCallback onFailure = staleOnFailure(backup, key);
        return new ReplyCallback() {
            @Override
            public void onReply(ServerReply reply) {
                if (!alone.getAsBoolean()) {
                    backup.markStale(key);
                }
                onFailure.onReply(reply);
            }

            @Override
            public void onFailure(String reason) {
                onFailure.onFailure(reason);
            }
        };
    }

    /** A one-line reply's bytes; a retrieval-shaped reply here would be a server bug. */
    static ByteBuf lineOf(ServerReply reply) {
        if (reply instanceof ServerReply.Line line) {
            return line.line();
        }
        reply.release();
        return Unpooled.wrappedBuffer(TextReplies.serverError("unexpected reply from backend"));
    }

    static ByteBuf serverError(String reason) {
        return Unpooled.wrappedBuffer(TextReplies.serverError(reason));
    }

    /**
     * What a route needs from the session that sent the request: its loop's pools, and its writes
     * queued on its backup connections ({@link SessionWrites}, new with each context: a reload's
     * new pools hold none of the old context's writes).
     */
    public record RouteContext(
            ServerConnections primaries,
            ServerConnections backups,
            long sessionId,
            ByteBufAllocator alloc,
            SessionWrites writes) {

        public RouteContext(
                ServerConnections primaries, ServerConnections backups, long sessionId, ByteBufAllocator alloc) {
            this(primaries, backups, sessionId, alloc, new SessionWrites());
        }
    }
}
