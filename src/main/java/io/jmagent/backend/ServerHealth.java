package io.jmagent.backend;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
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
 * write failed or timed out, so it may or may not have applied): their value here may be old. The
 * set is bounded ({@code maxStaleKeys}); past the bound it overflows and the server must be
 * flushed rather than cleaned key by key, unless it restarted empty.
 */
public final class ServerHealth {

    private static final Logger log = LoggerFactory.getLogger(ServerHealth.class);

    public enum State { UP, DOWN, RECOVERING }

    private final ServerAddress server;
    private final String role;
    private volatile int failureLimit;
    private volatile int maxStaleKeys;
    private final AtomicReference<State> state = new AtomicReference<>(State.UP);
    private final AtomicInteger consecutiveFailures = new AtomicInteger();
    /** Bumped when the server comes back: connections forget their reconnect backoff. */
    private final AtomicLong generation = new AtomicLong();
    private final Set<String> staleKeys = ConcurrentHashMap.newKeySet();
    private final AtomicBoolean staleOverflow = new AtomicBoolean();
    private final AtomicLong downTransitions = new AtomicLong();
    private final AtomicLong connectionsOpened = new AtomicLong();
    private volatile String lastFailure = "";
    /** Identity of the process last seen by a probe: pid and the wall-clock second it started. */
    private volatile long seenPid = -1;
    private volatile long seenStartSecond = -1;
    private volatile boolean speaksMeta = true;
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

    public boolean readable() {
        return state.get() == State.UP;
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

    /** memcached older than 1.6 has no meta commands; the probe finds out from {@code version}. */
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
        if (state.compareAndSet(State.DOWN, State.RECOVERING)) {
            log.info("{} server {} answers again; cleaning stale keys before it serves reads", role, server);
            return true;
        }
        return false;
    }

    void markUp(String how) {
        consecutiveFailures.set(0);
        generation.incrementAndGet();
        if (state.getAndSet(State.UP) != State.UP) {
            log.info("{} server {} is UP ({})", role, server, how);
        }
    }

    /** Remembers that {@code key}'s latest write may not be on this server. */
    public void markStale(byte[] key) {
        if (staleOverflow.get()) {
            return;
        }
        if (staleKeys.size() >= maxStaleKeys) {
            staleOverflow.set(true);
            return;
        }
        staleKeys.add(new String(key, StandardCharsets.ISO_8859_1));
    }

    /** Takes up to {@code max} stale keys out of the set. */
    List<String> takeStaleKeys(int max) {
        List<String> taken = new java.util.ArrayList<>(Math.min(max, staleKeys.size()));
        for (String k : staleKeys) {
            if (taken.size() >= max) {
                break;
            }
            if (staleKeys.remove(k)) {
                taken.add(k);
            }
        }
        return taken;
    }

    boolean hasStaleKeys() {
        return !staleKeys.isEmpty();
    }

    /** Whether the stale set overflowed; clears the mark (and the set, which a flush makes moot). */
    boolean takeOverflow() {
        if (staleOverflow.getAndSet(false)) {
            staleKeys.clear();
            return true;
        }
        return false;
    }

    int staleKeyCount() {
        return staleKeys.size();
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

    enum Identity { UNKNOWN, SAME_PROCESS, RESTARTED }

    @Override
    public String toString() {
        return role + " " + server + " " + state.get();
    }
}
