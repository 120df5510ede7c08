package io.jmagent.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.jmagent.routing.KetamaRing;
import io.jmagent.testing.MemcachedProcess;
import io.jmagent.testing.TextClient;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * Pipelined clients: a burst of requests written at once is answered completely and in request
 * order, as one memcached answers it; a client that asks for far more than it reads holds the
 * proxy to a bounded amount of buffering and does not slow anyone else down.
 */
class PipeliningIT {

    @Test
    void tenThousandPipelinedRequestsAreAnsweredCompletelyAndInRequestOrder() {
        byte[] burst = mixedRequests(new Random(42), 10_000);
        byte[] expected;
        try (MemcachedProcess single = MemcachedProcess.start();
                TextClient direct = new TextClient(single.port())) {
            expected = direct.exchange(burst);
        }
        String expectedText = new String(expected, StandardCharsets.ISO_8859_1);
        assertThat(expectedText)
                .as("the burst exercises every kind of reply")
                .contains(
                        "STORED\r\n",
                        "NOT_STORED\r\n",
                        "VALUE ",
                        "END\r\n",
                        "DELETED\r\n",
                        "NOT_FOUND\r\n",
                        "TOUCHED\r\n",
                        "CLIENT_ERROR cannot increment or decrement non-numeric value\r\n",
                        "ERROR\r\n");

        byte[] got;
        try (ProxiedFarm farm = ProxiedFarm.start(3);
                TextClient client = new TextClient(farm.port())) {
            got = client.exchange(burst);
        }

        assertThat(new String(got, StandardCharsets.ISO_8859_1)).isEqualTo(expectedText);
    }

    @Test
    void aClientThatShutsDownItsOutputGetsEveryReplyBeforeTheClose() throws Exception {
        byte[] burst = mixedRequests(new Random(9), 2_000);
        String expected;
        try (MemcachedProcess single = MemcachedProcess.start()) {
            expected = sendAllThenHalfClose(single.port(), burst);
        }
        assertThat(expected).as("memcached answers a half-closed client").contains("STORED\r\n", "VALUE ");

        try (ProxiedFarm farm = ProxiedFarm.start(3)) {
            assertThat(sendAllThenHalfClose(farm.port(), burst)).isEqualTo(expected);
        }
    }

    @Test
    void aClientThatDoesNotReadIsBoundedAndDoesNotHoldUpOthers() throws Exception {
        int gets = 50_000;
        int maxPending = 256;
        byte[] value = new byte[10 * 1024];
        Random random = new Random(7);
        for (int i = 0; i < value.length; i++) {
            value[i] = (byte) ('a' + random.nextInt(26));
        }
        byte[] block = concat(ascii("VALUE slow:big 0 " + value.length + "\r\n"), value, ascii("\r\nEND\r\n"));
        byte[] oneGet = ascii("get slow:big\r\n");

        // one event loop and one connection per server: the slow client shares everything with the other
        try (ProxiedFarm farm = ProxiedFarm.start(3, ConfigCopy.oneLoopOneConnection(maxPending));
                TextClient setup = new TextClient(farm.port())) {
            assertThat(setup.exchange(new String(
                            concat(ascii("set slow:big 0 0 " + value.length + "\r\n"), value, ascii("\r\n")),
                            StandardCharsets.ISO_8859_1)))
                    .isEqualTo("STORED\r\n");
            int owner = new KetamaRing(farm.proxy().config().servers()).serverFor(ascii("slow:big"));
            MemcachedProcess holder = farm.server(owner);
            long hitsBefore = getHits(holder);

            try (Socket slow = new Socket()) {
                slow.setReceiveBufferSize(64 * 1024);
                slow.connect(new InetSocketAddress("127.0.0.1", farm.port()), 2000);
                slow.setSoTimeout(10_000);
                OutputStream out = slow.getOutputStream();
                CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
                    byte[] chunk = new byte[oneGet.length * 1000];
                    for (int i = 0; i < 1000; i++) {
                        System.arraycopy(oneGet, 0, chunk, i * oneGet.length, oneGet.length);
                    }
                    try {
                        for (int i = 0; i < gets / 1000; i++) {
                            out.write(chunk);
                        }
                        out.flush();
                    } catch (IOException e) {
                        throw new IllegalStateException(e);
                    }
                });

                // the proxy stops asking the server for more once the client's backlog is full
                AtomicLong last = new AtomicLong(-1);
                await().atMost(Duration.ofSeconds(20))
                        .pollInterval(Duration.ofMillis(300))
                        .until(() -> {
                            long now = getHits(holder) - hitsBefore;
                            return now > 0 && now == last.getAndSet(now);
                        });

                try (TextClient other = new TextClient(farm.port())) {
                    for (int i = 0; i < 200; i++) {
                        String v = "other-" + i;
                        assertThat(other.exchange("set slow:other:" + i + " 0 0 " + v.length() + "\r\n" + v
                                        + "\r\nget slow:other:" + i + "\r\n"))
                                .isEqualTo("STORED\r\nVALUE slow:other:" + i + " 0 " + v.length() + "\r\n" + v
                                        + "\r\nEND\r\n");
                    }
                }
                // what the proxy may hold for it: maxPending requests, the rest of one socket read of
                // requests (64 KB, some 4,600 gets), and what fits in the socket buffers; not 50,000
                long stillServed = getHits(holder) - hitsBefore;
                assertThat(stillServed)
                        .as("gets the proxy fetched for a client that reads nothing")
                        .isLessThan(gets / 5);

                long replies = readRepeatedBlocks(slow.getInputStream(), block, gets);
                assertThat(replies).isEqualTo(gets);
                writer.get(10, TimeUnit.SECONDS);
            }
        }
    }

    /** Writes {@code requests}, shuts down the output, and returns everything read until the peer closes. */
    private static String sendAllThenHalfClose(int port, byte[] requests) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 2000);
            s.setSoTimeout(10_000);
            s.getOutputStream().write(requests);
            s.shutdownOutput();
            return new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
        }
    }

    /** Reads {@code count} copies of {@code block}, failing at the first byte that differs. */
    private static long readRepeatedBlocks(InputStream in, byte[] block, long count) throws IOException {
        long total = count * block.length;
        long offset = 0;
        byte[] buf = new byte[256 * 1024];
        while (offset < total) {
            int n = in.read(buf, 0, (int) Math.min(buf.length, total - offset));
            if (n < 0) {
                throw new AssertionError("connection closed after " + offset / block.length + " replies");
            }
            int i = 0;
            while (i < n) {
                int at = (int) (offset % block.length);
                int len = Math.min(n - i, block.length - at);
                if (Arrays.mismatch(buf, i, i + len, block, at, at + len) >= 0) {
                    throw new AssertionError("reply " + offset / block.length + " differs: "
                            + new String(buf, i, Math.min(len, 80), StandardCharsets.ISO_8859_1));
                }
                i += len;
                offset += len;
            }
        }
        return offset / block.length;
    }

    /** {@code count} requests over a few hundred keys: storage, retrieval, arithmetic, delete, some noreply. */
    private static byte[] mixedRequests(Random r, int count) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int i = 0; i < count; i++) {
            String key = "pipe:" + r.nextInt(300);
            String noreply = r.nextInt(4) == 0 ? " noreply" : "";
            int op = r.nextInt(100);
            String request;
            if (op < 25) {
                String value =
                        r.nextBoolean() ? Integer.toString(r.nextInt(100_000)) : "text-" + "v".repeat(r.nextInt(200));
                String command = op < 20 ? "set" : op < 22 ? "add" : op < 24 ? "append" : "replace";
                request = command + " " + key + " " + r.nextInt(1000) + " 0 " + value.length() + noreply + "\r\n"
                        + value + "\r\n";
            } else if (op < 50) {
                request = "get " + key + "\r\n";
            } else if (op < 57) {
                StringBuilder line = new StringBuilder("get");
                for (int k = 1 + r.nextInt(8); k > 0; k--) {
                    line.append(' ').append("pipe:").append(r.nextInt(300));
                }
                request = line + "\r\n";
            } else if (op < 72) {
                request = (r.nextBoolean() ? "incr " : "decr ") + key + " " + r.nextInt(1000) + noreply + "\r\n";
            } else if (op < 85) {
                request = "delete " + key + noreply + "\r\n";
            } else if (op < 90) {
                request = "touch " + key + " 0" + noreply + "\r\n";
            } else if (op < 99) {
                request = "get pipe:never:" + i + "\r\n";
            } else {
                request = "bogus " + key + "\r\n";
            }
            out.writeBytes(ascii(request));
        }
        return out.toByteArray();
    }

    /** The server's get_hits, from its stats, over a connection of its own. */
    private static long getHits(MemcachedProcess server) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", server.port()), 2000);
            s.setSoTimeout(5000);
            s.getOutputStream().write(ascii("stats\r\n"));
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            byte[] buf = new byte[8192];
            while (!got.toString(StandardCharsets.ISO_8859_1).endsWith("END\r\n")) {
                int n = s.getInputStream().read(buf);
                if (n < 0) {
                    throw new IOException("memcached closed the stats connection");
                }
                got.write(buf, 0, n);
            }
            for (String line : got.toString(StandardCharsets.ISO_8859_1).split("\r\n")) {
                if (line.startsWith("STAT get_hits ")) {
                    return Long.parseLong(line.substring("STAT get_hits ".length()));
                }
            }
            throw new IOException("no get_hits in stats");
        }
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }
}
