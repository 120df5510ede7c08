package io.jmagent.replica;

import io.jmagent.backend.ServerHealth;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Checks a run's history against the invariant (DESIGN.md, "The invariant, and where it lives").
 *
 * <p>Values: every write carries a unique tag, and a value is the set of tags it is made of (a set,
 * perhaps appended to). A value V is <em>older</em> than an effective write W (acknowledged as
 * applied) when V lacks W's tag and every write whose tag V holds was acknowledged before W started
 * (a delete has no tag: any value made only of writes acknowledged before it started is older). A
 * write that failed or was never answered may or may not have applied: it is never "acknowledged
 * before" anything, so its value is never older. Rules:
 * <ol>
 *   <li>A read that starts after W was acknowledged never returns a value older than W. A miss is
 *       allowed (a copy may be lost or unreadable) and counted.</li>
 *   <li>Counter {@code c0} (only incremented): an answer never goes below one acknowledged before
 *       the command started; an increment's answer is strictly above.</li>
 *   <li>A counter's incr/decr/ma never answers NOT_FOUND (NF), nor does the final read miss it, unless
 *       both its copies were lost at once ({@link CounterCopies}).</li>
 *   <li>At the end (every server back, everything landed, probes done), no copy that the proxy
 *       would read (server UP, key not stale there) holds a value older than an effective write,
 *       nor a {@code c0} below an acknowledged answer.</li>
 * </ol>
 */
final class InvariantChecker {

    private final ModelRun run;
    /** Writes by the tag id their value carries. */
    private final Map<Integer, Op> byTag = new HashMap<>();

    final List<String> violations = new ArrayList<>();
    int missesAfterWrite;

    InvariantChecker(ModelRun run) {
        this.run = run;
        for (Op op : run.ops) {
            if (op.tag != null && op.key().startsWith("k")) {
                byTag.put(tagId(op.tag), op);
            }
        }
    }

    List<String> check() {
        violations.addAll(run.crashes);
        for (Op op : run.ops) {
            if (!op.acked() || op.indeterminate()) {
                continue;
            }
            if (op.kind == Op.Kind.READ) {
                checkRead(op);
            }
            if (op.kind == Op.Kind.COUNTER || op.kind == Op.Kind.READ && ModelConfig.COUNTER.equals(op.key())) {
                checkCounter(op);
            }
        }
        checkServers();
        return violations;
    }

    private void checkRead(Op read) {
        Map<String, String> hits = read.hits();
        for (String key : read.keys) {
            if (key.startsWith("c")) {
                if (!hits.containsKey(key) && run.copies.goneAt(key) == Long.MAX_VALUE && isFinalRead(read)) {
                    violations.add("counter " + key + " vanished: final read " + read);
                }
                continue;
            }
            String v = hits.get(key);
            Op newest = null;
            for (Op w : run.ops) {
                if (w.keys.contains(key) && w.effective() && w.ack < read.start) {
                    if (v != null && isOlder(v, w)) {
                        violations.add("read " + read + " returned " + key + "=" + v + ", older than " + w);
                        return;
                    }
                    if (newest == null || w.ack > newest.ack) {
                        newest = w;
                    }
                }
            }
            if (v == null && newest != null && newest.kind != Op.Kind.DELETE) {
                missesAfterWrite++;
            }
        }
    }

    private boolean isFinalRead(Op read) {
        return read.client == 0
                && read.id >= run.ops.size() - ModelConfig.allKeys().size();
    }

    private void checkCounter(Op op) {
        String key = op.key();
        if (op.start > run.copies.goneAt(key)) {
            return;
        }
        if (op.kind == Op.Kind.COUNTER && op.counterNotFound()) {
            violations.add("counter " + key + " vanished: " + op);
            return;
        }
        Long v = op.kind == Op.Kind.READ ? number(op.hits().get(key)) : op.counterValue();
        if (v == null || !key.equals(ModelConfig.COUNTER)) {
            return;
        }
        for (Op before : run.ops) {
            if (before.ack >= 0 && before.ack < op.start && before.keys.contains(key) && !before.indeterminate()) {
                Long b = before.kind == Op.Kind.READ
                        ? number(before.hits().get(key))
                        : before.kind == Op.Kind.COUNTER ? before.counterValue() : null;
                if (b != null && (op.kind == Op.Kind.COUNTER ? v <= b : v < b)) {
                    violations.add("counter " + key + " went back: " + op + " after " + before);
                    return;
                }
            }
        }
    }

    private void checkServers() {
        ModelFarm farm = run.farm;
        for (int s = 0; s < farm.servers.size(); s++) {
            ServerHealth h = farm.healths.get(s);
            if (h.state() != ServerHealth.State.UP) {
                violations.add("server " + farm.serverName(s) + " is " + h.state() + " after the final probes");
                continue;
            }
            for (Map.Entry<String, FakeServer.Item> e :
                    farm.servers.get(s).items().entrySet()) {
                String key = e.getKey();
                if (h.isStale(key.getBytes(StandardCharsets.ISO_8859_1))) {
                    continue;
                }
                String v = e.getValue().value();
                if (key.equals(ModelConfig.COUNTER)) {
                    long max = maxCounterAnswer();
                    if (Long.parseUnsignedLong(v) < max) {
                        violations.add(
                                farm.serverName(s) + " holds " + key + "=" + v + " below the acknowledged " + max);
                    }
                    continue;
                }
                if (key.startsWith("c")) {
                    continue;
                }
                for (Op w : run.ops) {
                    if (w.keys.contains(key) && w.effective() && isOlder(v, w)) {
                        violations.add(farm.serverName(s) + " holds " + key + "=" + v + " at the end, older than " + w);
                        break;
                    }
                }
            }
        }
    }

    private long maxCounterAnswer() {
        long max = 0;
        for (Op op : run.ops) {
            if (op.acked()
                    && !op.indeterminate()
                    && op.start < run.copies.goneAt(ModelConfig.COUNTER)
                    && op.keys.contains(ModelConfig.COUNTER)) {
                Long v = op.kind == Op.Kind.READ
                        ? number(op.hits().get(ModelConfig.COUNTER))
                        : op.kind == Op.Kind.COUNTER ? op.counterValue() : null;
                if (v != null) {
                    max = Math.max(max, v);
                }
            }
        }
        return max;
    }

    /** Whether value {@code v} is older than effective write {@code w} (see the class comment). */
    boolean isOlder(String v, Op w) {
        List<Integer> writers = tags(v);
        if (w.kind != Op.Kind.DELETE && writers.contains(tagId(w.tag))) {
            return false;
        }
        for (int id : writers) {
            Op writer = byTag.get(id);
            if (writer == null || writer.indeterminate() || writer.ack >= w.start) {
                return false;
            }
        }
        return true;
    }

    /** The ops whose tags value {@code v} is made of: "w3.a7" is op 3's value with op 7's appended. */
    private static List<Integer> tags(String v) {
        List<Integer> ids = new ArrayList<>();
        for (String part : v.split("\\.")) {
            if (part.length() > 1) {
                ids.add(Integer.parseInt(part.substring(1)));
            }
        }
        return ids;
    }

    private static int tagId(String tag) {
        return tags(tag).get(0);
    }

    private static Long number(String v) {
        return v == null ? null : Long.parseUnsignedLong(v.trim());
    }
}
