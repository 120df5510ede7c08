package io.jmagent.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.jmagent.testing.TextClient;
import java.io.IOException;
import java.time.Duration;

/**
 * Requests sent one after another for a fixed window to a server the proxy cannot use, to count
 * how often it reconnects. Its reconnect backoff starts at 100 ms and doubles: in two seconds one
 * connection tries at most five times (at 0, 0.1, 0.3, 0.7 and 1.5 s); {@link #MOST_ATTEMPTS}
 * leaves three times that, for two event loops and a slow machine.
 */
final class BackoffWindow {

    static final long MOST_ATTEMPTS = 15;

    private BackoffWindow() {}

    /** Sends {@code request} until {@code window} has passed, each answer starting with {@code failure}; how many. */
    static long requestFor(Duration window, TextClient client, String request, String failure) throws IOException {
        long end = System.nanoTime() + window.toNanos();
        long sent = 0;
        while (System.nanoTime() - end < 0) {
            assertThat(client.exchange(request)).startsWith(failure);
            sent++;
        }
        return sent;
    }
}
