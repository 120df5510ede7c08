package io.jmagent.backend;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the proxy believes about one server, shared by every event loop (lock-free).
 *
 * <ul>
 *   <li>{@code UP}: reads and writes go to it.</li>
 *   <li>{@code DOWN}: after {@code failureLimit} consecutive failures (refused, timed out, broken).
 *       Nothing is sent to it; {@link HealthChecker} probes it in the background.</li>
 *   <li>{@code RECOVERING}: a probe reached it again. Writes go to it, reads do not, while the keys
 *       written elsewhere during its absence are deleted from it (or it is flushed, see
 *       {@link HealthChecker}); then it is UP.</li>
 * </ul>
 *
 * <p>The <em>stale keys</em> are the keys whose write did not reach this server (it was down, or the
 * write failed or timed out, so it may or may not have applied): their value here may be old, so
 * no read takes them from this server, even while it is UP, until {@link HealthChecker} has
 * deleted them from it. The set is bounded ({@code maxStaleKeys}); past the bound it overflows:
 * any key may be stale, no read takes any key from it, and only a flush (or a restart: an empty
 * new process) makes it readable again.
 */
public final class ServerHealth {

    private static final Logger log = LoggerFactory.getLogger(ServerHealth.class);

    public enum State {
        UP,
        DOWN,
        RECOVERING
    }

    private final ServerAddress server;
    private final String role;
    private volatile int failureLimit;
    private volatile int maxStaleKeys;
    private final AtomicReference<State> state = new AtomicReference<>(State.UP);
    private final AtomicInteger consecutiveFailures = new AtomicInteger();
    /** Bumped when the server comes back: connections forget their reconnect backoff. */
    private final AtomicLong generation = new AtomicLong();
    /** Stale key to the mark of its latest failed write (a number from {@code marks}). */
    private final ConcurrentHashMap<String, Long> staleKeys = new ConcurrentHashMap<>();

    private final AtomicLong marks = new AtomicLong();
    /** Marks of former copies ({@link #markFormerCopy}): negative, apart from {@code marks}. */
    private final AtomicLong formerCopyMarks = new AtomicLong();
    /** Stale keys whose copy here was rebuilt from the other copy, untrusted ({@link #markUncertain}). */
    private final ConcurrentHashMap<String, UncertainCopy> uncertainCopies = new ConcurrentHashMap<>();
    /** Mirrors sent here and not answered yet (a figure for stats: which keys they hold is the replica's business). */
    private final AtomicInteger mirrorsInFlight = new AtomicInteger();
    /** Immediate flush_alls sent here and not answered yet: until then any key may be older than the flush. */
    private final AtomicInteger flushesInFlight = new AtomicInteger();

    private final AtomicLong flushesSent = new AtomicLong();
    /** How many stale marks were ever removed (a key cleaned, refilled, rewritten here, forgotten). */
    private final AtomicLong unmarks = new AtomicLong();
    /** 0, or the mark at which the stale set last overflowed (a key could not be remembered). */
    private final AtomicLong overflowMark = new AtomicLong();
    /** {@code marks} when the current recovery began: later marks are writes that missed the returned server. */
    private volatile long recoveryCutoff;
    /** Which recovery is under way (one more at each {@link #beginRecovery}), for {@link #finishRecovery}. */
    private final AtomicLong recoveries = new AtomicLong();

    private final AtomicLong downTransitions = new AtomicLong();
    private final AtomicLong connectionsOpened = new AtomicLong();
    private volatile String lastFailure = "";
    /** Identity of the process last seen by a probe: pid and the wall-clock second it started. */
    private volatile long seenPid = -1;

    private volatile long seenStartSecond = -1;
    private volatile boolean speaksMeta = true;
    /**
     * {@code --shared-farm}: how long after any failure this server is not read (0: never held).
     * Another proxy may have called it DOWN on that fault and written around it; that proxy
     * flushes it when it sees it return, within this time ({@link HealthChecker}).
     */
    private volatile long readHoldNanos;
    /** 0, or the System.nanoTime() until which reads skip this server after a failure ({@link #readHoldNanos}). */
    private final AtomicLong readsHeldUntil = new AtomicLong();

    private final ServerStats stats = new ServerStats();

    public ServerHealth(ServerAddress server, String role, int failureLimit, int maxStaleKeys) {
        this.server = server;
        this.role = role;
        this.failureLimit = failureLimit;
        this.maxStaleKeys = maxStaleKeys;
    }

    public ServerAddress server() {
        return server;
    }

    public String role() {
        return role;
    }

    /** The traffic the proxy sends this server: requests, errors, latency. */
    public ServerStats stats() {
        return stats;
    }

    public State state() {
        return state.get();
    }

    /** UP, and not held from reads after a failure ({@link #holdReadsAfterFailures}). */
    public boolean readable() {
        return state.get() == State.UP && readsHeldUntil.get() == 0;
    }

    /**
     * Over a farm that other proxies share: after any failure (a timeout, a refused connection, a
     * failed probe), reads skip this server for {@code nanos} ({@link #readHoldNanos}); writes do not.
     */
    void holdReadsAfterFailures(long nanos) {
        readHoldNanos = nanos;
    }

    /** Whether reads skip this server after a recent failure ({@link #holdReadsAfterFailures}). */
    public boolean readsHeld() {
        return readsHeldUntil.get() != 0;
    }

    /** Ends a hold on reads whose time is over (each probe asks; no read pays for the clock). */
    void releaseExpiredReadHold() {
        long until = readsHeldUntil.get();
        if (until != 0 && System.nanoTime() - until >= 0 && readsHeldUntil.compareAndSet(until, 0)) {
            if (state.get() == State.UP) {
                log.info(
                        "{} server {} read again (no failure for {} ms)",
                        role,
                        server,
                        TimeUnit.NANOSECONDS.toMillis(readHoldNanos));
            }
        }
    }

    public boolean writable() {
        return state.get() != State.DOWN;
    }

    public long generation() {
        return generation.get();
    }

    public long downTransitions() {
        return downTransitions.get();
    }

    /** Connections the proxy opened to this server so far, over every event loop and every reload. */
    public long connectionsOpened() {
        return connectionsOpened.get();
    }

    void connectionOpened() {
        connectionsOpened.incrementAndGet();
    }

    /** A reload kept this server but may have changed how it is judged. */
    void reconfigure(int failureLimit, int maxStaleKeys) {
        this.failureLimit = failureLimit;
        this.maxStaleKeys = maxStaleKeys;
    }

    public String lastFailure() {
        return lastFailure;
    }

    /** memcached older than 1.6.10 has no stable meta commands; the probe finds out from {@code version}. */
    public boolean speaksMeta() {
        return speaksMeta;
    }

    public void recordSuccess() {
        if (consecutiveFailures.get() != 0) {
            consecutiveFailures.set(0);
        }
    }

    public void recordFailure(String reason) {
        lastFailure = reason;
        long hold = readHoldNanos;
        if (hold > 0) {
            long until = System.nanoTime() + hold;
            readsHeldUntil.set(until == 0 ? 1 : until);
        }
        if (consecutiveFailures.incrementAndGet() >= failureLimit) {
            markDown(reason);
        }
    }

    void markDown(String reason) {
        State before = state.getAndSet(State.DOWN);
        if (before != State.DOWN) {
            downTransitions.incrementAndGet();
            log.info("{} server {} is DOWN ({}); probing it in the background", role, server, reason);
        }
    }

    boolean beginRecovery() {
        // marks up to here were made while it was down, before any write could reach it again
        long cutoff = marks.get();
        if (state.compareAndSet(State.DOWN, State.RECOVERING)) {
            recoveryCutoff = cutoff;
            recoveries.incrementAndGet();
            log.info("{} server {} answers again; cleaning stale keys before it serves reads", role, server);
            return true;
        }
        return false;
    }

    /** The recovery under way now ({@link #finishRecovery}). */
    long recovery() {
        return recoveries.get();
    }

    /**
     * Ends recovery {@code recovery} ({@link #recovery}): UP, unless the server went DOWN (or
     * began another recovery) meanwhile.
     */
    boolean finishRecovery(long recovery, String how) {
        if (recoveries.get() != recovery || state.get() != State.RECOVERING) {
            return false;
        }
        markUp(how);
        return true;
    }

    void markUp(String how) {
        consecutiveFailures.set(0);
        generation.incrementAndGet();
        if (state.getAndSet(State.UP) != State.UP) {
            log.info("{} server {} is UP ({})", role, server, how);
        }
    }

    /**
     * Remembers that {@code key}'s latest write may not be on this server. Past {@code maxStaleKeys}
     * the set overflows: from then on any key may be stale here (see {@link #isStale}).
     */
    public void markStale(byte[] key) {
        String k = new String(key, StandardCharsets.ISO_8859_1);
        uncertainCopies.remove(k); // a write missed it: no longer just uncertain
        long mark = marks.incrementAndGet();
        if (staleKeys.size() < maxStaleKeys || staleKeys.containsKey(k)) {
            staleKeys.put(k, mark);
        } else if (overflowMark.getAndSet(mark) == 0) {
            log.warn(
                    "{} server {}: more than {} stale keys; no key is read from it until it is flushed or"
                            + " restarted",
                    role,
                    server,
                    maxStaleKeys);
        }
    }

    /**
     * Marks {@code key} stale here because this server owned it in a former ring and a write of it
     * now goes elsewhere (routing's FormerRings); returns the mark, for {@link #formerCopyGone}.
     * Unlike {@link #markStale} it is not counted in {@link #staleMarks}: the server does not own
     * the key in the ring in force, so no read of it here can be in flight but one racing a ring
     * change, which may answer either value. Reads that saw the key stale when sent drop its hit
     * whatever happened since.
     */
    public long markFormerCopy(byte[] key) {
        String k = new String(key, StandardCharsets.ISO_8859_1);
        if (staleKeys.size() >= maxStaleKeys && !staleKeys.containsKey(k)) {
            markStale(key); // overflows, as any mark past the bound does
            return 0;
        }
        uncertainCopies.remove(k);
        long mark = formerCopyMarks.decrementAndGet(); // negative: never equal to a counted mark
        staleKeys.put(k, mark);
        return mark;
    }

    /** The server said {@code key} is gone: unmarked, unless marked again since {@code mark} (not counted in {@link #unmarks}). */
    public void formerCopyGone(byte[] key, long mark) {
        if (mark != 0) {
            staleKeys.remove(new String(key, StandardCharsets.ISO_8859_1), mark);
        }
    }

    /** Where an uncertain copy came from: the source's DOWN transitions then, and the copy's stale mark. */
    private record UncertainCopy(ServerHealth source, long sourceDowns, long mark) {}

    /**
     * The key's copy here was just rebuilt from {@code source}'s copy (an {@code add}, which never
     * replaces a copy written meanwhile) but cannot be trusted: a write of the key overlapped the
     * rebuild. It is stale like any other ({@link #markStale}), with one difference: should the
     * source's copy be lost before cleaning refilled this one (its server goes DOWN), this copy is
     * the best there is, and cleaning keeps it ({@link #adoptUncertain}) rather than delete it.
     */
    public void markUncertain(byte[] key, ServerHealth source) {
        markStale(key);
        String k = new String(key, StandardCharsets.ISO_8859_1);
        Long mark = staleKeys.get(k);
        if (mark != null) {
            uncertainCopies.put(k, new UncertainCopy(source, source.downTransitions(), mark));
        }
    }

    /** Whether {@code key}'s copy here is uncertain ({@link #markUncertain}) and nothing marked it stale since. */
    public boolean uncertain(byte[] key) {
        String k = new String(key, StandardCharsets.ISO_8859_1);
        UncertainCopy u = uncertainCopies.get(k);
        return u != null && Long.valueOf(u.mark()).equals(staleKeys.get(k));
    }

    /**
     * Trusts {@code key}'s uncertain copy here again if it was rebuilt from {@code lost}, whose
     * server went DOWN since (its copy is gone or stale): the best copy left, from which the other
     * is refilled. Returns whether it did.
     */
    public boolean adoptUncertain(byte[] key, ServerHealth lost) {
        String k = new String(key, StandardCharsets.ISO_8859_1);
        UncertainCopy u = uncertainCopies.get(k);
        if (u == null || u.source() != lost || lost.downTransitions() == u.sourceDowns()) {
            return false;
        }
        uncertainCopies.remove(k, u);
        if (!staleKeys.remove(k, u.mark())) {
            return false; // marked again since
        }
        unmarks.incrementAndGet();
        return true;
    }

    /**
     * Whether this server's copy of {@code key} may be older than its latest write: a read must not
     * take it. True for every key while the stale set overflowed. A hash lookup only when the set is
     * non-empty.
     */
    public boolean isStale(byte[] key) {
        if (overflowMark.get() != 0 || flushesInFlight.get() != 0) {
            return true;
        }
        if (staleKeys.isEmpty()) {
            return false;
        }
        return staleKeys.containsKey(new String(key, StandardCharsets.ISO_8859_1));
    }

    /** False when no key at all is stale here: reads need not ask {@link #isStale} key by key. */
    public boolean mayHoldStaleKeys() {
        return overflowMark.get() != 0 || flushesInFlight.get() != 0 || !staleKeys.isEmpty();
    }

    /** A mirror is sent here: counted until {@link #mirrorLanded}. */
    public void mirrorSent() {
        mirrorsInFlight.incrementAndGet();
    }

    /** A mirror {@link #mirrorSent} announced was answered or failed. */
    public void mirrorLanded() {
        mirrorsInFlight.decrementAndGet();
    }

    /**
     * A flush_all without delay is sent here: until {@link #flushAnswered} every key reads as stale
     * (a read could overtake the flush and find, or write back, what the client just flushed).
     */
    public void flushSent() {
        flushesSent.incrementAndGet();
        flushesInFlight.incrementAndGet();
    }

    /**
     * How many flush_all were ever sent here, or -1 while one is on its way: a copy made around a
     * flush may hold what the flush removed.
     */
    public long flushesSent() {
        return flushesInFlight.get() != 0 ? -1 : flushesSent.get();
    }

    /**
     * The flush {@link #flushSent} announced was answered or failed. {@code readable}: the server
     * said OK (or there is nothing to read around it); if not, it may still hold everything, and
     * {@link #missedFlush} keeps reads away from it.
     */
    public void flushAnswered(boolean readable) {
        if (!readable) {
            missedFlush();
        }
        flushesInFlight.decrementAndGet();
    }

    /**
     * A flush_all did not reach this server (down, refused, failed): any key it holds may be older
     * than the flush, so no key is read from it until it is flushed or restarted, as after an
     * overflow of its stale set (a returning server is flushed, not cleaned).
     */
    public void missedFlush() {
        long mark = marks.incrementAndGet();
        if (overflowMark.getAndSet(mark) == 0) {
            log.warn(
                    "{} server {} missed a flush_all; no key is read from it until it is flushed or restarted",
                    role,
                    server);
        }
    }

    /** Mirrors on their way here. */
    public int mirrorsInFlight() {
        return mirrorsInFlight.get();
    }

    /** A stale key as remembered at one moment: {@code mark} tells a later failed write apart. */
    record StaleKey(String key, long mark) {}

    /** Up to {@code max} stale keys, left in the set (reads keep treating them as stale). */
    List<StaleKey> staleKeys(int max) {
        List<StaleKey> taken = new ArrayList<>(Math.min(max, staleKeys.size()));
        for (Map.Entry<String, Long> e : staleKeys.entrySet()) {
            if (taken.size() >= max) {
                break;
            }
            taken.add(new StaleKey(e.getKey(), e.getValue()));
        }
        return taken;
    }

    /**
     * The server confirmed that {@code k} is gone from it (DELETED or NOT_FOUND): forgets it, unless
     * a write failed for it again since {@code k} was taken (a newer mark, which stays).
     */
    void cleaned(StaleKey k) {
        unmarks.incrementAndGet();
        staleKeys.remove(k.key(), k.mark());
        uncertainCopies.computeIfPresent(k.key(), (key, u) -> u.mark() == k.mark() ? null : u);
    }

    /**
     * How many stale marks were ever made here: a read that saw the same number when it was sent
     * and when answered knows no write to this server failed meanwhile (a mark cleaned in between
     * could otherwise go unseen).
     */
    public long staleMarks() {
        return marks.get();
    }

    /**
     * How many times stale marks were removed here. A reply to a read sent while a key was stale,
     * or while a mark was made, is not trusted once a mark was removed since it was sent: the
     * copy it read may predate the cleaning that removed the mark.
     */
    public long unmarks() {
        return unmarks.get();
    }

    /** The mark of {@code key}'s latest failed write here, 0 if it is not stale. */
    public long staleMark(byte[] key) {
        if (staleKeys.isEmpty()) {
            return 0;
        }
        Long mark = staleKeys.get(new String(key, StandardCharsets.ISO_8859_1));
        return mark == null ? 0 : mark;
    }

    /**
     * A write of {@code key} that only this server took (its primary was down or failed) has
     * succeeded here: this copy is the latest, unless a write of it failed since {@code mark}
     * ({@link #staleMark} when the write was sent), which keeps the key stale.
     */
    public void writtenHere(byte[] key, long mark) {
        if (mark != 0) {
            unmarks.incrementAndGet();
            String k = new String(key, StandardCharsets.ISO_8859_1);
            staleKeys.remove(k, mark);
            uncertainCopies.computeIfPresent(k, (x, u) -> u.mark() == mark ? null : u);
        }
    }

    boolean hasStaleKeys() {
        return !staleKeys.isEmpty();
    }

    public int staleKeyCount() {
        return staleKeys.size();
    }

    /** Whether the stale set overflowed: which keys are stale here is unknown. */
    public boolean staleOverflow() {
        return overflowMark.get() != 0;
    }

    /**
     * A {@code flush_all} is about to be sent to this server. While the set overflowed, it empties
     * the set (the flush makes it moot, and a write failing from now on must find room) and keeps
     * the overflow until {@link #flushed} confirms the flush. Returns the token for {@link #flushed}.
     */
    public long flushStarting() {
        long token = overflowMark.get();
        if (token != 0) {
            forgetMarksUpTo(marks.get());
        }
        return token;
    }

    /** Forgets the stale keys marked up to {@code cutoff}; a write failing meanwhile keeps its mark. */
    private void forgetMarksUpTo(long cutoff) {
        unmarks.incrementAndGet();
        staleKeys.values().removeIf(m -> m <= cutoff);
        uncertainCopies.values().removeIf(u -> u.mark() <= cutoff);
    }

    /** The server answered OK to the flush_all begun with {@code token}: no unknown stale key is left. */
    public void flushed(long token) {
        if (token != 0 && overflowMark.compareAndSet(token, 0)) {
            log.info("{} server {} was flushed; reads from it resume", role, server);
        }
    }

    /**
     * A new process, empty: nothing remembered about the old one's values matters. Keys marked
     * since its recovery began (writes that missed the new process) stay stale.
     */
    void forgetStaleKeys() {
        long cutoff = recoveryCutoff;
        overflowMark.updateAndGet(m -> m <= cutoff ? 0 : m);
        forgetMarksUpTo(cutoff);
    }

    /**
     * Records the identity a probe saw and says whether it is a different process than the one
     * seen before (a restart: it came back empty). Unknown before the first probe.
     */
    Identity observe(long pid, long uptimeSeconds, long nowSeconds, boolean meta) {
        speaksMeta = meta;
        long startSecond = nowSeconds - uptimeSeconds;
        Identity result;
        if (seenPid < 0) {
            result = Identity.UNKNOWN;
        } else if (pid != seenPid || Math.abs(startSecond - seenStartSecond) > 2) {
            result = Identity.RESTARTED;
        } else {
            result = Identity.SAME_PROCESS;
        }
        seenPid = pid;
        seenStartSecond = startSecond;
        return result;
    }

    enum Identity {
        UNKNOWN,
        SAME_PROCESS,
        RESTARTED
    }

    @Override
    public String toString() {
        return role + " " + server + " " + state.get();
    }
}
