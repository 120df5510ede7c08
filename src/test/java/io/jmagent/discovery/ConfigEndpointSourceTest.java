package io.jmagent.discovery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jmagent.backend.ServerAddress;
import io.jmagent.config.Discovery;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The {@code config get cluster} answer as ElastiCache documents it, from a stand-in endpoint. */
class ConfigEndpointSourceTest {

    @Test
    void readsTheNodesOfAnAnswer() throws Exception {
        String body = "12\nmc1.example.com|10.0.0.1|11211 |10.0.0.2|11212\n";
        try (ServerSocket endpoint = answering("CONFIG cluster 0 " + body.length() + "\r\n" + body + "\r\nEND\r\n")) {
            ServerSource.Answer a = new ConfigEndpointSource(
                            new Discovery.ConfigEndpoint("127.0.0.1", endpoint.getLocalPort()), Duration.ofSeconds(2))
                    .lookup();
            assertThat(a.servers())
                    .containsExactly(
                            new ServerAddress("mc1.example.com", 11211, 1), new ServerAddress("10.0.0.2", 11212, 1));
            assertThat(a.ttl()).isNull();
        }
    }

    @Test
    void anythingElseIsAFailure() throws Exception {
        for (String answer : new String[] {
            "ERROR\r\n",
            "CONFIG cluster 0 40\r\n12\nshort\n",
            "CONFIG cluster 0 6\r\n1\na|b\n\r\nEND\r\n",
            "CONFIG cluster 0 4\r\n1\nx\n\r\nNOPE\r\n"
        }) {
            try (ServerSocket endpoint = answering(answer)) {
                ConfigEndpointSource source = new ConfigEndpointSource(
                        new Discovery.ConfigEndpoint("127.0.0.1", endpoint.getLocalPort()), Duration.ofSeconds(2));
                assertThatThrownBy(source::lookup).as(answer).isInstanceOf(IOException.class);
            }
        }
    }

    /** Answers every connection with {@code answer}, once it read the request line, then closes it. */
    private static ServerSocket answering(String answer) throws IOException {
        ServerSocket server = new ServerSocket(0, 10, InetAddress.getLoopbackAddress());
        Thread t = new Thread(() -> {
            while (!server.isClosed()) {
                try (Socket s = server.accept()) {
                    InputStream in = s.getInputStream();
                    while (in.read() != '\n') {
                        // the request line
                    }
                    OutputStream out = s.getOutputStream();
                    out.write(answer.getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                } catch (IOException e) {
                    // closed
                }
            }
        });
        t.setDaemon(true);
        t.start();
        return server;
    }
}
