package io.jmagent.backend;

import java.io.Closeable;
import java.io.IOException;

/**
 * How {@link HealthChecker} reaches a server: a blocking, line-oriented conversation on the health
 * thread ({@link SocketProbeTransport} in production; a test puts a model server behind it), and
 * how it waits out a grace period.
 */
interface ProbeTransport {

    /** A fresh connection to {@code server}. */
    ProbeLink open(ServerAddress server) throws IOException;

    /** Waits {@code millis} on the health thread (never an event loop). */
    void pause(long millis);

    /** One probe connection: text out, reply lines back (without their CRLF). */
    interface ProbeLink extends Closeable {

        void send(String text) throws IOException;

        String readLine() throws IOException;

        @Override
        void close() throws IOException;
    }
}
