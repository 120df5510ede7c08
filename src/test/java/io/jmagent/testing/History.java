package io.jmagent.testing;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * What the clients of a chaos test did and saw, for {@link HistoryChecker}: every operation with
 * the time it was sent and the time its reply came (Jepsen's history), the final reads once the
 * farm healed, and the faults injected. Times are nanoseconds since the history began. Any thread
 * may record; {@link HistoryChecker} reads it once they have stopped.
 *
 * <p>Two kinds of key. A register is written by one client only, {@code set k v<n>} with
 * n increasing, or deleted (a delete takes the next n too): n orders its writes. A counter is set
 * once, then incremented by one client only.
 */
public final class History {

    public enum Kind {
        /** {@code set key v<number>}. */
        SET,
        /** {@code delete key}, the register's write number {@code number}. */
        DELETE,
        /** {@code get key}: {@code number} is the n of the {@code v<n>} read, -1 for a value not of that form. */
        GET,
        /** {@code set key <number>} of a counter. */
        COUNTER_SET,
        /** {@code incr key 1}: {@code number} is the value answered. */
        INCR,
        /** {@code get key} of a counter: {@code number} is the value read, -1 for one not a number. */
        COUNTER_GET
    }

    public enum Outcome {
        /** Acknowledged: STORED, DELETED or NOT_FOUND for a delete, a value, a number. */
        OK,
        /** A miss (END, EN) or an incr's NOT_FOUND. */
        ABSENT,
        /** SERVER_ERROR, a broken connection, no reply: whether a write took effect is unknown. */
        ERROR
    }

    /** One operation of client {@code client} through proxy {@code proxy}; {@code reply} is shown in reports. */
    public record Op(
            int client,
            int proxy,
            String key,
            Kind kind,
            long number,
            long start,
            long end,
            Outcome outcome,
            String reply) {

        public boolean isWrite() {
            return kind == Kind.SET || kind == Kind.DELETE || kind == Kind.COUNTER_SET || kind == Kind.INCR;
        }

        public boolean isRead() {
            return kind == Kind.GET || kind == Kind.COUNTER_GET;
        }

        @Override
        public String toString() {
            String what =
                    switch (kind) {
                        case SET -> "set " + key + " v" + number;
                        case DELETE -> "delete " + key + " (#" + number + ")";
                        case COUNTER_SET -> "set " + key + " " + number;
                        case INCR -> "incr " + key;
                        case GET, COUNTER_GET -> "get " + key;
                    };
            String result =
                    switch (outcome) {
                        case OK ->
                            kind == Kind.GET
                                    ? (number < 0 ? reply : "v" + number)
                                    : kind == Kind.INCR || kind == Kind.COUNTER_GET ? Long.toString(number) : reply;
                        case ABSENT -> kind == Kind.INCR ? "NOT_FOUND" : "miss";
                        case ERROR -> "error " + reply;
                    };
            return String.format(
                    "%9.1f..%9.1f ms c%d p%d %s -> %s", start / 1e6, end / 1e6, client, proxy, what, result);
        }
    }

    /** A read after the chaos, while the farm is in state {@code phase}: it must find the last acknowledged write. */
    public record FinalRead(String phase, Op read) {}

    /** A fault or other event, for the report. */
    public record Event(long time, String what) {
        @Override
        public String toString() {
            return String.format("%9.1f ms %s", time / 1e6, what);
        }
    }

    private final long origin = System.nanoTime();
    private final List<Op> ops = new ArrayList<>();
    private final List<FinalRead> finalReads = new ArrayList<>();
    private final List<Event> events = new ArrayList<>();

    /** Now, in this history's time. */
    public long now() {
        return System.nanoTime() - origin;
    }

    public synchronized void record(Op op) {
        ops.add(op);
    }

    public synchronized void recordFinal(String phase, Op read) {
        finalReads.add(new FinalRead(phase, read));
    }

    public synchronized void event(String what) {
        events.add(new Event(now(), what));
    }

    public synchronized List<Op> ops() {
        return List.copyOf(ops);
    }

    public synchronized List<FinalRead> finalReads() {
        return List.copyOf(finalReads);
    }

    public synchronized List<Event> events() {
        return List.copyOf(events);
    }

    /** Milliseconds since the history began, for messages. */
    public long elapsedMillis() {
        return TimeUnit.NANOSECONDS.toMillis(now());
    }
}
