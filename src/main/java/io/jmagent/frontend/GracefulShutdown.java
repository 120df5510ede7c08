package io.jmagent.frontend;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Closes pools gracefully, together: every pool stops accepting at once; each client goes on until
 * every request it sent is answered, then is closed; the wait ends when every pool is drained (no
 * client left, nothing still at a server, noreply requests included) or after {@code timeout},
 * shared by all of them; then what is left is closed. Runs on the caller's thread, never an event
 * loop: it waits.
 */
final class GracefulShutdown {

    private static final Logger log = LoggerFactory.getLogger(GracefulShutdown.class);

    private GracefulShutdown() {}

    static void close(List<ProxyServer> pools, Duration timeout) {
        List<ProxyServer> closing = new ArrayList<>();
        for (ProxyServer p : pools) {
            if (p.stopAccepting()) {
                closing.add(p);
            }
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!closing.stream().allMatch(ProxyServer::drained) && System.nanoTime() - deadline < 0 && pause()) {
            // clients close themselves as they finish
        }
        for (ProxyServer p : closing) {
            int left = p.clientCount();
            if (left > 0) {
                log.info(
                        "shutdown: closing {} clients of pool {} still waiting for answers after {} ms",
                        left,
                        p.name(),
                        timeout.toMillis());
            }
            p.closeNow();
        }
    }

    /** Waits a moment; false if interrupted (then the shutdown stops waiting). */
    private static boolean pause() {
        try {
            Thread.sleep(5);
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
