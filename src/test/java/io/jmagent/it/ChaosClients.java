package io.jmagent.it;

import io.jmagent.testing.History;
import io.jmagent.testing.History.Kind;
import io.jmagent.testing.History.Op;
import io.jmagent.testing.History.Outcome;
import io.jmagent.testing.TextClient;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.locks.LockSupport;

/**
 * The clients of {@link ReplicaChaosIT}, each a thread with its own connections to every proxy,
 * recording every operation in a {@link History}. Register writers each own a few keys and write
 * them in turn ({@code set k v<n>}, now and then {@code delete k}), counter writers each own a
 * few counters and {@code incr} them in turn, readers read any key through any proxy
 * ({@code get}, a multi-key {@code get}, {@code mg}). One writer per key: the history can tell
 * exactly what each read may return.
 */
final class ChaosClients {

    private static final int REGISTER_WRITERS = 2;
    /**
     * Each register writer's keys: a few hot ones, written all the time, and many cold ones, one
     * written after every few hot writes, so that a pass over them takes longer than a restarted
     * server takes to be read again: its cold keys miss there and are read from the backup.
     */
    private static final int HOT_KEYS = 4;
    private static final int COLD_KEYS = 50;
    private static final int HOT_WRITES_PER_COLD = 4;
    private static final int COUNTER_WRITERS = 2;
    private static final int COUNTERS_PER_WRITER = 2;
    private static final int READERS = 3;
    private static final double DELETES = 0.2;
    private static final int MAX_OPS_PER_CLIENT = 200_000;
    /** Client numbers of the first writes and of the final reads; the threads are 0, 1, ... */
    private static final int INITIALISER = 90;
    private static final int FINAL_READER = 91;
    private static final long PAUSE_NANOS = TimeUnit.MICROSECONDS.toNanos(500);

    private final List<Integer> ports;
    private final History history;
    private final long seed;
    private final List<List<String>> registersByWriter = new ArrayList<>();
    private final List<List<String>> countersByWriter = new ArrayList<>();
    private final List<String> registers = new ArrayList<>();
    private final List<String> counters = new ArrayList<>();
    /** Full passes over its keys completed by each writer: registers' writers first. */
    private final AtomicLongArray passes = new AtomicLongArray(REGISTER_WRITERS + COUNTER_WRITERS);
    private final AtomicBoolean stop = new AtomicBoolean();
    private final List<Thread> threads = new ArrayList<>();
    /** Replies no memcached gives to these requests, and exceptions of the clients themselves. */
    private final ConcurrentLinkedQueue<String> unexpected = new ConcurrentLinkedQueue<>();

    ChaosClients(List<Integer> ports, History history, long seed) {
        this.ports = List.copyOf(ports);
        this.history = history;
        this.seed = seed;
        for (int w = 0; w < REGISTER_WRITERS; w++) {
            List<String> keys = new ArrayList<>();
            for (int k = 0; k < HOT_KEYS + COLD_KEYS; k++) {
                keys.add("reg-" + w + "-" + k);
            }
            registersByWriter.add(keys);
            registers.addAll(keys);
        }
        for (int w = 0; w < COUNTER_WRITERS; w++) {
            List<String> keys = new ArrayList<>();
            for (int k = 0; k < COUNTERS_PER_WRITER; k++) {
                keys.add("ctr-" + w + "-" + k);
            }
            countersByWriter.add(keys);
            counters.addAll(keys);
        }
    }

    /** Writes every register's v0 and every counter's 0 through the first proxy; each must be stored. */
    void initialise() {
        try (Session s = new Session(INITIALISER, true)) {
            for (String key : registers) {
                require(s.set(0, key, 0, Kind.SET));
            }
            for (String key : counters) {
                require(s.set(0, key, 0, Kind.COUNTER_SET));
            }
        }
    }

    private static void require(Op op) {
        if (op.outcome() != Outcome.OK) {
            throw new IllegalStateException("the farm did not take the first writes: " + op);
        }
    }

    void start(long hardDeadlineNanos) {
        for (int w = 0; w < REGISTER_WRITERS; w++) {
            int writer = w;
            spawn("chaos-register-writer-" + w, writer, hardDeadlineNanos, this::writeRegisters);
        }
        for (int w = 0; w < COUNTER_WRITERS; w++) {
            int writer = REGISTER_WRITERS + w;
            spawn("chaos-counter-writer-" + w, writer, hardDeadlineNanos, this::incrementCounters);
        }
        for (int r = 0; r < READERS; r++) {
            spawn("chaos-reader-" + r, REGISTER_WRITERS + COUNTER_WRITERS + r, hardDeadlineNanos, this::read);
        }
    }

    private interface Loop {
        void run(Session s, Random random, int client, long deadline);
    }

    private void spawn(String name, int client, long deadline, Loop loop) {
        Thread t = new Thread(() -> {
            try (Session s = new Session(client, true)) {
                loop.run(s, new Random(seed * 31 + client), client, deadline);
            } catch (RuntimeException | Error e) {
                unexpected.add(name + " died: " + e);
            }
        }, name);
        t.setDaemon(true);
        threads.add(t);
        t.start();
    }

    private boolean going(long ops, long deadline) {
        LockSupport.parkNanos(PAUSE_NANOS);
        return !stop.get() && ops < MAX_OPS_PER_CLIENT && System.nanoTime() < deadline;
    }

    private void writeRegisters(Session s, Random random, int client, long deadline) {
        List<String> keys = registersByWriter.get(client);
        long[] next = new long[keys.size()];
        int proxy = client % ports.size();
        long hot = 0;
        long cold = 0;
        for (long ops = 0; going(ops, deadline); ops++) {
            boolean hotTurn = ops % (HOT_WRITES_PER_COLD + 1) != HOT_WRITES_PER_COLD;
            int k = hotTurn ? (int) (hot++ % HOT_KEYS) : HOT_KEYS + (int) (cold++ % COLD_KEYS);
            next[k]++;
            if (random.nextDouble() < DELETES) {
                s.delete(proxy, keys.get(k), next[k]);
            } else {
                s.set(proxy, keys.get(k), next[k], Kind.SET);
            }
            if (!hotTurn && cold % COLD_KEYS == 0) {
                passes.incrementAndGet(client);
            }
        }
    }

    private void incrementCounters(Session s, Random random, int client, long deadline) {
        List<String> keys = countersByWriter.get(client - REGISTER_WRITERS);
        int proxy = client % ports.size();
        for (long ops = 0; going(ops, deadline); ops++) {
            int k = (int) (ops % keys.size());
            s.incr(proxy, keys.get(k));
            if (k == keys.size() - 1) {
                passes.incrementAndGet(client);
            }
        }
    }

    private void read(Session s, Random random, int client, long deadline) {
        for (long ops = 0; going(ops, deadline); ops++) {
            int proxy = random.nextInt(ports.size());
            int how = random.nextInt(5);
            if (how < 3) {
                s.get(proxy, List.of(anyKey(random)));
            } else if (how == 3) {
                s.get(proxy, List.of(anyKey(random), anyKey(random), anyKey(random), anyKey(random)));
            } else {
                s.metaGet(proxy, anyKey(random));
            }
        }
    }

    /** A counter a quarter of the time, a hot register a quarter, a cold one half. */
    private String anyKey(Random random) {
        int r = random.nextInt(4);
        List<String> keys = registersByWriter.get(random.nextInt(REGISTER_WRITERS));
        return switch (r) {
            case 0 -> counters.get(random.nextInt(counters.size()));
            case 1 -> keys.get(random.nextInt(HOT_KEYS));
            default -> keys.get(HOT_KEYS + random.nextInt(COLD_KEYS));
        };
    }

    /** Each writer's completed passes over its keys. */
    long[] passes() {
        long[] p = new long[passes.length()];
        for (int i = 0; i < p.length; i++) {
            p[i] = passes.get(i);
        }
        return p;
    }

    /** Whether every writer began and finished a whole pass over its keys since {@code before}. */
    boolean everyKeyWrittenSince(long[] before) {
        for (int i = 0; i < before.length; i++) {
            if (passes.get(i) < before[i] + 2) {
                return false;
            }
        }
        return true;
    }

    /** Stops the clients and waits for them (each op is bounded by the client's socket timeout). */
    void stop() {
        stop.set(true);
        for (Thread t : threads) {
            try {
                t.join(TimeUnit.SECONDS.toMillis(15));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            if (t.isAlive()) {
                unexpected.add(t.getName() + " did not stop");
            }
        }
    }

    /** Reads every key through every proxy, as final reads of {@code phase}; an error is retried twice. */
    void readAll(String phase) {
        try (Session s = new Session(FINAL_READER, false)) {
            for (int proxy = 0; proxy < ports.size(); proxy++) {
                for (String key : registers) {
                    history.recordFinal(phase, s.finalGet(proxy, key));
                }
                for (String key : counters) {
                    history.recordFinal(phase, s.finalGet(proxy, key));
                }
            }
        }
    }

    List<String> unexpected() {
        return List.copyOf(unexpected);
    }

    /** One client's connections, one per proxy, reopened after an error. */
    private final class Session implements AutoCloseable {

        private final int client;
        private final boolean recording;
        private final TextClient[] connections = new TextClient[ports.size()];

        Session(int client, boolean recording) {
            this.client = client;
            this.recording = recording;
        }

        private String exchange(int proxy, String request) {
            try {
                if (connections[proxy] == null) {
                    connections[proxy] = new TextClient(ports.get(proxy));
                }
                String reply = connections[proxy].exchange(request);
                if (reply.endsWith(TextClient.CLOSED)) {
                    drop(proxy);
                }
                return reply;
            } catch (RuntimeException | AssertionError e) { // no connection, or no reply within 5 s
                drop(proxy);
                return "<" + e.getMessage() + ">";
            }
        }

        private void drop(int proxy) {
            if (connections[proxy] != null) {
                connections[proxy].close();
                connections[proxy] = null;
            }
        }

        Op set(int proxy, String key, long number, Kind kind) {
            String value = kind == Kind.SET ? "v" + number : Long.toString(number);
            long start = history.now();
            String reply = exchange(proxy, "set " + key + " 0 0 " + value.length() + "\r\n" + value + "\r\n");
            Outcome outcome = reply.equals("STORED\r\n") ? Outcome.OK : error(reply);
            return record(new Op(client, proxy, key, kind, number, start, history.now(), outcome, reply.trim()));
        }

        void delete(int proxy, String key, long number) {
            long start = history.now();
            String reply = exchange(proxy, "delete " + key + "\r\n");
            Outcome outcome = reply.equals("DELETED\r\n") || reply.equals("NOT_FOUND\r\n") ? Outcome.OK : error(reply);
            record(new Op(client, proxy, key, Kind.DELETE, number, start, history.now(), outcome, reply.trim()));
        }

        void incr(int proxy, String key) {
            long start = history.now();
            String reply = exchange(proxy, "incr " + key + " 1\r\n");
            long end = history.now();
            String line = reply.trim();
            long result = 0;
            Outcome outcome;
            if (line.equals("NOT_FOUND")) {
                outcome = Outcome.ABSENT;
            } else if (!line.isEmpty() && line.chars().allMatch(Character::isDigit) && reply.endsWith("\r\n")) {
                result = Long.parseLong(line);
                outcome = Outcome.OK;
            } else {
                outcome = error(reply);
            }
            record(new Op(client, proxy, key, Kind.INCR, result, start, end, outcome, line));
        }

        /** {@code get} of one or more keys: one read per key in the history. */
        List<Op> get(int proxy, List<String> keys) {
            long start = history.now();
            String reply = exchange(proxy, "get " + String.join(" ", keys) + "\r\n");
            long end = history.now();
            List<Op> reads = new ArrayList<>();
            if (!reply.endsWith("END\r\n")) {
                Outcome outcome = error(reply);
                for (String key : keys) {
                    reads.add(new Op(client, proxy, key, kindOf(key), 0, start, end, outcome, reply.trim()));
                }
            } else {
                for (String key : keys) {
                    String value = valueOf(reply, key);
                    reads.add(read(proxy, key, value, start, end, value == null ? "miss" : value));
                }
            }
            reads.forEach(this::record);
            return reads;
        }

        void metaGet(int proxy, String key) {
            long start = history.now();
            String reply = exchange(proxy, "mg " + key + " v\r\n");
            long end = history.now();
            if (reply.equals("EN\r\n")) {
                record(read(proxy, key, null, start, end, "EN"));
            } else if (reply.startsWith("VA ") && reply.endsWith("\r\n")) {
                int eol = reply.indexOf("\r\n");
                String value = reply.substring(eol + 2, reply.length() - 2);
                record(read(proxy, key, value, start, end, value));
            } else {
                record(new Op(client, proxy, key, kindOf(key), 0, start, end, error(reply), reply.trim()));
            }
        }

        Op finalGet(int proxy, String key) {
            Op read = null;
            for (int attempt = 0; attempt < 3; attempt++) {
                read = get(proxy, List.of(key)).get(0);
                if (read.outcome() != Outcome.ERROR) {
                    return read;
                }
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(100)); // let the proxy see the server
            }
            return read;
        }

        private Op read(int proxy, String key, String value, long start, long end, String shown) {
            Kind kind = kindOf(key);
            if (value == null) {
                return new Op(client, proxy, key, kind, 0, start, end, Outcome.ABSENT, shown);
            }
            return new Op(client, proxy, key, kind, parse(kind, value), start, end, Outcome.OK, shown);
        }

        private Outcome error(String reply) {
            if (!reply.startsWith("SERVER_ERROR") && !reply.startsWith("<") && !reply.endsWith(TextClient.CLOSED)) {
                unexpected.add("client " + client + ": " + reply.trim());
            }
            return Outcome.ERROR;
        }

        private Op record(Op op) {
            if (recording) {
                history.record(op);
            }
            return op;
        }

        @Override
        public void close() {
            for (int i = 0; i < connections.length; i++) {
                drop(i);
            }
        }
    }

    private Kind kindOf(String key) {
        return counters.contains(key) ? Kind.COUNTER_GET : Kind.GET;
    }

    /** A register's n from "v&lt;n&gt;", a counter's value; -1 for anything else. */
    private static long parse(Kind kind, String value) {
        String digits = kind == Kind.GET ? (value.startsWith("v") ? value.substring(1) : "") : value.trim();
        if (digits.isEmpty() || digits.length() > 18 || !digits.chars().allMatch(Character::isDigit)) {
            return -1;
        }
        return Long.parseLong(digits);
    }

    /** The value of {@code key} in a get reply ("VALUE key flags bytes\r\ndata\r\n"... "END\r\n"), or null. */
    private static String valueOf(String reply, String key) {
        int at = 0;
        while (reply.startsWith("VALUE ", at)) {
            int eol = reply.indexOf("\r\n", at);
            String[] header = reply.substring(at, eol).split(" ");
            int length = Integer.parseInt(header[3]);
            if (header[1].equals(key)) {
                return reply.substring(eol + 2, eol + 2 + length);
            }
            at = eol + 2 + length + 2;
        }
        return null;
    }
}
