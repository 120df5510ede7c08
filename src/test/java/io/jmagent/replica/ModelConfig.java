package io.jmagent.replica;

import java.util.List;

/** The shape of one model run: servers, connections, clients, keys, and how long it goes on. */
record ModelConfig(int primaries, int backups, int connectionsPerServer, int clients, int failureLimit, int steps) {

    /** Regular keys, whose values are write tags. */
    static final List<String> KEYS = List.of("k0", "k1", "k2");
    /** Set to 0 before the run and only incremented: its answers never go back. */
    static final String COUNTER = "c0";
    /** Set to 100 before the run, incremented and decremented: it must never vanish. */
    static final String UPDOWN = "c1";

    static List<String> allKeys() {
        return List.of("k0", "k1", "k2", COUNTER, UPDOWN);
    }

    /** A configuration picked by the seed: small farms, where keys share servers and races are dense. */
    static ModelConfig forSeed(long seed, int steps) {
        int v = (int) Math.floorMod(seed, 8L);
        return new ModelConfig(1 + (v & 1), 1 + ((v >> 1) & 1), 1 + ((v >> 2) & 1), 3, 1, steps);
    }
}
