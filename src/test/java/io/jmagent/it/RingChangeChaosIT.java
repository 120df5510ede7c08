package io.jmagent.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.jmagent.config.ConfigFile;
import io.jmagent.frontend.ProxyPools;
import io.jmagent.testing.Dnsmasq;
import io.jmagent.testing.History;
import io.jmagent.testing.HistoryChecker;
import io.jmagent.testing.HistoryChecker.Verdict;
import io.jmagent.testing.MemcachedProcess;
import io.jmagent.testing.TestTransport;
import io.jmagent.testing.TextClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The backup farm's promise through ring changes, under load: three primaries found by SRV
 * records in a real dnsmasq, two literal backups, and {@link ChaosClients} writing and reading
 * through one proxy while the test rewrites the records every 0.3 to 1.5 s (a server leaves, or
 * comes back: two or three of the three at any time, so that keys move away and move back). The
 * proxy asks every 100 ms and drops a server after one answer without it. Every operation is
 * judged by {@link HistoryChecker}: no read goes back in time, no acknowledged write is lost.
 *
 * <p>Set the seed with {@code -Djmagent.chaos.seed=N} to replay the changes (not the timing), and
 * the duration with {@code -Djmagent.chaos.seconds} (default 15).
 */
class RingChangeChaosIT {

    private static final long SEED = Long.getLong("jmagent.chaos.seed", System.nanoTime() % 1_000_000_000L);
    private static final Duration CHAOS = Duration.ofSeconds(Long.getLong("jmagent.chaos.seconds", 15));

    private final List<MemcachedProcess> servers = new ArrayList<>();
    private Dnsmasq dns;
    private ProxyPools proxy;
    private ChaosClients clients;

    @AfterEach
    void stopEverything() {
        try {
            if (clients != null) {
                clients.stop();
            }
        } finally {
            if (proxy != null) {
                proxy.close();
            }
            if (dns != null) {
                dns.close();
            }
            servers.forEach(MemcachedProcess::close);
        }
    }

    @Test
    void noReadGoesBackInTimeAndNoAcknowledgedWriteIsLostWhileServersComeAndGo() throws Exception {
        System.out.printf("RingChangeChaosIT: seed %d (replay with -Djmagent.chaos.seed=%d)%n", SEED, SEED);
        for (int i = 0; i < 5; i++) {
            servers.add(MemcachedProcess.start());
        }
        List<MemcachedProcess> primaries = servers.subList(0, 3);
        List<MemcachedProcess> backups = servers.subList(3, 5);
        dns = Dnsmasq.start();
        dns.srv(records(primaries, List.of(0, 1, 2)));
        int port = MemcachedProcess.freePort();
        String yaml =
                """
                pools:
                  main:
                    listen: 127.0.0.1:%d
                    timeout: 300ms
                    probe-interval: 100ms
                    backups: [ "%s", "%s" ]
                    discovery:
                      servers: "srv:_memcache._tcp.mc.test"
                      interval: 100ms
                      leave-after: 1
                      dns-servers: [ "127.0.0.1:%d" ]
                """.formatted(port, backups.get(0).address(), backups.get(1).address(), dns.port());
        proxy = new ProxyPools(ConfigFile.parse(yaml, "chaos.yml"), TestTransport.chosen()).start();

        History history = new History();
        clients = new ChaosClients(List.of(port), history, SEED);
        clients.initialise();
        long end = System.nanoTime() + CHAOS.toNanos();
        clients.start(end + Duration.ofSeconds(30).toNanos());
        Random random = new Random(SEED);
        List<Integer> members = List.of(0, 1, 2);
        int changes = 0;
        while (System.nanoTime() < end) {
            Thread.sleep(300 + random.nextInt(1200));
            List<Integer> next = new ArrayList<>(List.of(0, 1, 2));
            if (members.size() == 3 || random.nextBoolean()) {
                next.remove(random.nextInt(3)); // one leaves (or another one than before)
            }
            if (!next.equals(members)) {
                members = next;
                changes++;
                history.event("servers now " + members);
                dns.srv(records(primaries, members));
            }
        }
        clients.stop();
        history.event("clients stopped");
        dns.srv(records(primaries, List.of(0, 1, 2)));
        awaitPrimaries(port, 3);
        clients.readAll("all three in");
        dns.srv(records(primaries, members.size() == 3 ? List.of(0, 1) : members));
        awaitPrimaries(port, 2);
        clients.readAll("two in");

        Verdict verdict = HistoryChecker.check(history);
        System.out.printf("RingChangeChaosIT: seed %d, %d ring changes: %s%n", SEED, changes, verdict.counts());
        String events = history.events().stream().map(e -> "  " + e).collect(Collectors.joining("\n"));
        String replay = "seed " + SEED + " (replay with -Djmagent.chaos.seed=" + SEED + "), " + changes + " changes";
        assertThat(changes).isPositive();
        assertThat(clients.unexpected()).as("unexpected replies, %s", replay).isEmpty();
        assertThat(verdict.clean())
                .as("%s\n%s\nchanges:\n%s", replay, verdict.report(10), events)
                .isTrue();
    }

    private static String[] records(List<MemcachedProcess> primaries, List<Integer> members) {
        return members.stream()
                .map(i -> "_memcache._tcp.mc.test,127.0.0.1," + primaries.get(i).port() + ",0,1")
                .toArray(String[]::new);
    }

    /** Waits until the proxy's ring has {@code n} primaries. */
    private static void awaitPrimaries(int port, int n) {
        await().atMost(Duration.ofSeconds(10)).until(() -> {
            try (TextClient c = new TextClient(port)) {
                return c.exchange("stats servers\r\n").split("role=primary", -1).length - 1 == n;
            }
        });
    }
}
