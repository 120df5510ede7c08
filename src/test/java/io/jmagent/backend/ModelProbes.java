package io.jmagent.backend;

import java.io.IOException;
import java.util.List;
import java.util.function.Function;

/**
 * For model tests outside this package: {@link HealthChecker}'s real probe logic (recovery,
 * flush on return, cleaning) run on the test thread against model servers, and the package-private
 * health transitions a model needs. A probe's commands run at once, as one step of the model.
 */
public final class ModelProbes implements AutoCloseable {

    /** A model server as a probe sees it. */
    public interface Server {
        /** False when a probe cannot get an answer (dead, or frozen: it would time out). */
        boolean reachable();

        /** Runs a request buffer and returns its reply bytes. */
        String execute(String request);
    }

    private final HealthChecker checker;

    /**
     * {@code grace}: what may happen while the checker waits out its grace period (requests a
     * returning server still had buffered land).
     */
    public ModelProbes(
            List<ServerHealth> servers, Function<ServerAddress, Server> lookup, Runnable grace, CopyRefill refill) {
        this.checker = new HealthChecker(
                servers,
                java.time.Duration.ofSeconds(1),
                new ProbeTransport() {
                    @Override
                    public ProbeLink open(ServerAddress address) throws IOException {
                        Server s = lookup.apply(address);
                        if (!s.reachable()) {
                            throw new IOException("model server " + address + " unreachable");
                        }
                        return new Link(s);
                    }

                    @Override
                    public void pause(long millis) {
                        grace.run();
                    }
                },
                true,
                null,
                refill); // one proxy alone over its farms
    }

    /** One probe of {@code h}, as a round of the health thread runs it. */
    public void probe(ServerHealth h) {
        checker.probe(h);
    }

    public static void markDown(ServerHealth h, String reason) {
        h.markDown(reason);
    }

    @Override
    public void close() {
        checker.close();
    }

    private static final class Link implements ProbeTransport.ProbeLink {
        private final Server server;
        private final StringBuilder replies = new StringBuilder();

        Link(Server server) {
            this.server = server;
        }

        @Override
        public void send(String text) throws IOException {
            if (!server.reachable()) {
                throw new IOException("model server unreachable");
            }
            replies.append(server.execute(text));
        }

        @Override
        public String readLine() throws IOException {
            int eol = replies.indexOf("\r\n");
            if (eol < 0) {
                throw new IOException("model server: no more reply");
            }
            String line = replies.substring(0, eol);
            replies.delete(0, eol + 2);
            return line;
        }

        @Override
        public void close() {}
    }
}
