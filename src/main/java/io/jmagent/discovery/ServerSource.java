package io.jmagent.discovery;

import io.jmagent.backend.ServerAddress;
import java.io.IOException;
import java.time.Duration;
import java.util.List;

/** Where one list of servers comes from: asked on discovery's thread, blocking, bounded by a timeout. */
interface ServerSource extends AutoCloseable {

    /** The servers the source names now; throws when it cannot tell (the last good list then stays). */
    Answer lookup() throws IOException;

    @Override
    default void close() {}

    /**
     * One answer: its servers, and how long it holds (a DNS answer's smallest TTL; null: until the
     * next interval).
     */
    record Answer(List<ServerAddress> servers, Duration ttl) {
        public Answer {
            servers = List.copyOf(servers);
        }
    }
}
