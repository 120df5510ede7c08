package io.jmagent.it;

import io.jmagent.testing.History;
import io.jmagent.testing.History.Kind;
import io.jmagent.testing.History.Op;
import io.jmagent.testing.History.Outcome;
import io.jmagent.testing.TextClient;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * One client of {@link ReplicaChaosIT}: a connection to each proxy (reopened after an error),
 * speaking the text protocol, and every operation recorded in a {@link History} with the time it
 * was sent, the time its reply came and what the reply says. Used by one thread.
 */
final class RecordingClient implements AutoCloseable {

    private final List<Integer> ports;
    private final History history;
    private final Set<String> counters;
    private final int client;
    private final boolean recording;
    private final Queue<String> unexpected;
    private final TextClient[] connections;

    /**
     * Client {@code client} of the proxies on {@code ports}; {@code counters} are the keys that
     * hold counters; replies no memcached gives go to {@code unexpected}.
     */
    RecordingClient(
            List<Integer> ports,
            History history,
            Set<String> counters,
            int client,
            boolean recording,
            Queue<String> unexpected) {
        this.ports = ports;
        this.history = history;
        this.counters = counters;
        this.client = client;
        this.recording = recording;
        this.unexpected = unexpected;
        this.connections = new TextClient[ports.size()];
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
