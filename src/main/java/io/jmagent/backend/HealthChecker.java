package io.jmagent.backend;

import io.jmagent.backend.ProbeTransport.ProbeLink;
import io.jmagent.protocol.TextKeys;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Probes every server in the background, on its own thread (never an event loop: probes block).
 * A probe is {@code stats} on a fresh connection; it records the server's pid and start time. A
 * failed probe counts as a failure of the server, so an idle dead server is found as well.
 *
 * <p>With a backup farm shared by other proxies ({@code --shared-farm}), a DOWN server whose probe
 * succeeds is flushed before anything reaches it again, and stays RECOVERING (written, not read)
 * for a settling time, then UP ({@link #flushReturning}): what it holds may be older than writes
 * another proxy sent elsewhere, and another proxy may still be writing around it. Otherwise it is brought
 * back in three steps: RECOVERING (writes reach it again, reads do not); clean it; UP once every
 * key it missed was cleaned (until then those keys have one copy, so the server counts as down;
 * later probes leave it alone while refills are under way, and clean again what is left: a key
 * whose write was in flight, a refill not trusted). Cleaning goes over the stale keys recorded while it
 * was away (their value there may be older than the other copy's): each is refilled from its
 * other copy, or deleted when there is none ({@link #cleanStaleKeys}). When that set overflowed
 * its bound, the server is flushed instead, unless the probe shows a new process (restarted, hence
 * empty). Other keys a restarted server lost are read from the backup and written back as reads
 * miss them.
 *
 * <p>A server that is UP and has stale keys (a write or mirror to it failed while it stayed up) is
 * cleaned the same way by each probe, see {@link #cleanWhileUp}.
 */
public final class HealthChecker implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(HealthChecker.class);
    private static final int DELETE_BATCH = 500;
    /** Lets writes that were routed while the server was DOWN land in its stale set before cleaning. */
    private static final long RECOVERY_GRACE_MILLIS = 100;

    private final List<ServerHealth> servers;
    private final boolean cleanLiveServers;
    private final boolean flushReturning;
    private final CountDownLatch firstRound = new CountDownLatch(1);
    private final Duration interval;
    private final ProbeTransport transport;
    private final ScheduledExecutorService executor;
    private final CopyRefill refill;
    /** Servers RECOVERING whose refills are under way, with their {@link ServerHealth#recovery}: not probed meanwhile. */
    private final Map<ServerHealth, Long> recovering = new ConcurrentHashMap<>();
    /**
     * With {@code --shared-farm}: how long a flushed returning server stays RECOVERING, so that every
     * other proxy of the fleet (same probe interval and timeout) has seen it return and flushed it
     * too before this one reads it: two probe intervals and a probe's timeout.
     */
    private final long settleNanos;
    /** Servers flushed on return over a shared farm, to the System.nanoTime() at which they may serve reads. */
    private final Map<ServerHealth, Long> settling = new ConcurrentHashMap<>();

    /**
     * {@code cleanLiveServers}: clean the stale keys of servers that stayed UP (with a backup farm,
     * where reads skip them and they must not linger); without one nothing reads the marks, and a
     * delete could only remove a client's successful retry, so they wait for a DOWN and return.
     * {@code flushReturning}: other proxies share the farms ({@code --shared-farm}); a server that
     * returns without having restarted is flushed ({@link #flushReturning}) rather than cleaned.
     * {@code refill}: where a stale key's other copy is ({@link CopyRefill#NONE} without a backup farm).
     */
    public HealthChecker(
            List<ServerHealth> servers,
            Duration interval,
            Duration timeout,
            boolean cleanLiveServers,
            boolean flushReturning,
            CopyRefill refill) {
        this(servers, interval, timeout, null, null, cleanLiveServers, flushReturning, refill);
    }

    /** As above, the probes speaking TLS with {@code tls} and logging in with {@code login} (null: none). */
    public HealthChecker(
            List<ServerHealth> servers,
            Duration interval,
            Duration timeout,
            ServerTlsContext tls,
            ServerLogin login,
            boolean cleanLiveServers,
            boolean flushReturning,
            CopyRefill refill) {
        this(
                servers,
                interval,
                new SocketProbeTransport((int) Math.max(50, timeout.toMillis()), tls, login),
                cleanLiveServers,
                flushReturning ? interval.multipliedBy(2).plus(timeout) : null,
                refill);
    }

    /** A checker whose probes talk to the servers through {@code transport} (a test puts a model server behind it). */
    /** {@code settle}: with {@code --shared-farm}, {@link #settleNanos}; null without. */
    HealthChecker(
            List<ServerHealth> servers,
            Duration interval,
            ProbeTransport transport,
            boolean cleanLiveServers,
            Duration settle,
            CopyRefill refill) {
        this.cleanLiveServers = cleanLiveServers;
        this.flushReturning = settle != null;
        this.settleNanos = settle == null ? 0 : settle.toNanos();
        for (ServerHealth h : servers) {
            h.holdReadsAfterFailures(settleNanos); // another proxy may call it DOWN on a fault this one survived
        }
        this.refill = refill;
        this.servers = List.copyOf(servers);
        this.interval = interval;
        this.transport = transport;
        this.executor = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "jmagent-health");
            t.setDaemon(true);
            return t;
        });
    }

    public void start() {
        executor.scheduleWithFixedDelay(this::probeAll, 0, interval.toMillis(), TimeUnit.MILLISECONDS);
    }

    private void probeAll() {
        for (ServerHealth h : servers) {
            try {
                probe(h);
            } catch (RuntimeException e) {
                log.warn("probe of {} failed unexpectedly", h.server(), e);
            }
        }
        firstRound.countDown();
    }

    /**
     * Waits, at most {@code max}, for the first probe of every server: what each speaks (meta
     * commands or not) is known before clients are served. False if that took longer.
     */
    public boolean awaitFirstRound(Duration max) throws InterruptedException {
        return firstRound.await(max.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** One probe of {@code h}: what {@link #start()} runs for every server, each round. */
    void probe(ServerHealth h) {
        ServerHealth.State state = h.state();
        try (ProbeLink s = transport.open(h.server())) {
            ProbeResult r = stats(s);
            ServerHealth.Identity identity = h.observe(r.pid, r.uptime, r.time, r.speaksMeta);
            h.releaseExpiredReadHold();
            if (state == ServerHealth.State.UP) {
                if (cleanLiveServers) {
                    cleanWhileUp(h, s, identity);
                }
                return;
            }
            if (state == ServerHealth.State.DOWN && flushReturning) {
                // it may hold values older than writes any proxy of the fleet sent elsewhere
                flushReturning(h, s);
                return;
            }
            if (state == ServerHealth.State.RECOVERING && recovering.containsKey(h)) {
                return; // its refills are still under way
            }
            if (state == ServerHealth.State.RECOVERING && stillSettling(h)) {
                return;
            }
            if (state == ServerHealth.State.DOWN && !h.beginRecovery()) {
                return;
            }
            long recovery = h.recovery();
            String how = identity == ServerHealth.Identity.RESTARTED ? "restarted empty" : "cleaned";
            recovering.put(h, recovery);
            // UP once every key it missed was cleaned: until then those keys have one copy. A key
            // left stale (a write of it in flight, a refill not trusted) keeps it RECOVERING, for
            // the next probe to clean again
            clean(h, s, identity, allCleaned -> {
                recovering.remove(h, recovery);
                if (allCleaned) {
                    h.finishRecovery(recovery, how);
                }
            });
        } catch (IOException e) {
            log.debug("probe of {} failed: {}", h.server(), e.toString());
            if (state == ServerHealth.State.UP) {
                h.recordFailure("probe: " + e.getMessage()); // an idle dead server is found too
            } else {
                recovering.remove(h);
                settling.remove(h);
                h.markDown("probe: " + e.getMessage());
            }
        }
    }

    /**
     * A server that comes back (frozen, partitioned, restarted, or unknown before) over a farm that
     * other proxies share: flushed while still DOWN, before any read or write reaches it again. Its
     * stale marks are this proxy's alone; another proxy over the same farm may have written keys it
     * missed, so only an empty server is sure to hold nothing older than a write acknowledged
     * anywhere. Every proxy that saw it DOWN flushes it the same way, sharing nothing; a restarted
     * one too, since another proxy's write-backs may have reached it before this proxy's writes
     * stopped skipping it. It then stays RECOVERING for {@link #settleNanos}: written, not read,
     * while the other proxies see it return and flush it in turn (until then they write to the
     * other copy alone, and a read or write-back here would be older than their writes). Its keys
     * are then read from the backup and written back, as after a restart.
     */
    private void flushReturning(ServerHealth h, ProbeLink s) throws IOException {
        log.info(
                "{} server {} answers again; flushing it, then reading it again in {} ms (--shared-farm)",
                h.role(),
                h.server(),
                TimeUnit.NANOSECONDS.toMillis(settleNanos));
        // requests a frozen server still had buffered from closed connections land before the flush
        transport.pause(RECOVERY_GRACE_MILLIS);
        flush(h, s);
        if (h.beginRecovery()) {
            h.forgetStaleKeys(); // marks made before the flush: it holds none of those values now
            settling.put(h, System.nanoTime() + settleNanos);
        }
    }

    /** Whether {@code h}, flushed on return over a shared farm, must not be read yet ({@link #flushReturning}). */
    private boolean stillSettling(ServerHealth h) {
        Long until = settling.get(h);
        if (until == null) {
            return false;
        }
        if (System.nanoTime() - until < 0) {
            return true;
        }
        settling.remove(h, until);
        return false;
    }

    /**
     * {@code settled} runs once the cleaning is over, its refills included (at once without any),
     * told whether every stale key it took was cleaned.
     */
    private void clean(ServerHealth h, ProbeLink s, ServerHealth.Identity identity, Consumer<Boolean> settled)
            throws IOException {
        transport.pause(RECOVERY_GRACE_MILLIS);
        if (h.staleOverflow()) {
            if (identity == ServerHealth.Identity.RESTARTED) {
                h.forgetStaleKeys(); // a new process holds none of the old values
            } else {
                log.info("{} server {}: too many stale keys to clean one by one; flushing it", h.role(), h.server());
                flush(h, s);
            }
            settled.accept(true);
            return;
        }
        // a restarted server holds none of them, but the keys written while it was away get their copy back
        cleanStaleKeys(h, s, Integer.MAX_VALUE, "written elsewhere while it was away", settled);
    }

    /**
     * A server that stayed UP but missed some writes (a mirror or a write that failed or timed out):
     * reads skip its stale keys meanwhile ({@link ServerHealth#isStale}); here they are cleaned,
     * at most as many as were stale when this probe began. After an overflow, a server that
     * restarted (nearly empty) is flushed; one that did not is left unreadable for an operator's
     * flush_all (through the proxy) or a restart: flushing a live copy, perhaps the only one of a
     * down primary's keys, is not the proxy's decision.
     */
    private void cleanWhileUp(ServerHealth h, ProbeLink s, ServerHealth.Identity identity) throws IOException {
        if (h.staleOverflow()) {
            if (identity == ServerHealth.Identity.RESTARTED) {
                log.info("{} server {} restarted while it had too many stale keys; flushing it", h.role(), h.server());
                flush(h, s);
            }
            return;
        }
        if (h.hasStaleKeys()) {
            cleanStaleKeys(h, s, h.staleKeyCount(), "whose writes missed it", allCleaned -> {});
        }
    }

    private static void flush(ServerHealth h, ProbeLink s) throws IOException {
        long token = h.flushStarting();
        s.send("flush_all\r\n");
        String reply = s.readLine();
        if (!reply.equals("OK")) {
            throw new IOException("server refused flush_all: " + reply);
        }
        h.flushed(token);
    }

    /**
     * Cleans up to {@code budget} of the stale keys taken when it begins, {@value #DELETE_BATCH} a
     * round trip. A key with a readable other copy is refilled from it ({@link CopyRefill}), so that
     * it keeps two copies; it stays stale until the refill proves as new as every write of the key.
     * One whose write is in flight stays stale for the next round. {@code settled} is told whether
     * every key taken left the set. The others are deleted: a key
     * leaves the set only once the server said DELETED or NOT_FOUND, and only if no write failed
     * for it again meanwhile. A delete may also remove a value that a later write stored
     * successfully: that costs a miss, never a stale value.
     */
    private void cleanStaleKeys(ServerHealth h, ProbeLink s, int budget, String why, Consumer<Boolean> settled)
            throws IOException {
        List<ServerHealth.StaleKey> keys = h.staleKeys(budget);
        int refills = 0;
        int deleted = 0;
        AtomicInteger unsettled = new AtomicInteger(1); // one for this loop, one per refill started
        AtomicBoolean allCleaned = new AtomicBoolean(true);
        Runnable oneSettled = () -> {
            if (unsettled.decrementAndGet() == 0) {
                settled.accept(allCleaned.get());
            }
        };
        for (int from = 0; from < keys.size(); from += DELETE_BATCH) {
            List<ServerHealth.StaleKey> deletes = new ArrayList<>();
            for (ServerHealth.StaleKey k : keys.subList(from, Math.min(keys.size(), from + DELETE_BATCH))) {
                unsettled.incrementAndGet();
                switch (refill.refill(h, k.key(), fresh -> {
                    if (fresh) {
                        h.cleaned(k);
                    } else {
                        allCleaned.set(false);
                    }
                    oneSettled.run();
                })) {
                    case STARTED -> refills++;
                    case LATER -> {
                        unsettled.decrementAndGet(); // stays stale: the next probe tries again
                        allCleaned.set(false);
                    }
                    case NO_SOURCE -> {
                        unsettled.decrementAndGet();
                        deletes.add(k);
                    }
                }
            }
            delete(h, s, deletes);
            deleted += deletes.size();
        }
        if (refills + deleted > 0) {
            log.info(
                    "{} server {}: {} keys {}: {} being refilled from their other copy, {} deleted",
                    h.role(),
                    h.server(),
                    refills + deleted,
                    why,
                    refills,
                    deleted);
        }
        oneSettled.run();
    }

    private static void delete(ServerHealth h, ProbeLink s, List<ServerHealth.StaleKey> keys) throws IOException {
        if (keys.isEmpty()) {
            return;
        }
        StringBuilder sb = new StringBuilder(keys.size() * 32);
        for (ServerHealth.StaleKey k : keys) {
            byte[] key = k.key().getBytes(StandardCharsets.ISO_8859_1);
            if (TextKeys.carries(key)) {
                sb.append("delete ").append(k.key()).append("\r\n");
            } else {
                sb.append("md ").append(TextKeys.base64(key)).append(" b\r\n"); // a key no text line carries
            }
        }
        s.send(sb.toString());
        for (ServerHealth.StaleKey k : keys) {
            String line = s.readLine();
            if (!line.equals("DELETED") && !line.equals("NOT_FOUND") && !line.equals("HD") && !line.equals("NF")) {
                throw new IOException("server refused cleaning: " + line);
            }
            h.cleaned(k);
        }
    }

    private record ProbeResult(long pid, long uptime, long time, boolean speaksMeta) {}

    private static ProbeResult stats(ProbeLink s) throws IOException {
        s.send("stats\r\n");
        long pid = -1;
        long uptime = 0;
        long time = 0;
        String version = "";
        while (true) {
            String line = s.readLine();
            if (line.equals("END")) {
                break;
            }
            String[] parts = line.split(" ");
            if (parts.length < 3 || !parts[0].equals("STAT")) {
                throw new IOException("unexpected stats line: " + line);
            }
            switch (parts[1]) {
                case "pid" -> pid = Long.parseLong(parts[2]);
                case "uptime" -> uptime = Long.parseLong(parts[2]);
                case "time" -> time = Long.parseLong(parts[2]);
                case "version" -> version = parts[2];
                default -> {
                    // the other figures do not matter to health
                }
            }
        }
        return new ProbeResult(pid, uptime, time, speaksStableMeta(version));
    }

    /** Meta commands (mg) arrived in memcached 1.6. */
    /**
     * Whether a memcached of {@code version} speaks the meta commands as the proxy sends them: from
     * 1.6.10, where the meta protocol stopped being experimental (its replies became HD, not OK,
     * and ms took its data length as a positional token).
     */
    static boolean speaksStableMeta(String version) {
        String[] parts = version.split("[.-]");
        try {
            int major = Integer.parseInt(parts[0]);
            int minor = parts.length > 1 ? Integer.parseInt(parts[1]) : 0;
            int patch = parts.length > 2 ? Integer.parseInt(parts[2]) : 0;
            return major > 1 || (major == 1 && (minor > 6 || (minor == 6 && patch >= 10)));
        } catch (NumberFormatException e) {
            return true; // not memcached's numbering: assume a modern server
        }
    }

    @Override
    public void close() {
        executor.shutdownNow();
    }
}
