package io.jmagent.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.jmagent.testing.MemcachedProcess;
import io.jmagent.testing.TextClient;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import net.spy.memcached.DefaultHashAlgorithm;
import net.spy.memcached.FailureMode;
import net.spy.memcached.KetamaConnectionFactory;
import net.spy.memcached.KetamaNodeKeyFormatter;
import net.spy.memcached.MemcachedClient;

/**
 * The memcached servers behind a proxy, seen directly, bypassing the proxy: what each one holds,
 * and where an independent ketama implementation says each key belongs. The oracle is
 * spymemcached's {@code KetamaNodeLocator} with the LIBMEMCACHED node-key format and weights,
 * which is libmemcached's weighted ketama; a key the proxy stored must be readable by it.
 */
final class FarmView implements AutoCloseable {

    static {
        System.setProperty("net.spy.log.LoggerImpl", "net.spy.memcached.compat.log.SLF4JLogger");
    }

    private final List<MemcachedProcess> servers;
    private final MemcachedClient ketama;

    FarmView(List<MemcachedProcess> servers) {
        this.servers = List.copyOf(servers);
        List<InetSocketAddress> addresses = new ArrayList<>();
        Map<InetSocketAddress, Integer> weights = new HashMap<>();
        for (MemcachedProcess m : servers) {
            InetSocketAddress a = new InetSocketAddress(literalLoopback(), m.port());
            addresses.add(a);
            weights.put(a, 1);
        }
        KetamaConnectionFactory factory =
                new KetamaConnectionFactory(
                        KetamaConnectionFactory.DEFAULT_OP_QUEUE_LEN, KetamaConnectionFactory.DEFAULT_READ_BUFFER_SIZE,
                        KetamaConnectionFactory.DEFAULT_OP_QUEUE_MAX_BLOCK_TIME, DefaultHashAlgorithm.KETAMA_HASH,
                        KetamaNodeKeyFormatter.Format.LIBMEMCACHED, weights) {
                    @Override
                    public long getOperationTimeout() {
                        return 5000;
                    }

                    @Override
                    public boolean isDaemon() {
                        return true;
                    }

                    @Override
                    public FailureMode getFailureMode() {
                        return FailureMode.Cancel;
                    }
                };
        try {
            ketama = new MemcachedClient(factory, addresses);
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
        // in Cancel mode an operation for a server not yet connected is cancelled, not queued
        await().atMost(Duration.ofSeconds(10))
                .until(() -> ketama.getAvailableServers().size() == servers.size());
    }

    /**
     * 127.0.0.1 whose host name is "127.0.0.1". spymemcached names its ketama points after
     * {@code getHostName()}, which for a plain loopback address is the reverse lookup "localhost";
     * libmemcached, and the proxy, name them after the host exactly as configured.
     */
    private static InetAddress literalLoopback() {
        try {
            return InetAddress.getByAddress("127.0.0.1", new byte[] {127, 0, 0, 1});
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Index of the server ketama (libmemcached's, as spymemcached computes it) assigns {@code key} to. */
    int ownerOf(String key) {
        InetSocketAddress a =
                (InetSocketAddress) ketama.getNodeLocator().getPrimary(key).getSocketAddress();
        for (int i = 0; i < servers.size(); i++) {
            if (servers.get(i).port() == a.getPort()) {
                return i;
            }
        }
        throw new IllegalStateException("ketama chose an unknown server " + a);
    }

    /** The values the ketama client reads for {@code keys}, talking to the servers itself. */
    Map<String, Object> readThroughKetama(Collection<String> keys) {
        return ketama.getBulk(keys);
    }

    /** What server {@code server} holds for {@code keys} (hits only), asked directly. */
    Map<String, String> valuesOn(int server, Collection<String> keys) {
        Map<String, String> found = new LinkedHashMap<>();
        try (TextClient direct = new TextClient(servers.get(server).port())) {
            List<String> batch = new ArrayList<>();
            for (String key : keys) {
                batch.add(key);
                if (batch.size() == 200) {
                    found.putAll(parseValues(direct.exchange(getLine(batch))));
                    batch.clear();
                }
            }
            if (!batch.isEmpty()) {
                found.putAll(parseValues(direct.exchange(getLine(batch))));
            }
        }
        return found;
    }

    /** Sends {@code request} to server {@code server} directly and returns its reply. */
    String askDirectly(int server, String request) {
        try (TextClient direct = new TextClient(servers.get(server).port())) {
            return direct.exchange(request);
        }
    }

    /**
     * The values of {@code keys} found on the servers, each asserted to be on the server ketama
     * assigns it and on no other; keys held nowhere are absent from the result.
     */
    Map<String, String> valuesWhereKetamaPutsThem(Collection<String> keys) {
        Map<String, String> found = new HashMap<>();
        for (int s = 0; s < servers.size(); s++) {
            Map<String, String> held = valuesOn(s, keys);
            List<String> misplaced = new ArrayList<>();
            for (String key : held.keySet()) {
                if (ownerOf(key) != s) {
                    misplaced.add(key);
                }
            }
            assertThat(misplaced)
                    .as(
                            "keys on server %d (%s) that ketama assigns elsewhere",
                            s, servers.get(s).address())
                    .isEmpty();
            found.putAll(held);
        }
        return found;
    }

    /**
     * Asserts that every key of {@code expected} is stored, with exactly its value, on the server
     * ketama assigns it to and on no other server, and that a ketama client reads it there.
     */
    void assertPlacement(Map<String, String> expected) {
        Map<String, String> found = valuesWhereKetamaPutsThem(expected.keySet());
        assertThat(found.keySet())
                .as("keys found on their servers")
                .containsExactlyInAnyOrderElementsOf(expected.keySet());
        assertThat(found).as("values found on their servers").isEqualTo(expected);
        assertThat(readThroughKetama(expected.keySet()))
                .as("values a ketama client reads from the servers directly")
                .isEqualTo(expected);
    }

    private static byte[] getLine(List<String> keys) {
        return ("get " + String.join(" ", keys) + "\r\n").getBytes(StandardCharsets.UTF_8);
    }

    /** Parses "VALUE key flags bytes\r\ndata\r\n" blocks and END lines. */
    private static Map<String, String> parseValues(byte[] reply) {
        Map<String, String> values = new LinkedHashMap<>();
        int i = 0;
        while (i < reply.length) {
            int eol = indexOfCrLf(reply, i);
            String line = new String(reply, i, eol - i, StandardCharsets.UTF_8);
            i = eol + 2;
            if (line.equals("END")) {
                continue;
            }
            String[] t = line.split(" ");
            if (!t[0].equals("VALUE")) {
                throw new AssertionError("unexpected line from memcached: " + line);
            }
            int length = Integer.parseInt(t[3]);
            values.put(t[1], new String(reply, i, length, StandardCharsets.UTF_8));
            i += length + 2;
        }
        return values;
    }

    private static int indexOfCrLf(byte[] b, int from) {
        for (int i = from; i + 1 < b.length; i++) {
            if (b[i] == '\r' && b[i + 1] == '\n') {
                return i;
            }
        }
        throw new AssertionError("reply without CRLF: " + new String(b, from, b.length - from, StandardCharsets.UTF_8));
    }

    @Override
    public void close() {
        ketama.shutdown(2, java.util.concurrent.TimeUnit.SECONDS);
    }
}
