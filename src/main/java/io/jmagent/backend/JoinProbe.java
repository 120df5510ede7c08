package io.jmagent.backend;

import java.io.IOException;
import java.time.Duration;

/**
 * Whether a server found by discovery may join a running ring: it answers {@code version} (over
 * TLS and after a login where the pool's servers want them), and, when asked, it is flushed first
 * ({@code flush_all} answered {@code OK}), so that nothing it held from an earlier membership is
 * read. Blocking, on the caller's thread (discovery's, never an event loop).
 */
public final class JoinProbe {

    private final SocketProbeTransport transport;

    /** {@code tls} and {@code login}: what the pool's server connections use (null: none). */
    public JoinProbe(Duration timeout, ServerTlsContext tls, ServerLogin login) {
        this.transport = new SocketProbeTransport((int) Math.max(50, timeout.toMillis()), tls, login);
    }

    /** Null when {@code server} may join; otherwise why not. */
    public String check(ServerAddress server, boolean flush) {
        try (ProbeTransport.ProbeLink link = transport.open(server)) {
            link.send("version\r\n");
            String version = link.readLine();
            if (version == null || !version.startsWith("VERSION ")) {
                return "answered version with " + version;
            }
            if (flush) {
                link.send("flush_all\r\n");
                String ok = link.readLine();
                if (!"OK".equals(ok)) {
                    return "answered flush_all with " + ok;
                }
            }
            return null;
        } catch (IOException e) {
            return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        }
    }
}
