package io.jmagent.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.jmagent.testing.MemcachedProcess;
import io.jmagent.testing.TextClient;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * What clients should not send: values past the item size, lines that never end, garbage and
 * binary junk, data blocks whose length lies. The proxy answers as one memcached does where
 * memcached defines an answer, closes only the offending connection, and keeps serving everyone.
 */
class BadInputIT {

    private static final int MAX_RETRIEVAL_LINE = 16 * 1024;

    private static ProxiedFarm farm;
    /** The reference: one plain memcached, given the same bytes. */
    private static MemcachedProcess single;

    @BeforeAll
    static void start() {
        farm = ProxiedFarm.start(3, ConfigCopy.maxRetrievalLine(MAX_RETRIEVAL_LINE));
        single = MemcachedProcess.start();
    }

    @AfterAll
    static void stop() {
        try {
            if (single != null) {
                single.close();
            }
        } finally {
            if (farm != null) {
                farm.close();
            }
        }
    }

    @Test
    void aTwoMegabyteValueIsRefusedAsMemcachedRefusesItAndTheConnectionKeepsWorking() {
        String big = "x".repeat(2 * 1024 * 1024);
        String request = "set big 0 0 3\r\nold\r\n"
                + "set big 0 0 " + big.length() + "\r\n" + big + "\r\n"
                + "get big\r\n"
                + "set kept 0 0 4\r\nkept\r\n"
                + "add kept 0 0 " + big.length() + "\r\n" + big + "\r\n"
                + "set quiet 0 0 " + big.length() + " noreply\r\n" + big + "\r\n"
                + "get kept\r\n"
                + "set after 0 0 5\r\nafter\r\nget after\r\n";

        String expected = "STORED\r\n"
                + "SERVER_ERROR object too large for cache\r\n"
                + "END\r\n"
                + "STORED\r\n"
                + "SERVER_ERROR object too large for cache\r\n"
                + "VALUE kept 0 4\r\nkept\r\nEND\r\n"
                + "STORED\r\nVALUE after 0 5\r\nafter\r\nEND\r\n";
        assertThat(exchangeWithMemcached(request)).isEqualTo(expected);
        assertThat(exchangeWithProxy(request)).isEqualTo(expected);
    }

    @Test
    void aLineThatNeverEndsClosesOnlyItsOwnConnection() throws Exception {
        try (TextClient other = new TextClient(farm.port());
                Socket endless = connect()) {
            assertThat(other.exchange("set bystander 0 0 2\r\nok\r\n")).isEqualTo("STORED\r\n");
            byte[] line = ("set " + "k".repeat(3000)).getBytes(StandardCharsets.US_ASCII);
            for (int from = 0; from < line.length; from += 1000) {
                endless.getOutputStream().write(line, from, Math.min(1000, line.length - from));
                endless.getOutputStream().flush();
                assertThat(other.exchange("get bystander\r\n")).isEqualTo("VALUE bystander 0 2\r\nok\r\nEND\r\n");
            }

            // as memcached: a line that is no multiget and has no newline in 2048 bytes is dropped unanswered
            assertThat(readUntilClosed(endless)).isEmpty();
            assertThat(other.exchange("get bystander\r\n")).isEqualTo("VALUE bystander 0 2\r\nok\r\nEND\r\n");
        }
    }

    /**
     * memcached (proto_text.c, try_read_command_ascii) closes a connection only when the bytes it has
     * read and not parsed hold no newline and pass 2048; a longer line that arrives whole, up to its
     * 16 KB read buffer, is parsed (issue 18). Each script is played after a dozen small round trips
     * (which shrink the proxy's socket reads) on memcached and on the proxy, a pause after each write.
     */
    @Test
    void aLongCommandLineIsJudgedOnWhatHasArrivedAsMemcachedJudgesIt() throws Exception {
        List<List<String>> scripts = List.of(
                List.of(deleteLine(2048) + "\r\n"),
                List.of(deleteLine(2049) + "\r\n"),
                List.of(deleteLine(9000) + "\r\n"),
                List.of(deleteLine(16382) + "\r\n"),
                List.of(deleteLine(16383) + "\r\n"),
                List.of(deleteLine(2048), "\r\n"),
                List.of(deleteLine(2047) + "\r", "\n"),
                List.of(deleteLine(2048) + "\r", "\n"),
                List.of(deleteLine(2049), "\r\n"),
                List.of(deleteLine(9000).substring(0, 2048), deleteLine(9000).substring(2048) + "\r\n"),
                List.of(deleteLine(9000).substring(0, 4500), deleteLine(9000).substring(4500) + "\r\n"),
                List.of("get lead " + "k".repeat(1500), "k".repeat(1500) + " lead\r\n"));
        for (List<String> script : scripts) {
            List<String> writes = new ArrayList<>(script);
            writes.add("get lead\r\n");
            String name = writes.stream()
                    .map(w -> w.length() > 40 ? w.substring(0, 10) + "...(" + w.length() + ")" : w)
                    .toList()
                    .toString()
                    .replace("\r", "\\r")
                    .replace("\n", "\\n");
            assertThat(playAfterRoundTrips(farm.port(), writes))
                    .as("proxy's answers to %s", name)
                    .isEqualTo(playAfterRoundTrips(single.port(), writes));
        }
    }

    /** "delete k" and as many x as make a line of {@code length} bytes, without its line end. */
    private static String deleteLine(int length) {
        return "delete k" + "x".repeat(length - 8);
    }

    /**
     * On a new connection, a dozen small round trips, then each write in turn: what came back after
     * it (all of it up to a sentinel version's reply when the write ends a line, else whatever came
     * within 300 ms), and {@code <closed>} once the other side closed.
     */
    private static List<String> playAfterRoundTrips(int port, List<String> writes) throws IOException {
        List<String> transcript = new ArrayList<>();
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 2000);
            s.setTcpNoDelay(true);
            assertThat(answerTo(s, "set lead 0 0 1\r\nL\r\n")).isEqualTo("STORED\r\n");
            for (int i = 0; i < 12; i++) {
                assertThat(answerTo(s, "get lead\r\n")).isEqualTo("VALUE lead 0 1\r\nL\r\nEND\r\n");
            }
            for (String write : writes) {
                String answer = answerTo(s, write);
                transcript.add(answer);
                if (answer.endsWith(TextClient.CLOSED)) {
                    break;
                }
            }
        }
        return transcript;
    }

    private static String answerTo(Socket s, String write) throws IOException {
        boolean endsLine = write.endsWith("\n");
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        try {
            s.getOutputStream().write((endsLine ? write + "version\r\n" : write).getBytes(StandardCharsets.ISO_8859_1));
        } catch (IOException e) {
            return TextClient.CLOSED;
        }
        s.setSoTimeout(endsLine ? 5000 : 300);
        byte[] buf = new byte[8192];
        try {
            int n;
            while ((n = s.getInputStream().read(buf)) >= 0) {
                got.write(buf, 0, n);
                String text = got.toString(StandardCharsets.ISO_8859_1);
                if (endsLine
                        && text.endsWith("\r\n")
                        && text.lastIndexOf("VERSION ") >= 0
                        && text.indexOf("\r\n", text.lastIndexOf("VERSION ")) == text.length() - 2) {
                    return text.substring(0, text.lastIndexOf("VERSION "));
                }
            }
            return got.toString(StandardCharsets.ISO_8859_1) + TextClient.CLOSED;
        } catch (SocketTimeoutException e) {
            if (endsLine) {
                throw new AssertionError("no reply to the sentinel within 5 s; got " + got);
            }
            return got.toString(StandardCharsets.ISO_8859_1);
        } catch (IOException e) {
            return got.toString(StandardCharsets.ISO_8859_1) + TextClient.CLOSED;
        }
    }

    @Test
    void aGetLineMayBeLongUpToItsOwnBound() throws Exception {
        StringBuilder keys = new StringBuilder();
        StringBuilder hits = new StringBuilder();
        for (int i = 0; keys.length() < MAX_RETRIEVAL_LINE / 2; i++) {
            keys.append(" long:get:").append(i);
            if (i % 10 == 0) {
                assertThat(exchangeWithProxy("set long:get:" + i + " 0 0 1\r\n" + i % 7 + "\r\n"))
                        .isEqualTo("STORED\r\n");
                hits.append("VALUE long:get:")
                        .append(i)
                        .append(" 0 1\r\n")
                        .append(i % 7)
                        .append("\r\n");
            }
        }
        assertThat(exchangeWithProxy("get" + keys + "\r\n")).isEqualTo(hits + "END\r\n");

        try (Socket endless = connect()) {
            endless.getOutputStream().write(("get" + keys + keys + keys).getBytes(StandardCharsets.US_ASCII));
            assertThat(readUntilClosed(endless)).isEqualTo("CLIENT_ERROR line too long\r\n");
        }
    }

    @Test
    void aStorageCommandWhoseLengthLiesIsReadAsMemcachedReadsIt() {
        List<String> lies = List.of(
                "set lie 0 0 1\r\nx\r\n",
                // says 10, sends 5 and then a new command: the data block runs into it
                "set lie 0 0 10\r\nabcde\r\nget lie\r\n",
                "set lie 0 0 10 noreply\r\nabcde\r\nget lie\r\n",
                "set lie 0 0 10\r\nabcde\r\ndelete lie\r\nget lie\r\n",
                "cas lie 0 0 10 12345\r\nabcde\r\nget lie\r\n",
                "append lie 0 0 10\r\nabc\r\n\r\n\r\nget lie\r\n",
                // says 10, sends 5 and a command that happens to end exactly at byte 10
                "set lie 0 0 10\r\nabcde\r\nget\r\n\r\nget lie\r\n",
                // says 5, sends 10
                "set lie 0 0 5\r\nabcdefghij\r\nget lie\r\n",
                "set lie 0 0 5 noreply\r\nabcdefghij\r\nget lie\r\n",
                "set lie 0 0 0\r\nabc\r\nget lie\r\n",
                "get lie\r\n");
        try (TextClient memcached = new TextClient(single.port());
                TextClient proxy = new TextClient(farm.port())) {
            for (String lie : lies) {
                assertThat(proxy.exchange(lie))
                        .as("reply to %s", lie.replace("\r\n", "\\r\\n"))
                        .isEqualTo(memcached.exchange(lie));
            }
        }
    }

    @Test
    void aNulByteEndsTheCommandLineAsInMemcached() {
        List<String> requests = List.of(
                "set bystander 0 0 6\r\nsecret\r\nset a 0 0 1\r\nA\r\nset n 0 0 1\r\n1\r\n",
                // memcached reads "set smuggler", refuses it, and runs the data block as a command
                "set smuggler\0 0 0 13\r\nget bystander\r\n",
                "set a\0b 0 0 1\r\nx\r\nget a\r\n",
                "get a\0 bystander\r\n",
                "incr n\0 5\r\nget n\r\n",
                "touch a\0 100\r\n",
                "delete a\0 junk\r\nget a\r\n");
        try (TextClient memcached = new TextClient(single.port());
                TextClient proxy = new TextClient(farm.port())) {
            for (String request : requests) {
                assertThat(proxy.exchange(request))
                        .as("reply to %s", request.replace("\r\n", "\\r\\n"))
                        .isEqualTo(memcached.exchange(request));
            }
        }
        assertEveryServerAnswersInStep();
    }

    @Test
    void garbageAndBinaryJunkNeverBringTheProxyDown() throws Exception {
        try (TextClient before = new TextClient(farm.port())) {
            assertThat(before.exchange("set survivor 0 0 5\r\nalive\r\n")).isEqualTo("STORED\r\n");
            Random random = new Random(20240611);
            for (int i = 0; i < 120; i++) {
                byte[] junk =
                        switch (i % 4) {
                            case 0 -> binaryRequestJunk(random);
                            case 1 -> randomBytesNotStartingWithBinaryMagic(random);
                            default -> textGarbage(random);
                        };
                try (Socket s = connect()) {
                    s.getOutputStream().write(junk);
                    s.shutdownOutput();
                    readUntilClosed(s);
                }
            }
            assertThat(before.exchange("get survivor\r\n")).isEqualTo("VALUE survivor 0 5\r\nalive\r\nEND\r\n");
        }

        assertEveryServerAnswersInStep();
        await().atMost(Duration.ofSeconds(5))
                .untilAsserted(() -> assertThat(farm.proxy().server().stats().currConnections())
                        .as("client connections still counted open")
                        .isZero());
    }

    /** A fresh client's keys, spread over every server, come back exactly: no connection is out of step. */
    private static void assertEveryServerAnswersInStep() {
        try (TextClient fresh = new TextClient(farm.port())) {
            StringBuilder request = new StringBuilder();
            StringBuilder expected = new StringBuilder();
            StringBuilder multiGet = new StringBuilder("get");
            StringBuilder multiHits = new StringBuilder();
            for (int i = 0; i < 30; i++) {
                request.append("set in:step:")
                        .append(i)
                        .append(" 7 0 2\r\nv")
                        .append(i % 10)
                        .append("\r\n");
                expected.append("STORED\r\n");
                multiGet.append(" in:step:").append(i);
                multiHits
                        .append("VALUE in:step:")
                        .append(i)
                        .append(" 7 2\r\nv")
                        .append(i % 10)
                        .append("\r\n");
            }
            assertThat(fresh.exchange(request + multiGet.toString() + "\r\n"))
                    .isEqualTo(expected + multiHits.toString() + "END\r\n");
        }
    }

    /** A binary-protocol header (magic 0x80) with random opcode and lengths, then random bytes. */
    private static byte[] binaryRequestJunk(Random random) {
        byte[] junk = new byte[24 + random.nextInt(4000)];
        random.nextBytes(junk);
        junk[0] = (byte) 0x80;
        return junk;
    }

    private static byte[] randomBytesNotStartingWithBinaryMagic(Random random) {
        byte[] junk = new byte[1 + random.nextInt(20_000)];
        random.nextBytes(junk);
        if (junk[0] == (byte) 0x80) {
            junk[0] = 0x7f;
        }
        return junk;
    }

    /** Lines made of command words, odd numbers, odd keys and stray line ends. */
    private static byte[] textGarbage(Random random) {
        String[] words = {
            "get",
            "gets",
            "gat",
            "gats",
            "set",
            "add",
            "replace",
            "append",
            "prepend",
            "cas",
            "incr",
            "decr",
            "delete",
            "touch",
            "version",
            "stats",
            "noreply",
            "mg",
            "ms",
            "me",
            "0",
            "-1",
            "1",
            "10",
            "4294967296",
            "18446744073709551616",
            "99999999999999999999999",
            "abc",
            "k",
            "\u0000",
            "\t",
            "\r",
            "\r\n",
            "\n",
            " ",
            "k".repeat(251),
            "k".repeat(250),
            "VALUE",
            "END",
            "HTTP/1.1"
        };
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int line = 1 + random.nextInt(60); line > 0; line--) {
            for (int t = random.nextInt(8); t >= 0; t--) {
                out.writeBytes(words[random.nextInt(words.length)].getBytes(StandardCharsets.ISO_8859_1));
                if (random.nextInt(3) > 0) {
                    out.write(' ');
                }
            }
            if (random.nextInt(5) == 0) {
                byte[] data = new byte[random.nextInt(40)];
                random.nextBytes(data);
                out.writeBytes(data);
            }
            out.writeBytes(random.nextInt(6) == 0 ? new byte[] {'\n'} : new byte[] {'\r', '\n'});
        }
        return out.toByteArray();
    }

    private static Socket connect() throws IOException {
        Socket s = new Socket();
        s.connect(new InetSocketAddress("127.0.0.1", farm.port()), 2000);
        s.setSoTimeout(5000);
        return s;
    }

    /** Everything the proxy sends until it closes the connection (within the socket timeout). */
    private static String readUntilClosed(Socket s) throws IOException {
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        InputStream in = s.getInputStream();
        byte[] buf = new byte[8192];
        try {
            int n;
            while ((n = in.read(buf)) >= 0) {
                got.write(buf, 0, n);
            }
        } catch (SocketTimeoutException e) {
            throw new AssertionError(
                    "the proxy did not close the connection; it sent: " + got.toString(StandardCharsets.ISO_8859_1));
        } catch (IOException e) {
            // reset by the proxy: closed as well
        }
        return got.toString(StandardCharsets.ISO_8859_1);
    }

    private static String exchangeWithProxy(String request) {
        try (TextClient c = new TextClient(farm.port())) {
            return c.exchange(request);
        }
    }

    private static String exchangeWithMemcached(String request) {
        try (TextClient c = new TextClient(single.port())) {
            return c.exchange(request);
        }
    }
}
