package io.jmagent.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.jmagent.testing.MemcachedProcess;
import io.jmagent.testing.TextClient;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * libmemcached's own tools in the binary protocol against jmagent over three servers: memcslap's
 * set, get and mget loads (libmemcached's client code, pipelined multi-gets included) and
 * memccapable's conformance tests. Skipped only where the tools are not installed.
 *
 * <p>memccapable checks that memcached returns the item's new cas in the responses to set, add,
 * replace, append, prepend, incr and decr. jmagent sends 0 there, as its servers speak text,
 * which does not return it (an intended difference): every binary test that stores an item fails
 * at that check, and nowhere else, which is what {@link #memccapableBinaryTestsFailOnlyOnTheNewCas}
 * asserts, test by test.
 */
class LibmemcachedToolsIT {

    private static final int THREADS = 4;
    private static final int OPERATIONS = 1000;
    private static final Pattern TEST_LINE =
            Pattern.compile("Time to (set|get|mget)\\s+(\\d+) keys by\\s+(\\d+) threads");
    private static final Pattern LOAD_LINE = Pattern.compile("Time to set\\s+(\\d+) keys:");

    /** memccapable's binary tests (memcapable.cc), each run alone on a flushed farm. */
    private static final List<String> BINARY_TESTS = List.of(
            "noop",
            "quit",
            "quitq",
            "set",
            "setq",
            "flush",
            "flushq",
            "add",
            "addq",
            "replace",
            "replaceq",
            "delete",
            "deleteq",
            "get",
            "getq",
            "getk",
            "getkq",
            "incr",
            "incrq",
            "decr",
            "decrq",
            "version",
            "append",
            "appendq",
            "prepend",
            "prependq",
            "stat");
    /** Those that never look at the cas of a storage or arithmetic response. */
    private static final List<String> CAS_FREE_TESTS =
            List.of("noop", "quit", "quitq", "addq", "incrq", "decrq", "version", "stat");

    private static ProxiedFarm farm;

    @BeforeAll
    static void start() {
        farm = ProxiedFarm.start(3);
    }

    @AfterAll
    static void stop() {
        if (farm != null) {
            farm.close();
        }
    }

    @Test
    void memcslapBinarySetsEveryKeyOnTheFarm() throws Exception {
        flushFarm();
        Result r = memcslap("set");
        assertThat(r.exitCode()).as(r.output()).isZero();
        assertThat(r.errors()).as("memcslap errors").isEmpty();
        assertThat(completed(r, "set")).as(r.output()).isEqualTo(THREADS * OPERATIONS);
        // the threads share one set of OPERATIONS keys, each thread setting all of them
        Map<Integer, Long> items = itemsPerServer();
        assertThat(items.values().stream().mapToLong(Long::longValue).sum()).isEqualTo(OPERATIONS);
        assertThat(items.values()).as("keys spread over every server").allMatch(n -> n > 0);
    }

    @Test
    void memcslapBinaryGetsEveryKey() throws Exception {
        flushFarm();
        Result r = memcslap("get");
        assertThat(r.exitCode()).as(r.output()).isZero();
        assertThat(r.errors()).as("memcslap errors").isEmpty();
        assertThat(initialLoad(r)).as(r.output()).isEqualTo(OPERATIONS);
        assertThat(completed(r, "get")).as(r.output()).isEqualTo(THREADS * OPERATIONS);
    }

    @Test
    void memcslapBinaryMultiGetsEveryKey() throws Exception {
        flushFarm();
        Result r = memcslap("mget");
        assertThat(r.exitCode()).as(r.output()).isZero();
        assertThat(r.errors()).as("memcslap errors").isEmpty();
        assertThat(initialLoad(r)).as(r.output()).isEqualTo(OPERATIONS);
        assertThat(completed(r, "mget")).as(r.output()).isEqualTo(THREADS * OPERATIONS);
    }

    @Test
    void memccapableBinaryTestsFailOnlyOnTheNewCas() throws Exception {
        String tool = tool("memccapable");
        Map<String, String> failures = new LinkedHashMap<>();
        List<String> passed = new ArrayList<>();
        for (String test : BINARY_TESTS) {
            flushFarm();
            Result r = run(List.of(
                    tool,
                    "-h",
                    "127.0.0.1",
                    "-p",
                    Integer.toString(farm.port()),
                    "-b",
                    "-v",
                    "-t",
                    "2",
                    "-T",
                    "binary " + test));
            if (r.exitCode() == 0 && r.output().contains("[pass]")) {
                passed.add(test);
            } else {
                failures.put(test, firstFailedCheck(r.output()));
            }
        }
        assertThat(passed).containsAll(CAS_FREE_TESTS);
        assertThat(failures)
                .as("memccapable failures other than the new cas of a storage response")
                .allSatisfy((test, check) -> assertThat(check).endsWith("rsp->plain.message.header.response.cas"));
    }

    @Test
    void memccapableAsciiTestsAllPass() throws Exception {
        flushFarm();
        Result r = run(
                List.of(tool("memccapable"), "-h", "127.0.0.1", "-p", Integer.toString(farm.port()), "-a", "-t", "2"));
        assertThat(r.exitCode()).as(r.output()).isZero();
        assertThat(r.output()).contains("All tests passed").doesNotContain("[FAIL]");
    }

    private static Result memcslap(String test) throws Exception {
        return run(List.of(
                tool("memcslap"),
                "--servers=127.0.0.1:" + farm.port(),
                "--binary",
                "--verbose",
                "--concurrency=" + THREADS,
                "--execute-number=" + OPERATIONS,
                "--test=" + test));
    }

    /** The number of operations memcslap reports as done in its test phase. */
    private static int completed(Result r, String test) {
        Matcher m = TEST_LINE.matcher(r.output());
        assertThat(m.find()).as("memcslap's result line in:\n" + r.output()).isTrue();
        assertThat(m.group(1)).isEqualTo(test);
        assertThat(Integer.parseInt(m.group(3))).isEqualTo(THREADS);
        return Integer.parseInt(m.group(2));
    }

    /** The number of keys memcslap stored before a get or mget test. */
    private static int initialLoad(Result r) {
        Matcher m = LOAD_LINE.matcher(r.output());
        assertThat(m.find())
                .as("memcslap's initial load line in:\n" + r.output())
                .isTrue();
        return Integer.parseInt(m.group(1));
    }

    /** The first check memccapable reports as failed ("file:line: expression"), or its whole output. */
    private static String firstFailedCheck(String output) {
        for (String line : output.split("\n")) {
            if (line.startsWith("./src/bin/memcapable.cc:") || line.contains("memcapable.cc:")) {
                return line.strip();
            }
        }
        return output;
    }

    private static void flushFarm() {
        try (TextClient client = new TextClient(farm.port())) {
            assertThat(client.exchange("flush_all\r\n")).isEqualTo("OK\r\n");
        }
    }

    private static Map<Integer, Long> itemsPerServer() {
        Map<Integer, Long> items = new LinkedHashMap<>();
        for (MemcachedProcess m : farm.servers()) {
            try (TextClient client = new TextClient(m.port())) {
                String stats = client.exchange("stats\r\n");
                Matcher n = Pattern.compile("STAT curr_items (\\d+)\r\n").matcher(stats);
                assertThat(n.find()).as(stats).isTrue();
                items.put(m.port(), Long.parseLong(n.group(1)));
            }
        }
        return items;
    }

    /** The tool's path, or the test is skipped when it is not installed. */
    private static String tool(String name) {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin").split(File.pathSeparator)) {
            Path p = Path.of(dir, name);
            if (Files.isExecutable(p)) {
                return p.toString();
            }
        }
        assumeTrue(false, name + " is not installed (package libmemcached-tools)");
        return name;
    }

    private record Result(int exitCode, String output, String errors) {}

    private static Result run(List<String> command) throws IOException, InterruptedException {
        Path out = Files.createTempFile("jmagent-tool", ".out");
        Path err = Files.createTempFile("jmagent-tool", ".err");
        try {
            Process p = new ProcessBuilder(command)
                    .redirectOutput(out.toFile())
                    .redirectError(err.toFile())
                    .start();
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
                throw new AssertionError(command + " did not finish within 60 s:\n" + Files.readString(out));
            }
            String stdout = Files.readString(out, StandardCharsets.ISO_8859_1);
            String stderr = Files.readString(err, StandardCharsets.ISO_8859_1);
            return new Result(p.exitValue(), stdout + stderr, stderr);
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }
}
