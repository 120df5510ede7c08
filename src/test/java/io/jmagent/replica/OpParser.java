package io.jmagent.replica;

import java.util.Arrays;
import java.util.List;

/** Reads a model client's command text back into an {@link Op}: its kind, keys and value tag. */
final class OpParser {

    private OpParser() {}

    static Op parse(int id, int client, String text, long start) {
        int eol = text.indexOf("\r\n");
        String[] t = text.substring(0, eol).split(" ");
        String data = eol + 2 < text.length() ? text.substring(eol + 2, text.length() - 2) : null;
        List<String> key = List.of(t[1]);
        return switch (t[0]) {
            case "get", "gets" ->
                new Op(id, client, text, Op.Kind.READ, List.of(Arrays.copyOfRange(t, 1, t.length)), null, start);
            case "gat", "gats" ->
                new Op(id, client, text, Op.Kind.READ, List.of(Arrays.copyOfRange(t, 2, t.length)), null, start);
            case "set", "add", "replace", "cas" -> new Op(id, client, text, Op.Kind.WRITE, key, data, start);
            case "append", "prepend" -> new Op(id, client, text, Op.Kind.APPEND, key, data, start);
            case "delete" -> new Op(id, client, text, Op.Kind.DELETE, key, null, start);
            case "incr", "decr", "ma" -> new Op(id, client, text, Op.Kind.COUNTER, key, null, start);
            case "touch" -> new Op(id, client, text, Op.Kind.TOUCH, key, null, start);
            case "mg" -> new Op(id, client, text, Op.Kind.READ, key, null, start);
            case "ms" ->
                new Op(
                        id,
                        client,
                        text,
                        text.contains(" MA") || text.contains(" MP") ? Op.Kind.APPEND : Op.Kind.WRITE,
                        key,
                        data,
                        start);
            case "md" -> new Op(id, client, text, Op.Kind.DELETE, key, null, start);
            default -> throw new IllegalArgumentException("the model does not send " + t[0]);
        };
    }
}
