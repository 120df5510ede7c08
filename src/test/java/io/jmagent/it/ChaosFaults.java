package io.jmagent.it;

import static org.awaitility.Awaitility.await;

import io.jmagent.testing.History;
import io.jmagent.testing.MemcachedProcess;
import io.jmagent.testing.RunningProxy;
import io.jmagent.testing.TextClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import org.awaitility.core.ConditionTimeoutException;

/**
 * The faults of {@link ReplicaChaosIT}, drawn from one seed: kill -9 and restart empty, freeze
 * (SIGSTOP) for 0.4 to 2 s, or a few short hiccups (a freeze shorter than the proxy's timeout),
 * of one server at a time, a primary more often than a backup. A restarted primary, once read
 * again, is followed by hiccups of a backup while reads refill it: a read waiting there races
 * the writes of its key. Before each fault the farm is healed: every proxy reports every server
 * UP with no stale key, and every writer rewrote all its keys with no request failing meanwhile,
 * so both copies of every key are good again ("at most one copy down").
 */
final class ChaosFaults {

    static final Duration HEAL_LIMIT = Duration.ofSeconds(10);
    private static final int MAX_FAULTS = 40;

    private final List<MemcachedProcess> primaries;
    private final List<MemcachedProcess> backups;
    private final List<RunningProxy> proxies;
    private final ChaosClients clients;
    private final History history;
    private final Random random;
    private final Duration hiccupLimit;
    private int faults;

    ChaosFaults(
            List<MemcachedProcess> primaries,
            List<MemcachedProcess> backups,
            List<RunningProxy> proxies,
            ChaosClients clients,
            History history,
            long seed,
            Duration hiccupLimit) {
        this.primaries = primaries;
        this.backups = backups;
        this.proxies = proxies;
        this.clients = clients;
        this.history = history;
        this.random = new Random(seed);
        this.hiccupLimit = hiccupLimit;
    }

    /** Injects faults until {@code deadline} (System.nanoTime()); false if the farm did not heal in time. */
    boolean run(long deadline) {
        while (faults < MAX_FAULTS && System.nanoTime() < deadline) {
            if (!awaitHealed(true)) {
                return false;
            }
            sleepMillis(100 + random.nextInt(400));
            if (System.nanoTime() >= deadline) {
                break;
            }
            faults++;
            boolean primary = random.nextInt(5) < 3; // where most of the ways to lose a write begin
            int which = random.nextInt(primary ? primaries.size() : backups.size());
            MemcachedProcess server = primary ? primaries.get(which) : backups.get(which);
            String name = (primary ? "primary " : "backup ") + which + " (" + server.address() + ")";
            int kind = random.nextInt(20);
            if (kind < 7) {
                killAndRestart(server, name);
                if (primary) {
                    // once the primary is read again, its cold keys miss there and are read from the backup
                    int b = random.nextInt(backups.size());
                    awaitState(server, "UP");
                    hiccups(
                            backups.get(b),
                            "backup " + b + " (" + backups.get(b).address() + ")");
                }
            } else if (kind < 15) {
                // short: some proxies may call it down and others not; long: all do
                long millis = random.nextBoolean() ? 400 + random.nextInt(400) : 800 + random.nextInt(1200);
                history.event("freeze " + name + " for " + millis + " ms");
                server.freeze();
                try {
                    sleepMillis(millis);
                } finally {
                    server.thaw();
                }
                history.event("thawed " + name);
            } else {
                hiccups(server, name);
            }
        }
        return true;
    }

    int faults() {
        return faults;
    }

    private void killAndRestart(MemcachedProcess server, String name) {
        long millis = 200 + random.nextInt(1000);
        history.event("kill -9 " + name + ", restart empty after " + millis + " ms");
        server.kill();
        sleepMillis(millis);
        server.restart();
        history.event("restarted " + name);
    }

    private void hiccups(MemcachedProcess server, String name) {
        int count = 2 + random.nextInt(2);
        for (int i = 0; i < count; i++) {
            long millis = hiccupLimit.toMillis() / 4 + random.nextInt((int) (hiccupLimit.toMillis() / 2));
            history.event("hiccup " + name + " for " + millis + " ms");
            server.freeze();
            try {
                sleepMillis(millis);
            } finally {
                server.thaw();
            }
            sleepMillis(50 + random.nextInt(200));
        }
    }

    /**
     * Waits until every proxy reports every server UP, with no stale key, and (while the clients
     * run) every writer then rewrote all its keys without any request failing on any proxy.
     */
    boolean awaitHealed(boolean clientsRunning) {
        long deadline = System.nanoTime() + HEAL_LIMIT.toNanos();
        while (System.nanoTime() < deadline) {
            if (!poll(deadline, this::allUpAndClean)) {
                break;
            }
            if (!clientsRunning) {
                return true;
            }
            long[] written = clients.written();
            List<Long> errors = backendErrors();
            if (poll(deadline, () -> clients.everyKeyWrittenSince(written))
                    && allUpAndClean()
                    && errors.equals(backendErrors())) {
                return true;
            }
        }
        history.event("the farm did not heal within " + HEAL_LIMIT.toSeconds() + " s: " + serverLines());
        return false;
    }

    /** Waits until every proxy reports {@code server} in {@code state}. */
    boolean awaitState(MemcachedProcess server, String state) {
        long deadline = System.nanoTime() + HEAL_LIMIT.toNanos();
        return poll(deadline, () -> {
            for (RunningProxy proxy : proxies) {
                if (!state.equals(serversOf(proxy).get(server.address()).get("state"))) {
                    return false;
                }
            }
            return true;
        });
    }

    private boolean allUpAndClean() {
        for (RunningProxy proxy : proxies) {
            for (Map<String, String> s : serversOf(proxy).values()) {
                if (!s.get("state").equals("UP")
                        || !s.get("stale_keys").equals("0")
                        || !s.get("stale_overflow").equals("0")) {
                    return false;
                }
            }
        }
        return true;
    }

    private List<Long> backendErrors() {
        List<Long> errors = new ArrayList<>();
        for (RunningProxy proxy : proxies) {
            errors.add(Long.parseLong(stats(proxy, "stats\r\n").getOrDefault("backend_errors", "-1")));
        }
        return errors;
    }

    private String serverLines() {
        StringBuilder sb = new StringBuilder();
        for (int p = 0; p < proxies.size(); p++) {
            sb.append("\n    proxy ").append(p).append(": ").append(serversOf(proxies.get(p)));
        }
        return sb.toString();
    }

    /** {@code stats servers}: each server's address to its fields (role, state, stale_keys...). */
    private static Map<String, Map<String, String>> serversOf(RunningProxy proxy) {
        Map<String, Map<String, String>> servers = new HashMap<>();
        stats(proxy, "stats servers\r\n").forEach((address, line) -> {
            Map<String, String> fields = new HashMap<>();
            for (String field : line.split(" ")) {
                int eq = field.indexOf('=');
                fields.put(field.substring(0, eq), field.substring(eq + 1));
            }
            servers.put(address, fields);
        });
        return servers;
    }

    /** A stats command's "STAT name value" lines. */
    private static Map<String, String> stats(RunningProxy proxy, String command) {
        Map<String, String> stats = new HashMap<>();
        try (TextClient c = new TextClient(proxy.port())) {
            for (String line : c.exchange(command).split("\r\n")) {
                if (line.startsWith("STAT ")) {
                    int space = line.indexOf(' ', 5);
                    stats.put(line.substring(5, space), line.substring(space + 1));
                }
            }
        }
        return stats;
    }

    /** Whether {@code condition} held before {@code deadline} (System.nanoTime()). */
    private static boolean poll(long deadline, Callable<Boolean> condition) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
            return false;
        }
        try {
            await().atMost(Duration.ofNanos(left))
                    .pollDelay(Duration.ZERO)
                    .pollInterval(Duration.ofMillis(20))
                    .until(condition);
            return true;
        } catch (ConditionTimeoutException e) {
            return false;
        }
    }

    private static void sleepMillis(long millis) {
        try {
            TimeUnit.MILLISECONDS.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}
