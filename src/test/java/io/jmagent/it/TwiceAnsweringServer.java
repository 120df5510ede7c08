package io.jmagent.it;

import java.io.IOException;

/**
 * A stand-in for a memcached that breaks the meta framing: it answers {@code mg twice ...} with two
 * replies ({@code HD} twice), any other mg with {@code EN}, {@code mn} with {@code MN}, stats as a
 * memcached 1.6 that is up, and anything else with {@code ERROR}.
 */
final class TwiceAnsweringServer implements AutoCloseable {

    /** What the proxy's health probe reads: a memcached 1.6 that is up. */
    private static final String STATS =
            "STAT pid 1\r\nSTAT uptime 100\r\nSTAT time 1700000000\r\n" + "STAT version 1.6.18\r\nEND\r\n";

    private final LineServer server;

    TwiceAnsweringServer() throws IOException {
        this.server = new LineServer(
                "twice-answering-server",
                line -> line.startsWith("mg twice")
                        ? "HD\r\nHD\r\n"
                        : line.startsWith("mg ")
                                ? "EN\r\n"
                                : line.equals("mn") ? "MN\r\n" : line.equals("stats") ? STATS : "ERROR\r\n");
    }

    int port() {
        return server.port();
    }

    @Override
    public void close() throws IOException {
        server.close();
    }
}
