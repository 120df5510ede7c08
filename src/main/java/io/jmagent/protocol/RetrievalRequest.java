package io.jmagent.protocol;

import java.util.List;

/**
 * get, gets, gat and gats over one or more keys. {@code exptime} is only meaningful for the
 * touching variants. Keys are kept in the client's order, duplicates included.
 */
public record RetrievalRequest(Kind kind, int exptime, List<byte[]> keys) implements Request {

    public enum Kind {
        GET("get", false, false),
        GETS("gets", true, false),
        GAT("gat", false, true),
        GATS("gats", true, true);

        private final String command;
        private final boolean withCas;
        private final boolean touching;

        Kind(String command, boolean withCas, boolean touching) {
            this.command = command;
            this.withCas = withCas;
            this.touching = touching;
        }

        public String command() {
            return command;
        }

        public boolean withCas() {
            return withCas;
        }

        public boolean touching() {
            return touching;
        }
    }
}
