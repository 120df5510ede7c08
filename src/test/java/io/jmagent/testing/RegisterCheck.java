package io.jmagent.testing;

import io.jmagent.testing.History.FinalRead;
import io.jmagent.testing.History.Kind;
import io.jmagent.testing.History.Op;
import io.jmagent.testing.History.Outcome;
import io.jmagent.testing.HistoryChecker.Type;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * {@link HistoryChecker}'s rules for one register: a key one client writes with {@code set k v<n>}
 * and {@code delete}, n increasing with every write, so n orders the writes.
 */
final class RegisterCheck {

    private final HistoryChecker checker;
    /** Sets and deletes, in the order sent. */
    private final List<Op> writes = new ArrayList<>();
    /** The acknowledged writes, in the order acknowledged (one writer: also the order of n). */
    private final List<Op> acked = new ArrayList<>();

    private final List<Op> reads = new ArrayList<>();
    private final Map<Long, Op> byNumber = new HashMap<>();

    RegisterCheck(HistoryChecker checker, List<Op> ops) {
        this.checker = checker;
        for (Op op : ops) {
            if (op.isWrite()) {
                writes.add(op);
                byNumber.put(op.number(), op);
                if (op.outcome() == Outcome.OK) {
                    acked.add(op);
                }
            } else {
                reads.add(op);
            }
        }
        acked.sort(Comparator.comparingLong(Op::end));
    }

    void run(List<FinalRead> finals) {
        writes.forEach(checker::countOp);
        checker.judge(reads, finals, this::check, this::checkFinal);
    }

    private void check(Op read) {
        if (read.outcome() == Outcome.ERROR) {
            return;
        }
        int i = HistoryChecker.lastEndedBefore(acked, read.start());
        Op newest = i < 0 ? null : acked.get(i);
        long from = newest == null ? read.start() : newest.start();
        if (read.outcome() == Outcome.OK) {
            Op source = byNumber.get(read.number());
            if (source == null || source.kind() != Kind.SET || source.start() > read.end()) {
                checker.anomaly(
                        Type.WRONG_ANSWER,
                        "a value never written, or written only after the read",
                        read,
                        HistoryChecker.around(writes, from, read));
            } else if (newest != null && read.number() < newest.number()) {
                checker.anomaly(
                        Type.STALE_READ,
                        "older than write #" + newest.number() + ", acknowledged before the read began",
                        read,
                        HistoryChecker.around(writes, from, read));
            }
            return;
        }
        if (newest == null || newest.kind() == Kind.DELETE) {
            return;
        }
        // n grows with every write sent: the last delete sent before the read ended has the highest n
        Op delete = null;
        for (int d = HistoryChecker.lastSentBefore(writes, read.end()); d >= 0 && delete == null; d--) {
            Op w = writes.get(d);
            if (w.kind() == Kind.DELETE) {
                delete = w;
            }
        }
        if (delete == null || delete.number() < newest.number()) {
            checker.miss();
        }
    }

    /** The final value must be the last acknowledged write, or one sent after it whose outcome is unknown. */
    private void checkFinal(FinalRead f, List<HistoryChecker.Loss> losses) {
        Op read = f.read();
        Op last = acked.isEmpty() ? null : acked.get(acked.size() - 1);
        List<Op> allowed = new ArrayList<>();
        for (Op w : writes) {
            if (w == last || (w.outcome() == Outcome.ERROR && (last == null || w.number() > last.number()))) {
                allowed.add(w);
            }
        }
        boolean ok =
                switch (read.outcome()) {
                    case ERROR -> false;
                    case OK -> allowed.stream().anyMatch(w -> w.kind() == Kind.SET && w.number() == read.number());
                    case ABSENT -> last == null || allowed.stream().anyMatch(w -> w.kind() == Kind.DELETE);
                };
        if (!ok) {
            String expected = last == null ? "nothing" : last.kind() == Kind.SET ? "v" + last.number() : "a miss";
            losses.add(new HistoryChecker.Loss(
                    f,
                    expected + (allowed.size() > 1 ? " (or a later write whose outcome is unknown)" : ""),
                    HistoryChecker.around(writes, last == null ? 0 : last.start(), read)));
        }
    }
}
