package io.jmagent.testing;

import io.jmagent.testing.History.FinalRead;
import io.jmagent.testing.History.Kind;
import io.jmagent.testing.History.Op;
import io.jmagent.testing.History.Outcome;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Judges a {@link History} against the backup farm's promise (DESIGN.md, "The invariant"): once a
 * write is acknowledged, no read that starts later returns an older value, and none is lost.
 *
 * <ul>
 * <li>A <b>stale read</b> returns an older write than the newest one acknowledged before the read
 *     started (a register's smaller n, a deleted value, a smaller counter). A read concurrent with
 *     a write may return either.
 * <li>A <b>lost write</b> is a key whose final reads (the farm healed, or one copy of each key
 *     down) do not all find its last acknowledged write, or a write after it whose outcome is
 *     unknown: counted once per key, with the phases where it was missing.
 * <li>A <b>wrong answer</b>: a value never written (or written only after the read ended), an
 *     incr whose result is not the previous acknowledged result plus one (plus one per earlier incr
 *     whose outcome is unknown, each counted at most once), an incr answered NOT_FOUND.
 * <li>A <b>miss</b> of a key whose newest acknowledged write is a value, with no delete under
 *     way, and an <b>error</b> (SERVER_ERROR, a broken connection) are allowed, and counted.
 * </ul>
 *
 * A write whose outcome is unknown may take effect at any time after it was sent, or never.
 */
public final class HistoryChecker {

    public enum Type {
        STALE_READ,
        LOST_WRITE,
        WRONG_ANSWER
    }

    /** One violation: what went wrong, the operation, and the key's writes that explain it. */
    public record Anomaly(Type type, String why, Op op, List<Op> context) {
        @Override
        public String toString() {
            StringBuilder sb = new StringBuilder(type + ": " + why + "\n    " + op);
            for (Op c : context) {
                sb.append("\n      ").append(c);
            }
            return sb.toString();
        }
    }

    /** The counts, and every anomaly in the order found. */
    public record Verdict(
            long staleReads,
            long lostWrites,
            long wrongAnswers,
            long misses,
            long errors,
            long reads,
            long writes,
            List<Anomaly> anomalies) {

        public boolean clean() {
            return staleReads == 0 && lostWrites == 0 && wrongAnswers == 0;
        }

        public String counts() {
            return "stale reads " + staleReads + ", lost writes " + lostWrites + ", wrong answers " + wrongAnswers
                    + "; allowed: misses " + misses + ", errors " + errors + "; of " + reads + " reads and "
                    + writes + " writes";
        }

        /**
         * The counts and {@code limit} anomalies: the first of each type on each key, in the order
         * found, then the next ones.
         */
        public String report(int limit) {
            Set<Anomaly> shown = new LinkedHashSet<>();
            Set<String> seen = new HashSet<>();
            for (Anomaly a : anomalies) {
                if (shown.size() < limit && seen.add(a.type() + " " + a.op().key())) {
                    shown.add(a);
                }
            }
            for (Anomaly a : anomalies) {
                if (shown.size() < limit) {
                    shown.add(a);
                }
            }
            StringBuilder sb = new StringBuilder(counts());
            anomalies.stream().filter(shown::contains).forEach(a -> sb.append("\n  ")
                    .append(a));
            if (anomalies.size() > shown.size()) {
                sb.append("\n  ... and ")
                        .append(anomalies.size() - shown.size())
                        .append(" more");
            }
            return sb.toString();
        }
    }

    private static final int CONTEXT = 6;

    private final List<Anomaly> anomalies = new ArrayList<>();
    private long misses;
    private long errors;
    private long reads;
    private long writes;

    private HistoryChecker() {}

    public static Verdict check(History history) {
        HistoryChecker checker = new HistoryChecker();
        Map<String, List<Op>> byKey = new LinkedHashMap<>();
        for (Op op : history.ops()) {
            byKey.computeIfAbsent(op.key(), k -> new ArrayList<>()).add(op);
        }
        Map<String, List<FinalRead>> finalsByKey = new LinkedHashMap<>();
        for (FinalRead f : history.finalReads()) {
            finalsByKey.computeIfAbsent(f.read().key(), k -> new ArrayList<>()).add(f);
            byKey.computeIfAbsent(f.read().key(), k -> new ArrayList<>());
        }
        byKey.forEach((key, ops) -> {
            ops.sort(Comparator.comparingLong(Op::start));
            List<FinalRead> finals = finalsByKey.getOrDefault(key, List.of());
            boolean counter = ops.stream()
                            .anyMatch(o -> o.kind() == Kind.COUNTER_SET
                                    || o.kind() == Kind.INCR
                                    || o.kind() == Kind.COUNTER_GET)
                    || finals.stream().anyMatch(f -> f.read().kind() == Kind.COUNTER_GET);
            if (counter) {
                new CounterCheck(checker, ops).run(finals);
            } else {
                new RegisterCheck(checker, ops).run(finals);
            }
        });
        long stale = checker.count(Type.STALE_READ);
        long lost = checker.count(Type.LOST_WRITE);
        long wrong = checker.count(Type.WRONG_ANSWER);
        return new Verdict(
                stale,
                lost,
                wrong,
                checker.misses,
                checker.errors,
                checker.reads,
                checker.writes,
                List.copyOf(checker.anomalies));
    }

    private long count(Type type) {
        return anomalies.stream().filter(a -> a.type() == type).count();
    }

    void anomaly(Type type, String why, Op op, List<Op> context) {
        anomalies.add(new Anomaly(type, why, op, context));
    }

    void countOp(Op op) {
        if (op.isRead()) {
            reads++;
        } else {
            writes++;
        }
        if (op.outcome() == Outcome.ERROR) {
            errors++;
        }
    }

    /** A final read that did not find what it should have, and why. */
    record Loss(FinalRead read, String expected, List<Op> context) {}

    /** Checks every read, then every final read (which collects the losses), counting each one. */
    void judge(
            List<Op> reads,
            List<FinalRead> finals,
            java.util.function.Consumer<Op> check,
            java.util.function.BiConsumer<FinalRead, List<Loss>> checkFinal) {
        for (Op read : reads) {
            countOp(read);
            check.accept(read);
        }
        List<Loss> losses = new ArrayList<>();
        for (FinalRead f : finals) {
            countOp(f.read());
            checkFinal.accept(f, losses);
        }
        lostWrite(losses);
    }

    /** A key's losses, as one lost write: the first final read that missed it, and every phase that did. */
    void lostWrite(List<Loss> losses) {
        if (losses.isEmpty()) {
            return;
        }
        Loss first = losses.get(0);
        String phases = losses.stream().map(l -> l.read().phase()).distinct().collect(Collectors.joining(", "));
        anomaly(
                Type.LOST_WRITE,
                "expected " + first.expected() + ", lost at: " + phases
                        + (losses.size() > 1 ? " (" + losses.size() + " final reads)" : ""),
                first.read().read(),
                first.context());
    }

    void miss() {
        misses++;
    }

    /**
     * The writes of {@code writes} (sorted by start) sent before {@code read} ended and not ended
     * before {@code from}: the first and the last few.
     */
    static List<Op> around(List<Op> writes, long from, Op read) {
        List<Op> context = new ArrayList<>();
        for (Op w : writes) {
            if (w.start() <= read.end() && w.end() >= from) {
                context.add(w);
            }
        }
        if (context.size() > CONTEXT) {
            context.subList(1, context.size() - CONTEXT + 1).clear();
        }
        return context;
    }

    /** The index of the last of {@code acked} (sorted by end) that ended before {@code time}, or -1. */
    static int lastEndedBefore(List<Op> acked, long time) {
        return lastBefore(acked, time, true);
    }

    /** The index of the last of {@code ops} (sorted by start) that was sent before {@code time}, or -1. */
    static int lastSentBefore(List<Op> ops, long time) {
        return lastBefore(ops, time, false);
    }

    private static int lastBefore(List<Op> ops, long time, boolean byEnd) {
        int lo = 0;
        int hi = ops.size() - 1;
        int found = -1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            Op op = ops.get(mid);
            if ((byEnd ? op.end() : op.start()) < time) {
                found = mid;
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        return found;
    }
}
