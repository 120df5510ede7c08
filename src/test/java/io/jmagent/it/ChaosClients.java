package io.jmagent.it;

import io.jmagent.testing.History;
import io.jmagent.testing.History.Kind;
import io.jmagent.testing.History.Op;
import io.jmagent.testing.History.Outcome;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
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
    /** The proxy each key's writer writes it through. */
    private final Map<String, Integer> writerProxies = new HashMap<>();
    /** Writes each writer completed: registers' writers first. */
    private final AtomicLongArray written = new AtomicLongArray(REGISTER_WRITERS + COUNTER_WRITERS);

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
                writerProxies.put(keys.get(k), proxyOfWriter(w));
            }
            registersByWriter.add(keys);
            registers.addAll(keys);
        }
        for (int w = 0; w < COUNTER_WRITERS; w++) {
            List<String> keys = new ArrayList<>();
            for (int k = 0; k < COUNTERS_PER_WRITER; k++) {
                keys.add("ctr-" + w + "-" + k);
                writerProxies.put(keys.get(k), proxyOfWriter(REGISTER_WRITERS + w));
            }
            countersByWriter.add(keys);
            counters.addAll(keys);
        }
    }

    /** Writes every register's v0 and every counter's 0 through the first proxy; each must be stored. */
    void initialise() {
        try (RecordingClient s = client(INITIALISER, true)) {
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
        void run(RecordingClient s, Random random, int client, long deadline);
    }

    private void spawn(String name, int client, long deadline, Loop loop) {
        Thread t = new Thread(
                () -> {
                    try (RecordingClient s = client(client, true)) {
                        loop.run(s, new Random(seed * 31 + client), client, deadline);
                    } catch (RuntimeException | Error e) {
                        unexpected.add(name + " died: " + e);
                    }
                },
                name);
        t.setDaemon(true);
        threads.add(t);
        t.start();
    }

    private boolean going(long ops, long deadline) {
        LockSupport.parkNanos(PAUSE_NANOS);
        return !stop.get() && ops < MAX_OPS_PER_CLIENT && System.nanoTime() < deadline;
    }

    private void writeRegisters(RecordingClient s, Random random, int client, long deadline) {
        List<String> keys = registersByWriter.get(client);
        long[] next = new long[keys.size()];
        int proxy = proxyOfWriter(client);
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
            written.incrementAndGet(client);
        }
    }

    private void incrementCounters(RecordingClient s, Random random, int client, long deadline) {
        List<String> keys = countersByWriter.get(client - REGISTER_WRITERS);
        int proxy = proxyOfWriter(client);
        for (long ops = 0; going(ops, deadline); ops++) {
            int k = (int) (ops % keys.size());
            s.incr(proxy, keys.get(k));
            written.incrementAndGet(client);
        }
    }

    private void read(RecordingClient s, Random random, int client, long deadline) {
        for (long ops = 0; going(ops, deadline); ops++) {
            String key = anyKey(random);
            int how = random.nextInt(5);
            if (how < 3) {
                s.get(readerProxy(key, random), List.of(key));
            } else if (how == 3) {
                s.get(random.nextInt(ports.size()), List.of(key, anyKey(random), anyKey(random), anyKey(random)));
            } else {
                s.metaGet(readerProxy(key, random), key);
            }
        }
    }

    private int proxyOfWriter(int client) {
        return client % ports.size();
    }

    /** Mostly not the proxy the key's writer uses: another proxy may not know what that one did. */
    private int readerProxy(String key, Random random) {
        int writerProxy = writerProxies.get(key);
        if (ports.size() == 1 || random.nextInt(4) == 0) {
            return writerProxy;
        }
        return (writerProxy + 1 + random.nextInt(ports.size() - 1)) % ports.size();
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

    /** The writes each writer completed so far. */
    long[] written() {
        long[] w = new long[written.length()];
        for (int i = 0; i < w.length; i++) {
            w[i] = written.get(i);
        }
        return w;
    }

    /**
     * Whether every writer wrote each of its keys, all sent after {@code before} (from
     * {@link #written()}) was taken: one pass over its keys, plus the write it was busy with.
     */
    boolean everyKeyWrittenSince(long[] before) {
        for (int i = 0; i < before.length; i++) {
            long pass = i < REGISTER_WRITERS ? COLD_KEYS * (HOT_WRITES_PER_COLD + 1L) : COUNTERS_PER_WRITER;
            if (written.get(i) < before[i] + pass + 1) {
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
        try (RecordingClient s = client(FINAL_READER, false)) {
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

    private RecordingClient client(int client, boolean recording) {
        return new RecordingClient(ports, history, Set.copyOf(counters), client, recording, unexpected);
    }

    List<String> unexpected() {
        return List.copyOf(unexpected);
    }
}
