package io.jmagent.replica;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One client command in the model's history: what was sent, when it started and when its reply
 * reached the client (model clock ticks; {@code ack} -1 while none), and what the reply says.
 */
final class Op {

    enum Kind {
        /** get, gets, gat, gats, mg: values per key. */
        READ,
        /** Replaces the whole value with {@code tag} when it succeeds: set, add, replace, cas, ms. */
        WRITE,
        /** Adds {@code tag} to the value when it succeeds: append, prepend, ms in append mode. */
        APPEND,
        /** The key is gone when it succeeds (DELETED or NOT_FOUND, HD or NF). */
        DELETE,
        /** incr, decr, ma: a number, or NOT_FOUND. */
        COUNTER,
        /** touch: changes no value. */
        TOUCH
    }

    final int id;
    final int client;
    final String text;
    final Kind kind;
    final List<String> keys;
    /** The value tag a write carries (its data), null for others. */
    final String tag;

    final long start;
    long ack = -1;
    String reply;

    Op(int id, int client, String text, Kind kind, List<String> keys, String tag, long start) {
        this.id = id;
        this.client = client;
        this.text = text;
        this.kind = kind;
        this.keys = keys;
        this.tag = tag;
        this.start = start;
    }

    String key() {
        return keys.get(0);
    }

    boolean acked() {
        return ack >= 0;
    }

    /** No reply, or an error reply: it may or may not have applied. */
    boolean indeterminate() {
        return !acked()
                || reply.startsWith("SERVER_ERROR")
                || reply.startsWith("ERROR")
                || reply.startsWith("CLIENT_ERROR");
    }

    /** A write whose reply says it took effect. */
    boolean effective() {
        if (indeterminate()) {
            return false;
        }
        return switch (kind) {
            case WRITE, APPEND -> reply.equals("STORED\r\n") || reply.startsWith("HD") || reply.isEmpty();
            case DELETE ->
                reply.equals("DELETED\r\n")
                        || reply.equals("NOT_FOUND\r\n")
                        || reply.startsWith("HD")
                        || reply.startsWith("NF")
                        || reply.isEmpty();
            default -> false;
        };
    }

    /** A counter's new value from an acked incr/decr/ma, null when it said NOT_FOUND (NF) or gave no number. */
    Long counterValue() {
        String r = reply;
        if (r.startsWith("VA ")) {
            r = r.substring(r.indexOf("\r\n") + 2);
        }
        r = r.trim();
        if (r.isEmpty() || !Character.isDigit(r.charAt(0))) {
            return null;
        }
        return Long.parseUnsignedLong(r);
    }

    /** ma answering HD: applied, value unknown. */
    boolean counterAppliedWithoutValue() {
        return reply.startsWith("HD");
    }

    boolean counterNotFound() {
        return reply.equals("NOT_FOUND\r\n") || reply.startsWith("NF");
    }

    /** The hits of an acked read: key to value (a key absent from the map missed). */
    Map<String, String> hits() {
        Map<String, String> hits = new LinkedHashMap<>();
        String r = reply;
        if (r.startsWith("VA ")) {
            int eol = r.indexOf("\r\n");
            int length = Integer.parseInt(r.substring(3, eol).split(" ")[0]);
            hits.put(key(), r.substring(eol + 2, eol + 2 + length));
            return hits;
        }
        int pos = 0;
        while (r.startsWith("VALUE ", pos)) {
            int eol = r.indexOf("\r\n", pos);
            String[] header = r.substring(pos, eol).split(" ");
            int length = Integer.parseInt(header[3]);
            hits.put(header[1], r.substring(eol + 2, eol + 2 + length));
            pos = eol + 2 + length + 2;
        }
        return hits;
    }

    @Override
    public String toString() {
        return "#" + id + " c" + client + " [" + start + "," + (acked() ? ack : "-") + "] "
                + text.replace("\r\n", "\\r\\n") + " -> "
                + (reply == null ? "(none)" : reply.replace("\r\n", "\\r\\n"));
    }
}
