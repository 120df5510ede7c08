package io.jmagent.replica;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;

/**
 * A memcached server in memory for the model test: a map of items and the text and meta commands
 * the proxy sends (protocol.txt), executed one request buffer at a time when the explorer says so.
 * Time does not pass (nothing expires); a kill loses every item, and a restart is a new, empty
 * process (a new pid, a later start). Deterministic: items are kept in key order.
 */
final class FakeServer {

    /** One stored item. {@code exptime} is kept as given (0: none); the model's clock never moves. */
    record Item(String value, int flags, int exptime, long cas) {}

    static final String NON_NUMERIC = "CLIENT_ERROR cannot increment or decrement non-numeric value\r\n";

    final String name;
    /** Requests left in the server's buffers by connections the proxy abandoned (timed out): they may still run. */
    final ArrayDeque<String> orphans = new ArrayDeque<>();

    private final TreeMap<String, Item> items = new TreeMap<>();
    private long nextCas = 1;
    private int pid;
    private long startSecond;
    private boolean alive = true;
    private boolean frozen;

    FakeServer(String name, int pid) {
        this.name = name;
        this.pid = pid;
        this.startSecond = 1_000_000;
    }

    boolean alive() {
        return alive;
    }

    boolean frozen() {
        return frozen;
    }

    /** Serves requests now: alive and not frozen. */
    boolean available() {
        return alive && !frozen;
    }

    void kill() {
        alive = false;
        frozen = false;
        items.clear();
        orphans.clear();
    }

    /** A new process on the same address: empty, another pid, started later. */
    void restart() {
        alive = true;
        frozen = false;
        items.clear();
        orphans.clear();
        pid += 1000;
        startSecond += 100;
    }

    void freeze() {
        frozen = true;
    }

    void thaw() {
        frozen = false;
    }

    Item item(String key) {
        return items.get(key);
    }

    TreeMap<String, Item> items() {
        return items;
    }

    /** Executes every command of one request buffer, in order, and returns the bytes it answers. */
    String execute(String request) {
        StringBuilder out = new StringBuilder();
        int pos = 0;
        while (pos < request.length()) {
            int eol = request.indexOf("\r\n", pos);
            String[] t = request.substring(pos, eol).split(" ");
            pos = eol + 2;
            String data = null;
            int dataLength = dataLength(t);
            if (dataLength >= 0) {
                data = request.substring(pos, pos + dataLength);
                pos += dataLength + 2;
            }
            out.append(command(t, data));
        }
        return out.toString();
    }

    /** The length of the data block a command line announces, -1 for none. */
    private static int dataLength(String[] t) {
        return switch (t[0]) {
            case "set", "add", "replace", "append", "prepend", "cas" -> Integer.parseInt(t[4]);
            case "ms" -> Integer.parseInt(t[2]);
            default -> -1;
        };
    }

    private String command(String[] t, String data) {
        return switch (t[0]) {
            case "get", "gets" -> retrieve(t, 1, null, t[0].equals("gets"));
            case "gat", "gats" -> retrieve(t, 2, Integer.parseInt(t[1]), t[0].equals("gats"));
            case "set", "add", "replace", "append", "prepend", "cas" -> TextStore.store(this, t, data);
            case "delete" -> items.remove(t[1]) != null ? "DELETED\r\n" : "NOT_FOUND\r\n";
            case "incr", "decr" -> {
                String r = arithmetic(t[1], t[0].equals("incr"), Long.parseUnsignedLong(t[2]));
                yield r == null ? "NOT_FOUND\r\n" : r.isEmpty() ? NON_NUMERIC : r + "\r\n";
            }
            case "touch" -> touch(t[1], Integer.parseInt(t[2])) ? "TOUCHED\r\n" : "NOT_FOUND\r\n";
            case "flush_all" -> {
                items.clear();
                yield "OK\r\n";
            }
            case "verbosity" -> "OK\r\n";
            case "stats" -> stats();
            case "mg", "ms", "md", "ma", "mn" -> MetaCommands.execute(this, t, data);
            default -> "ERROR\r\n";
        };
    }

    private String retrieve(String[] t, int firstKey, Integer touchExptime, boolean withCas) {
        StringBuilder out = new StringBuilder();
        for (int i = firstKey; i < t.length; i++) {
            Item it = items.get(t[i]);
            if (it == null) {
                continue;
            }
            if (touchExptime != null) {
                it = put(t[i], it.value(), it.flags(), touchExptime, it.cas());
            }
            out.append("VALUE ")
                    .append(t[i])
                    .append(' ')
                    .append(Integer.toUnsignedString(it.flags()))
                    .append(' ')
                    .append(it.value().length());
            if (withCas) {
                out.append(' ').append(it.cas());
            }
            out.append("\r\n").append(it.value()).append("\r\n");
        }
        return out.append("END\r\n").toString();
    }

    /**
     * incr/decr as memcached does them (unsigned 64 bits, incr wraps, decr stops at 0): the new
     * value, null for no such key, "" for a value that is not a number.
     */
    String arithmetic(String key, boolean incr, long delta) {
        Item it = items.get(key);
        if (it == null) {
            return null;
        }
        long v;
        try {
            v = Long.parseUnsignedLong(it.value().trim());
        } catch (NumberFormatException e) {
            return "";
        }
        long r = incr ? v + delta : Long.compareUnsigned(v, delta) < 0 ? 0 : v - delta;
        String s = Long.toUnsignedString(r);
        put(key, s, it.flags(), it.exptime(), nextCas());
        return s;
    }

    boolean touch(String key, int exptime) {
        Item it = items.get(key);
        if (it == null) {
            return false;
        }
        put(key, it.value(), it.flags(), exptime, it.cas());
        return true;
    }

    Item put(String key, String value, int flags, int exptime, long cas) {
        Item it = new Item(value, flags, exptime, cas);
        items.put(key, it);
        return it;
    }

    long nextCas() {
        return nextCas++;
    }

    void remove(String key) {
        items.remove(key);
    }

    private String stats() {
        long now = startSecond + 5000;
        List<String> lines = new ArrayList<>();
        lines.add("STAT pid " + pid);
        lines.add("STAT uptime " + (now - startSecond));
        lines.add("STAT time " + now);
        lines.add("STAT version 1.6.21");
        lines.add("STAT curr_items " + items.size());
        return String.join("\r\n", lines) + "\r\nEND\r\n";
    }

    @Override
    public String toString() {
        return name + (alive ? frozen ? "(frozen)" : "" : "(dead)") + items;
    }
}
