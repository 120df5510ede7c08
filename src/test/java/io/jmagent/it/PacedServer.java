package io.jmagent.it;

import java.io.IOException;
import java.time.Duration;

/**
 * A stand-in for a memcached that is slow but steady: it answers every request line with
 * {@code END} (a miss), one line at a time, {@code pause} after the previous answer. Only for
 * requests that are one line (get).
 */
final class PacedServer implements AutoCloseable {

    private final LineServer server;

    PacedServer(Duration pause) throws IOException {
        this.server = new LineServer("paced-server", line -> {
            Thread.sleep(pause.toMillis());
            return "END\r\n";
        });
    }

    int port() {
        return server.port();
    }

    @Override
    public void close() throws IOException {
        server.close();
    }
}
