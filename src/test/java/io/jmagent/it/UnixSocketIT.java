package io.jmagent.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.jmagent.config.ProxyConfig;
import io.jmagent.testing.MemcachedProcess;
import io.jmagent.testing.RunningProxy;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** magent's -f: the proxy also listens on a unix domain socket, serving it like its TCP port. */
class UnixSocketIT {

    @TempDir
    Path dir;

    @Test
    void aClientOnTheUnixSocketIsServedLikeOneOnTcp() throws IOException {
        Path socket = dir.resolve("jmagent.sock");
        List<MemcachedProcess> servers = List.of(MemcachedProcess.start(), MemcachedProcess.start());
        try (RunningProxy proxy = RunningProxy.over(
                servers,
                List.of(),
                c -> new ProxyConfig(
                        c.listenAddress(),
                        c.port(),
                        socket,
                        c.servers(),
                        c.backups(),
                        c.maxConnections(),
                        c.maxKeepAlive(),
                        c.threads(),
                        c.connectionsPerLoop(),
                        c.timeout(),
                        c.maxItemSize(),
                        c.maxRetrievalLine(),
                        c.maxPendingPerClient(),
                        c.verbosity()))) {
            assertThat(Files.exists(socket)).isTrue();
            try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
                ch.connect(UnixDomainSocketAddress.of(socket));
                String request = "set unix:a 3 0 5\r\nhello\r\nset unix:b 0 0 2\r\nhi\r\nget unix:a unix:b unix:c\r\n";
                ch.write(ByteBuffer.wrap(request.getBytes(StandardCharsets.US_ASCII)));
                String expected = "STORED\r\nSTORED\r\nVALUE unix:a 3 5\r\nhello\r\nVALUE unix:b 0 2\r\nhi\r\nEND\r\n";
                assertThat(read(ch, expected.length())).isEqualTo(expected);
            }
            // and the same data through TCP
            try (io.jmagent.testing.TextClient tcp = new io.jmagent.testing.TextClient(proxy.port())) {
                assertThat(tcp.exchange("get unix:a\r\n")).isEqualTo("VALUE unix:a 3 5\r\nhello\r\nEND\r\n");
            }
        } finally {
            servers.forEach(MemcachedProcess::close);
        }
    }

    /** Reads up to {@code length} bytes, giving up after 5 s (non-blocking, so a hung proxy fails the test). */
    private static String read(SocketChannel ch, int length) throws IOException {
        ch.configureBlocking(false);
        ByteBuffer buf = ByteBuffer.allocate(length);
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (buf.hasRemaining() && System.nanoTime() < deadline) {
            int n = ch.read(buf);
            if (n < 0) {
                break;
            }
            if (n == 0) {
                Thread.onSpinWait();
            }
        }
        return new String(buf.array(), 0, buf.position(), StandardCharsets.US_ASCII);
    }
}
