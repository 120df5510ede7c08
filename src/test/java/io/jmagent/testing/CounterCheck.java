package io.jmagent.testing;

import io.jmagent.testing.History.FinalRead;
import io.jmagent.testing.History.Kind;
import io.jmagent.testing.History.Op;
import io.jmagent.testing.History.Outcome;
import io.jmagent.testing.HistoryChecker.Type;
import java.util.ArrayList;
import java.util.List;

/**
 * {@link HistoryChecker}'s rules for one counter: a key one client sets once, then increments by
 * one, one {@code incr} at a time. Each incr whose outcome is unknown may add one, at any time
 * after it was sent, or never: it widens what the next results may be, once.
 */
final class CounterCheck {

    private final HistoryChecker checker;
    /** The set and the incrs, in the order sent (one writer: also the order acknowledged). */
    private final List<Op> writes = new ArrayList<>();

    private final List<Op> reads = new ArrayList<>();
    /** The acknowledged writes, and the value each left (an incr's result, the set's value). */
    private final List<Op> acked = new ArrayList<>();

    private final List<Long> valueAfter = new ArrayList<>();
    /** The last acknowledged value, and the incrs of unknown outcome not yet seen to have added one. */
    private long value;

    private boolean known;
    private long unknownIncrs;
    /** The incr that first answered NOT_FOUND, while the next ones do too. */
    private Op lost;
    /** For the first i + 1 writes sent: the highest value acknowledged, the incrs of unknown outcome. */
    private long[] highestSent;

    private long[] unknownSent;

    CounterCheck(HistoryChecker checker, List<Op> ops) {
        this.checker = checker;
        for (Op op : ops) {
            (op.isWrite() ? writes : reads).add(op);
        }
    }

    void run(List<FinalRead> finals) {
        highestSent = new long[writes.size()];
        unknownSent = new long[writes.size()];
        long highest = -1;
        long unknown = 0;
        for (int i = 0; i < writes.size(); i++) {
            Op w = writes.get(i);
            checker.countOp(w);
            apply(w);
            if (w.outcome() == Outcome.OK) {
                highest = Math.max(highest, w.number());
            } else if (w.outcome() == Outcome.ERROR && w.kind() == Kind.INCR) {
                unknown++;
            }
            highestSent[i] = highest;
            unknownSent[i] = unknown;
        }
        checker.judge(reads, finals, this::check, this::checkFinal);
    }

    private void apply(Op w) {
        if (w.kind() == Kind.COUNTER_SET) {
            if (w.outcome() == Outcome.OK) {
                acknowledged(w, w.number());
                unknownIncrs = 0;
            }
            return;
        }
        switch (w.outcome()) {
            case ERROR -> unknownIncrs++;
            case ABSENT -> {
                if (lost == null) {
                    lost = w;
                    checker.anomaly(Type.WRONG_ANSWER, "NOT_FOUND for a counter that exists", w, context(w));
                }
            }
            case OK -> {
                lost = null;
                long r = w.number();
                if (known && (r < value + 1 || r > value + 1 + unknownIncrs)) {
                    checker.anomaly(
                            Type.WRONG_ANSWER,
                            "expected " + (value + 1) + (unknownIncrs > 0 ? ".." + (value + 1 + unknownIncrs) : ""),
                            w,
                            context(w));
                } else if (known) {
                    unknownIncrs -= r - value - 1;
                }
                acknowledged(w, r); // after a wrong answer, judge the next ones from it
            }
        }
    }

    private void acknowledged(Op w, long after) {
        value = after;
        known = true;
        acked.add(w);
        valueAfter.add(after);
    }

    private void check(Op read) {
        if (read.outcome() == Outcome.ERROR) {
            return;
        }
        int i = HistoryChecker.lastEndedBefore(acked, read.start());
        if (read.outcome() == Outcome.ABSENT) {
            if (i >= 0) {
                checker.miss();
            }
            return;
        }
        long r = read.number();
        int sent = HistoryChecker.lastSentBefore(writes, read.end());
        long highest = sent < 0 ? -1 : highestSent[sent];
        long unknown = sent < 0 ? 0 : unknownSent[sent];
        if (r < 0 || highest < 0 || r > highest + unknown) {
            checker.anomaly(
                    Type.WRONG_ANSWER, "a value never written, or written only after the read", read, context(read));
        } else if (i >= 0 && r < valueAfter.get(i)) {
            checker.anomaly(
                    Type.STALE_READ,
                    "older than " + valueAfter.get(i) + ", acknowledged before the read began",
                    read,
                    context(read));
        }
    }

    private void checkFinal(FinalRead f, List<HistoryChecker.Loss> losses) {
        Op read = f.read();
        String expected = value + (unknownIncrs > 0 ? ".." + (value + unknownIncrs) : "");
        if (read.outcome() != Outcome.OK || read.number() < value) {
            losses.add(new HistoryChecker.Loss(f, expected, context(read)));
        } else if (read.number() > value + unknownIncrs) {
            checker.anomaly(Type.WRONG_ANSWER, f.phase() + ": expected " + expected, read, context(read));
        }
    }

    /** The writes acknowledged just before {@code op} began, and those under way while it ran. */
    private List<Op> context(Op op) {
        int i = HistoryChecker.lastEndedBefore(acked, op.start());
        long from = i < 0 ? op.start() : acked.get(Math.max(0, i - 1)).start();
        List<Op> around = HistoryChecker.around(writes, from, op);
        around.remove(op);
        return around;
    }
}
