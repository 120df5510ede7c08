package io.jmagent.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.jmagent.testing.MemcachedProcess;
import io.jmagent.testing.RunningProxy;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@code stats} counts a scripted workload exactly as memcached 1.6 counts it: the same script is
 * played on one memcached and on jmagent over three, and every command counter has the number
 * written here on both. {@code stats servers} lists every server with its role and state.
 */
class StatsIT {

    private static final List<String> COMMAND_COUNTERS = List.of(
            "cmd_get",
            "cmd_set",
            "cmd_flush",
            "cmd_touch",
            "get_hits",
            "get_misses",
            "delete_misses",
            "delete_hits",
            "incr_misses",
            "incr_hits",
            "decr_misses",
            "decr_hits",
            "cas_misses",
            "cas_hits",
            "cas_badval",
            "touch_hits",
            "touch_misses");

    @Test
    void textCommandsAreCountedAsMemcachedCountsThem() throws Exception {
        Map<String, String> expected = counters(
                "cmd_get 7",
                "cmd_set 10",
                "cmd_flush 2",
                "cmd_touch 4",
                "get_hits 4",
                "get_misses 3",
                "delete_misses 2",
                "delete_hits 1",
                "incr_misses 1",
                "incr_hits 1",
                "decr_misses 1",
                "decr_hits 1",
                "cas_misses 1",
                "cas_hits 1",
                "cas_badval 1",
                "touch_hits 2",
                "touch_misses 2");

        try (MemcachedProcess reference = MemcachedProcess.start();
                StatsClient direct = new StatsClient(reference.port())) {
            playTextScript(direct);
            assertThat(commandCounters(direct.stats(""))).isEqualTo(expected);
        }

        try (ProxiedFarm farm = ProxiedFarm.start(3);
                StatsClient client = new StatsClient(farm.port())) {
            playTextScript(client);
            await().atMost(Duration.ofSeconds(5))
                    .until(() -> farm.proxy().server().stats().requestsInFlight() == 0);
            long written = client.received();
            Map<String, String> stats = client.stats("");

            assertThat(commandCounters(stats)).isEqualTo(expected);
            assertThat(stats)
                    .containsEntry("bytes_read", Long.toString(client.sent()))
                    .containsEntry("bytes_written", Long.toString(written))
                    .containsEntry("curr_connections", "1")
                    .containsEntry("total_connections", "1")
                    .containsEntry("rejected_connections", "0")
                    .containsEntry("max_connections", "4096")
                    .containsEntry("threads", "2")
                    .containsEntry("requests_in_flight", "0")
                    .containsEntry("backend_errors", "0")
                    .containsEntry("backend_timeouts", "0")
                    .containsEntry("servers_up", "3")
                    .containsEntry("servers_down", "0")
                    .containsEntry("pid", Long.toString(ProcessHandle.current().pid()));
            assertThat(stats.keySet()).startsWith("pid", "uptime", "time", "version");
        }
    }

    /** Every reply is checked on the way, so both sides are known to have done the same. */
    private static void playTextScript(StatsClient c) throws IOException {
        assertThat(c.exchange("set a 0 0 1\r\n1\r\n", "\r\n")).isEqualTo("STORED\r\n");
        c.sendOnly("set b 0 0 1 noreply\r\n2\r\n");
        assertThat(c.exchange("get a b c\r\n", "END\r\n")).isEqualTo("VALUE a 0 1\r\n1\r\nVALUE b 0 1\r\n2\r\nEND\r\n");
        assertThat(c.exchange("gets a\r\n", "END\r\n")).startsWith("VALUE a 0 1 ");
        assertThat(c.exchange("gat 100 a zz\r\n", "END\r\n")).isEqualTo("VALUE a 0 1\r\n1\r\nEND\r\n");
        assertThat(c.exchange("touch b 10\r\n", "\r\n")).isEqualTo("TOUCHED\r\n");
        assertThat(c.exchange("touch zz 10\r\n", "\r\n")).isEqualTo("NOT_FOUND\r\n");
        String gets = c.exchange("gets a\r\n", "END\r\n");
        long cas = Long.parseLong(gets.substring("VALUE a 0 1 ".length(), gets.indexOf("\r\n")));
        assertThat(c.exchange("cas a 0 0 1 " + (cas + 1000) + "\r\n3\r\n", "\r\n"))
                .isEqualTo("EXISTS\r\n");
        assertThat(c.exchange("cas zz 0 0 1 1\r\n3\r\n", "\r\n")).isEqualTo("NOT_FOUND\r\n");
        assertThat(c.exchange("cas a 0 0 1 " + cas + "\r\n4\r\n", "\r\n")).isEqualTo("STORED\r\n");
        assertThat(c.exchange("set n 0 0 2\r\n10\r\n", "\r\n")).isEqualTo("STORED\r\n");
        assertThat(c.exchange("incr n 5\r\n", "\r\n")).isEqualTo("15\r\n");
        assertThat(c.exchange("incr zz 1\r\n", "\r\n")).isEqualTo("NOT_FOUND\r\n");
        assertThat(c.exchange("decr n 1\r\n", "\r\n")).isEqualTo("14\r\n");
        assertThat(c.exchange("decr zz 1\r\n", "\r\n")).isEqualTo("NOT_FOUND\r\n");
        assertThat(c.exchange("set s 0 0 1\r\nx\r\n", "\r\n")).isEqualTo("STORED\r\n");
        assertThat(c.exchange("incr s 1\r\n", "\r\n"))
                .isEqualTo("CLIENT_ERROR cannot increment or decrement non-numeric value\r\n");
        assertThat(c.exchange("add a 0 0 1\r\n5\r\n", "\r\n")).isEqualTo("NOT_STORED\r\n");
        assertThat(c.exchange("append a 0 0 1\r\n5\r\n", "\r\n")).isEqualTo("STORED\r\n");
        assertThat(c.exchange("replace zz 0 0 1\r\n5\r\n", "\r\n")).isEqualTo("NOT_STORED\r\n");
        assertThat(c.exchange("delete a\r\n", "\r\n")).isEqualTo("DELETED\r\n");
        assertThat(c.exchange("delete a\r\n", "\r\n")).isEqualTo("NOT_FOUND\r\n");
        c.sendOnly("delete zz noreply\r\n");
        // over the 1 MB item size: refused, and counted nowhere
        String big = "set big 0 0 2000000\r\n" + "v".repeat(2_000_000) + "\r\n";
        assertThat(c.exchange(big, "\r\n")).isEqualTo("SERVER_ERROR object too large for cache\r\n");
        assertThat(c.exchange("flush_all\r\n", "\r\n")).isEqualTo("OK\r\n");
        c.sendOnly("flush_all noreply\r\n");
        assertThat(c.exchange("get b n\r\n", "END\r\n")).isEqualTo("END\r\n");
    }

    @Test
    void binaryCommandsAreCountedAsMemcachedCountsThem() throws Exception {
        Map<String, String> expected = counters(
                "cmd_get 3",
                "cmd_set 7",
                "cmd_flush 1",
                "cmd_touch 3",
                "get_hits 1",
                "get_misses 2",
                "delete_misses 2",
                "delete_hits 2",
                "incr_hits 2",
                "decr_misses 1",
                "cas_badval 1",
                "touch_hits 2",
                "touch_misses 1");

        try (MemcachedProcess reference = MemcachedProcess.start()) {
            try (StatsClient direct = new StatsClient(reference.port())) {
                playBinaryScript(direct);
            }
            try (StatsClient text = new StatsClient(reference.port())) {
                assertThat(commandCounters(text.stats(""))).isEqualTo(expected);
            }
        }

        try (ProxiedFarm farm = ProxiedFarm.start(3)) {
            try (StatsClient client = new StatsClient(farm.port())) {
                playBinaryScript(client);
            }
            await().atMost(Duration.ofSeconds(5))
                    .until(() -> farm.proxy().server().stats().requestsInFlight() == 0);
            try (StatsClient text = new StatsClient(farm.port())) {
                assertThat(commandCounters(text.stats(""))).isEqualTo(expected);
            }
        }
    }

    @Test
    void metaCommandsAreCountedAsMemcachedCountsThem() throws Exception {
        Map<String, String> expected = counters(
                "cmd_get 9",
                "cmd_set 14",
                "cmd_touch 1",
                "get_hits 6",
                "get_misses 3",
                "delete_misses 3",
                "delete_hits 2",
                "incr_misses 2",
                "incr_hits 3",
                "decr_misses 1",
                "decr_hits 1",
                "cas_misses 1",
                "cas_hits 1",
                "cas_badval 1",
                "touch_hits 1");

        try (MemcachedProcess reference = MemcachedProcess.start();
                StatsClient direct = new StatsClient(reference.port())) {
            playMetaScript(direct);
            assertThat(commandCounters(direct.stats(""))).isEqualTo(expected);
        }

        try (ProxiedFarm farm = ProxiedFarm.start(3);
                StatsClient client = new StatsClient(farm.port())) {
            playMetaScript(client);
            await().atMost(Duration.ofSeconds(5))
                    .until(() -> farm.proxy().server().stats().requestsInFlight() == 0);
            assertThat(commandCounters(client.stats(""))).isEqualTo(expected);
        }
    }

    /** Hits, misses (a quiet mg's is silent), touches, ms modes, cas, invalidation, ma; checked reply by reply. */
    private static void playMetaScript(StatsClient c) throws IOException {
        assertThat(c.exchange("ms a 1\r\nx\r\n", "\r\n")).isEqualTo("HD\r\n");
        assertThat(c.exchange("mg a v\r\n", "x\r\n")).isEqualTo("VA 1\r\nx\r\n");
        assertThat(c.exchange("mg a\r\n", "\r\n")).isEqualTo("HD\r\n");
        assertThat(c.exchange("mg zz v\r\n", "\r\n")).isEqualTo("EN\r\n");
        assertThat(c.exchange("mg zz v q\r\nmn\r\n", "MN\r\n")).isEqualTo("MN\r\n"); // a silent miss
        assertThat(c.exchange("mg a k q\r\nmn\r\n", "MN\r\n")).isEqualTo("HD ka\r\nMN\r\n");
        // a hit that touches counts in cmd_touch, a miss that would have touched in cmd_get
        assertThat(c.exchange("mg a T30 v\r\n", "x\r\n")).isEqualTo("VA 1\r\nx\r\n");
        assertThat(c.exchange("mg zz T30 v\r\n", "\r\n")).isEqualTo("EN\r\n");
        assertThat(c.exchange("mg viv N30\r\n", "\r\n")).isEqualTo("HD W\r\n"); // created: a hit
        // every ms counts in cmd_set, whatever its mode and answer
        assertThat(c.exchange("ms a 1 MA\r\n2\r\n", "\r\n")).isEqualTo("HD\r\n");
        assertThat(c.exchange("ms zz 1 MA\r\n2\r\n", "\r\n")).isEqualTo("NS\r\n");
        assertThat(c.exchange("ms a 1 MP\r\n0\r\n", "\r\n")).isEqualTo("HD\r\n");
        assertThat(c.exchange("ms a 1 ME\r\n0\r\n", "\r\n")).isEqualTo("NS\r\n");
        assertThat(c.exchange("ms zz 1 MR\r\n0\r\n", "\r\n")).isEqualTo("NS\r\n");
        assertThat(c.exchange("ms q 1 q\r\nx\r\nmn\r\n", "MN\r\n")).isEqualTo("MN\r\n");
        assertThat(c.exchange("ms bad 1 MZ\r\nx\r\n", "\r\n"))
                .isEqualTo("CLIENT_ERROR invalid mode for ms M token\r\n"); // counted nowhere
        // a cas compared by a set: EX a cas_badval, NF a cas_miss, HD a cas_hit; by an append, none
        long cas = metaCas(c, "a");
        assertThat(c.exchange("ms a 1 C" + (cas + 1000) + "\r\n3\r\n", "\r\n")).isEqualTo("EX\r\n");
        assertThat(c.exchange("ms zz 1 C1\r\n3\r\n", "\r\n")).isEqualTo("NF\r\n");
        assertThat(c.exchange("ms a 1 C" + cas + "\r\n4\r\n", "\r\n")).isEqualTo("HD\r\n");
        assertThat(c.exchange("ms a 1 MA C" + metaCas(c, "a") + "\r\n5\r\n", "\r\n"))
                .isEqualTo("HD\r\n");
        // md: HD a hit (a quiet one silent), NF or a stale cas (EX) a miss, an invalidation neither
        assertThat(c.exchange("md a\r\n", "\r\n")).isEqualTo("HD\r\n");
        assertThat(c.exchange("md a\r\n", "\r\n")).isEqualTo("NF\r\n");
        assertThat(c.exchange("md zz q\r\nmn\r\n", "MN\r\n")).isEqualTo("NF\r\nMN\r\n");
        assertThat(c.exchange("ms d 1\r\n1\r\n", "\r\n")).isEqualTo("HD\r\n");
        assertThat(c.exchange("md d q\r\nmn\r\n", "MN\r\n")).isEqualTo("MN\r\n");
        assertThat(c.exchange("ms i 1\r\n1\r\n", "\r\n")).isEqualTo("HD\r\n");
        assertThat(c.exchange("md i I\r\n", "\r\n")).isEqualTo("HD\r\n");
        assertThat(c.exchange("md i C1\r\n", "\r\n")).isEqualTo("EX\r\n");
        // ma: HD or VA a hit (a quiet one silent), NF a miss, a stale cas or a non-number neither
        assertThat(c.exchange("ms n 2\r\n10\r\n", "\r\n")).isEqualTo("HD\r\n");
        assertThat(c.exchange("ma n\r\n", "\r\n")).isEqualTo("HD\r\n");
        assertThat(c.exchange("ma n MD v\r\n", "10\r\n")).isEqualTo("VA 2\r\n10\r\n");
        assertThat(c.exchange("ma zz\r\n", "\r\n")).isEqualTo("NF\r\n");
        assertThat(c.exchange("ma zz MD\r\n", "\r\n")).isEqualTo("NF\r\n");
        assertThat(c.exchange("ma n q\r\nmn\r\n", "MN\r\n")).isEqualTo("MN\r\n");
        assertThat(c.exchange("ma zz q\r\nmn\r\n", "MN\r\n")).isEqualTo("NF\r\nMN\r\n");
        assertThat(c.exchange("ma n N0 J5\r\n", "\r\n")).isEqualTo("HD\r\n"); // exists: a hit
        assertThat(c.exchange("ma n C1\r\n", "\r\n")).isEqualTo("EX\r\n");
        assertThat(c.exchange("ma q\r\n", "\r\n"))
                .isEqualTo("CLIENT_ERROR cannot increment or decrement non-numeric value\r\n");
        assertThat(c.exchange("mn\r\n", "\r\n")).isEqualTo("MN\r\n");
        assertThat(c.exchange("me n\r\n", "\r\n")).startsWith("ME n ");
    }

    private static long metaCas(StatsClient c, String key) throws IOException {
        String reply = c.exchange("mg " + key + " c\r\n", "\r\n");
        assertThat(reply).startsWith("HD c");
        return Long.parseLong(reply.substring("HD c".length(), reply.indexOf("\r\n")));
    }

    private static final int GET = 0x00;
    private static final int SET = 0x01;
    private static final int ADD = 0x02;
    private static final int REPLACE = 0x03;
    private static final int DELETE = 0x04;
    private static final int INCREMENT = 0x05;
    private static final int DECREMENT = 0x06;
    private static final int FLUSH = 0x08;
    private static final int GETQ = 0x09;
    private static final int NOOP = 0x0a;
    private static final int GETK = 0x0c;
    private static final int APPEND = 0x0e;
    private static final int TOUCH = 0x1c;
    private static final int GAT = 0x1d;
    private static final int SUCCESS = 0;
    private static final int NOT_FOUND = 1;
    private static final int EXISTS = 2;
    private static final byte[] NONE = new byte[0];

    private static void playBinaryScript(StatsClient c) throws IOException {
        byte[] store = ByteBuffer.allocate(8).putInt(0).putInt(0).array();
        binary(c, SET, "k1", store, "v", 0, SUCCESS);
        binary(c, GET, "k1", NONE, "", 0, SUCCESS);
        c.binary(GETQ, "nokey", NONE, "", 0); // a quiet miss: no answer at all
        binary(c, GETK, "nokey", NONE, "", 0, NOT_FOUND);
        binary(c, ADD, "k1", store, "w", 0, EXISTS);
        binary(c, SET, "k1", store, "x", 12345678, EXISTS); // a set with a wrong cas
        binary(c, REPLACE, "nokey", store, "x", 0, NOT_FOUND);
        binary(c, DELETE, "nokey", NONE, "", 0, NOT_FOUND);
        binary(c, DELETE, "k1", NONE, "", 0, SUCCESS);
        binary(c, INCREMENT, "c1", arithmetic(1, 10, 0), "", 0, SUCCESS); // creates the counter: counted nowhere
        binary(c, INCREMENT, "c1", arithmetic(1, 0, 0), "", 0, SUCCESS);
        binary(c, DECREMENT, "c2", arithmetic(1, 0, 0xffffffff), "", 0, NOT_FOUND); // not created
        binary(c, TOUCH, "c1", ByteBuffer.allocate(4).putInt(100).array(), "", 0, SUCCESS);
        binary(c, TOUCH, "nokey", ByteBuffer.allocate(4).putInt(100).array(), "", 0, NOT_FOUND);
        binary(c, GAT, "c1", ByteBuffer.allocate(4).putInt(100).array(), "", 0, SUCCESS);
        // a cas compared on delete, incr and append: a stale one counts nowhere but in cmd_set
        binary(c, SET, "k2", store, "5", 0, SUCCESS);
        long cas = c.lastCas();
        binary(c, DELETE, "k2", NONE, "", cas + 1, EXISTS);
        binary(c, DELETE, "nokey", NONE, "", cas, NOT_FOUND);
        binary(c, INCREMENT, "k2", arithmetic(1, 0, 0), "", cas + 1, EXISTS);
        binary(c, INCREMENT, "k2", arithmetic(1, 0, 0), "", cas, SUCCESS);
        cas = c.lastCas();
        binary(c, APPEND, "k2", NONE, "0", cas + 1, EXISTS);
        binary(c, APPEND, "k2", NONE, "0", cas, SUCCESS);
        binary(c, DELETE, "k2", NONE, "", c.lastCas(), SUCCESS);
        binary(c, FLUSH, "", NONE, "", 0, SUCCESS);
        binary(c, NOOP, "", NONE, "", 0, SUCCESS);
    }

    private static void binary(StatsClient c, int opcode, String key, byte[] extras, String value, long cas, int status)
            throws IOException {
        c.binary(opcode, key, extras, value, cas);
        assertThat(c.binaryResponse())
                .as("status of opcode %d on %s", opcode, key)
                .isEqualTo(status);
    }

    private static byte[] arithmetic(long delta, long initial, int exptime) {
        return ByteBuffer.allocate(20)
                .putLong(delta)
                .putLong(initial)
                .putInt(exptime)
                .array();
    }

    @Test
    void statsServersListsEveryServerWithItsRoleStateAndTraffic() throws Exception {
        try (MemcachedProcess p1 = MemcachedProcess.start();
                MemcachedProcess p2 = MemcachedProcess.start();
                MemcachedProcess b1 = MemcachedProcess.start();
                RunningProxy proxy = RunningProxy.over(
                        List.of(p1, p2), List.of(b1), c -> c.withTimeout(ProxiedFarm.PATIENT_TIMEOUT));
                StatsClient client = new StatsClient(proxy.port())) {
            for (int i = 0; i < 10; i++) {
                assertThat(client.exchange("set key" + i + " 0 0 1\r\nx\r\n", "\r\n"))
                        .isEqualTo("STORED\r\n");
            }
            // mirrors to the backup are off the client's path: let them land
            await().atMost(Duration.ofSeconds(5))
                    .until(() -> proxy.server().stats().requestsInFlight() == 0
                            && proxy.server().backups().health(0).stats().inflight() == 0);

            Map<String, String> servers = client.stats("servers");
            assertThat(servers.keySet()).containsExactly(p1.address(), p2.address(), b1.address());
            String line = "role=%s state=UP inflight=0 requests=(\\d+) errors=0 timeouts=0 p50_us=\\d+ p99_us=\\d+"
                    + " stale_keys=0 stale_overflow=0 mirrors_in_flight=0 reads_held=0";
            assertThat(servers.get(p1.address())).matches(line.formatted("primary"));
            assertThat(servers.get(p2.address())).matches(line.formatted("primary"));
            assertThat(servers.get(b1.address())).matches(line.formatted("backup"));
            assertThat(requests(servers.get(p1.address())) + requests(servers.get(p2.address())))
                    .isEqualTo(10);
            assertThat(requests(servers.get(b1.address()))).isEqualTo(10);
            assertThat(client.stats("proxy").keySet()).containsExactly(p1.address(), p2.address(), b1.address());
            try (StatsClient binary = new StatsClient(proxy.port())) {
                Map<String, String> overBinary = binary.binaryStats("servers");
                assertThat(overBinary.keySet()).containsExactly(p1.address(), p2.address(), b1.address());
                assertThat(overBinary.get(b1.address())).startsWith("role=backup state=UP inflight=0 requests=10 ");
            }

            b1.kill();
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> client.stats("servers").get(b1.address()).contains("state=DOWN"));
            assertThat(client.stats("servers").get(p1.address())).contains("role=primary state=UP");

            assertThat(client.exchange("stats slabs\r\n", "\r\n"))
                    .isEqualTo("SERVER_ERROR stats slabs not supported by jmagent\r\n");
        }
    }

    private static long requests(String serverLine) {
        for (String field : serverLine.split(" ")) {
            if (field.startsWith("requests=")) {
                return Long.parseLong(field.substring("requests=".length()));
            }
        }
        throw new AssertionError("no requests= in " + serverLine);
    }

    /** The command counters a script should leave: those named ("name value") as given, the others 0. */
    private static Map<String, String> counters(String... nonZero) {
        Map<String, String> m = new LinkedHashMap<>();
        COMMAND_COUNTERS.forEach(name -> m.put(name, "0"));
        for (String counter : nonZero) {
            String[] nameAndValue = counter.split(" ");
            if (m.put(nameAndValue[0], nameAndValue[1]) == null) {
                throw new IllegalArgumentException("not a command counter: " + counter);
            }
        }
        return m;
    }

    private static Map<String, String> commandCounters(Map<String, String> stats) {
        Map<String, String> m = new LinkedHashMap<>();
        for (String name : COMMAND_COUNTERS) {
            m.put(name, stats.get(name));
        }
        return m;
    }
}
