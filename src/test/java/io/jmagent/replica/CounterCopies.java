package io.jmagent.replica;

import io.jmagent.backend.ServerHealth;
import java.util.HashMap;
import java.util.Map;

/**
 * Whether a counter may legitimately be gone: a counter has two copies, and a copy is <em>lost</em>
 * from the moment its server is killed, restarted or frozen (it may miss writes) until a counter
 * command on that key succeeds from start to acknowledgement while that server stays up, readable
 * and untouched by faults (the proxy could have rebuilt the copy then). Once both copies were lost
 * at the same moment the counter is gone and nothing more is asked of it.
 */
final class CounterCopies {

    private final ModelRun run;
    private final Map<String, boolean[]> lost = new HashMap<>();
    private final Map<String, Long> goneAt = new HashMap<>();
    /** Faults seen per server; a copy is rebuilt only by a command that saw none on its server. */
    private final Map<Integer, Integer> faults = new HashMap<>();

    private final Map<Op, int[]> faultsAtStart = new HashMap<>();
    private boolean started;

    CounterCopies(ModelRun run) {
        this.run = run;
    }

    /** The counters are set: from now on they are watched. */
    void start() {
        lost.put(ModelConfig.COUNTER, new boolean[2]);
        lost.put(ModelConfig.UPDOWN, new boolean[2]);
        started = true;
    }

    void fault(int server) {
        faults.merge(server, 1, Integer::sum);
        if (!started) {
            return;
        }
        for (Map.Entry<String, boolean[]> e : lost.entrySet()) {
            int[] copies = run.copiesOf(e.getKey());
            for (int i = 0; i < 2; i++) {
                if (copies[i] == server) {
                    e.getValue()[i] = true;
                }
            }
            if (e.getValue()[0] && e.getValue()[1]) {
                goneAt.putIfAbsent(e.getKey(), run.now());
            }
        }
    }

    void started(Op op) {
        if (op.kind == Op.Kind.COUNTER && lost.containsKey(op.key())) {
            int[] copies = run.copiesOf(op.key());
            faultsAtStart.put(op, new int[] {usable(copies[0]), usable(copies[1])});
        }
    }

    /** The fault count of a server that is up and readable now, -1 otherwise. */
    private int usable(int server) {
        ServerHealth h = run.farm.healths.get(server);
        boolean up = run.farm.servers.get(server).available() && h.state() == ServerHealth.State.UP;
        return up ? faults.getOrDefault(server, 0) : -1;
    }

    /** Replays the acknowledged counter commands in order, clearing the copies they could rebuild. */
    void acknowledged(Op op) {
        int[] atStart = faultsAtStart.get(op);
        boolean[] l = lost.get(op.key());
        if (atStart == null
                || l == null
                || goneAt.containsKey(op.key())
                || op.indeterminate()
                || op.counterNotFound()) {
            return;
        }
        int[] copies = run.copiesOf(op.key());
        for (int i = 0; i < 2; i++) {
            if (atStart[i] >= 0 && atStart[i] == usable(copies[i])) {
                l[i] = false;
            }
        }
    }

    /** When the counter was gone (both copies lost), or Long.MAX_VALUE if it never was. */
    long goneAt(String key) {
        return goneAt.getOrDefault(key, Long.MAX_VALUE);
    }
}
