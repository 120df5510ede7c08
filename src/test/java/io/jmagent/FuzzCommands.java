package io.jmagent;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * The command generator of {@link FuzzDifferentialIT}: random sequences of text and meta
 * commands over a small pool of keys (so that commands meet the same items), with mutations of
 * the kinds that found bugs before: flag tokens with trailing characters, data blocks whose
 * announced length lies by one byte, requests cut in two writes ({@link #SPLIT}), noreply and quiet modes, keys at the 250-byte limit and one
 * past it, unknown commands, bare LF line ends. A sequence is a pure function of its seed.
 *
 * <p>Left out on purpose, as the fixed differential scripts leave them out: version, stats and
 * the administration commands (the proxy answers them itself), TTLs that would expire during a
 * run, and meta flags whose value differs per server by nature (they are normalised instead, see
 * {@link FuzzDifferentialIT#normalise}).
 */
final class FuzzCommands {

    private static final String[] KEYS = {"fa", "fb", "fc", "fd", "fe", "n1", "n2"};
    private static final String[] STORES = {"set", "add", "replace", "append", "prepend"};
    /** mg flags that answer the same from any server: value, key, flags, size, opaque, base64, quiet... */
    private static final String[] MG_FLAGS = {"v", "k", "f", "s", "O7", "q", "t", "c", "h", "T900", "N900"};

    private static final String[] MS_FLAGS = {
        "F5", "T900", "q", "k", "O3", "c", "I", "MS", "ME", "MA", "MP", "MR", "C12345678901"
    };
    private static final String[] MD_FLAGS = {"q", "k", "O9", "I", "T900", "C12345678901"};
    private static final String[] MA_FLAGS = {"v", "q", "k", "O5", "N900", "J13", "D7", "MI", "MD", "M+", "M-", "t", "c"
    };

    /** Where a request is cut in two writes (a char no request holds: requests are ISO-8859-1). */
    static final String SPLIT = "\uE000";

    private final Random random;

    FuzzCommands(long seed) {
        this.random = new Random(seed);
    }

    /** A sequence of {@code count} requests, each the bytes of one or a few commands. */
    List<String> sequence(int count) {
        List<String> requests = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            requests.add(command());
        }
        return requests;
    }

    private String command() {
        int pick = random.nextInt(100);
        String c;
        if (pick < 18) {
            c = store();
        } else if (pick < 30) {
            c = retrieval();
        } else if (pick < 36) {
            c = "delete " + key() + noreply() + "\r\n";
        } else if (pick < 46) {
            c = arithmetic();
        } else if (pick < 50) {
            c = "touch " + key() + " " + (random.nextBoolean() ? "0" : "900") + noreply() + "\r\n";
        } else if (pick < 62) {
            c = metaGet();
        } else if (pick < 72) {
            c = metaSet();
        } else if (pick < 77) {
            c = "md " + key() + flags(MD_FLAGS) + "\r\n";
        } else if (pick < 85) {
            c = "ma " + key() + flags(MA_FLAGS) + "\r\n";
        } else if (pick < 88) {
            c = "mn\r\n";
        } else if (pick < 91) {
            c = "cas " + key() + " 0 0 1 " + (1_000_000_000L + random.nextInt(1000)) + noreply() + "\r\nx\r\n";
        } else if (pick < 94) {
            c = edgeKey();
        } else if (pick < 96) {
            c = switch (random.nextInt(4)) {
                case 0 -> "bogus " + key() + "\r\n";
                case 1 -> "\r\n";
                case 2 -> "me\r\n"; // a meta command without its key
                // near memcached's 2048-byte line limit, or far past it
                default ->
                    "delete " + key() + "x".repeat(random.nextBoolean() ? 2040 + random.nextInt(16) : 9000) + "\r\n";
            };
        } else {
            c = "set " + key() + " 0 0 2\r\n" + "1" + random.nextInt(10) + "\r\n"; // a number, for incr
        }
        if (random.nextInt(12) == 0) {
            c = c.replace("\r\n", "\n"); // memcached takes a bare LF as a line end too
        }
        if (random.nextInt(8) == 0 && c.length() > 1) {
            int at = 1 + random.nextInt(c.length() - 1);
            c = c.substring(0, at) + SPLIT + c.substring(at); // sent as two writes, a pause between
        }
        return c;
    }

    private String store() {
        String cmd = STORES[random.nextInt(STORES.length)];
        String value = value();
        int announced = value.length() + lie();
        return cmd + " " + key() + " " + random.nextInt(70000) + " " + (random.nextBoolean() ? "0" : "900") + " "
                + announced + noreply() + "\r\n" + value + "\r\n";
    }

    private String retrieval() {
        String cmd =
                switch (random.nextInt(4)) {
                    case 0 -> "get";
                    case 1 -> "gets";
                    case 2 -> "gat 900";
                    default -> "gats 0";
                };
        StringBuilder b = new StringBuilder(cmd);
        int keys = 1 + random.nextInt(4);
        for (int i = 0; i < keys; i++) {
            b.append(' ').append(key());
        }
        return b.append("\r\n").toString();
    }

    private String arithmetic() {
        String delta =
                switch (random.nextInt(5)) {
                    case 0 -> "18446744073709551615";
                    case 1 -> "18446744073709551616"; // one past 2^64 - 1
                    case 2 -> "-1";
                    default -> Integer.toString(random.nextInt(100));
                };
        return (random.nextBoolean() ? "incr " : "decr ") + key() + " " + delta + noreply() + "\r\n";
    }

    private String metaGet() {
        return "mg " + key() + flags(MG_FLAGS) + "\r\n";
    }

    private String metaSet() {
        String value = value();
        return "ms " + key() + " " + (value.length() + lie()) + flags(MS_FLAGS) + "\r\n" + value + "\r\n";
    }

    /** A key at the 250-byte limit, or one past it, in a get, a set or an mg. */
    private String edgeKey() {
        String key = "k".repeat(random.nextBoolean() ? 250 : 251);
        return switch (random.nextInt(3)) {
            case 0 -> "get " + key + "\r\n";
            case 1 -> "set " + key + " 0 0 1\r\nx\r\n";
            default -> "mg " + key + " v\r\n";
        };
    }

    /** 0 to 3 distinct flags, one of them now and then with trailing characters (memcached reads the first). */
    private String flags(String[] pool) {
        StringBuilder b = new StringBuilder();
        int n = random.nextInt(4);
        List<String> used = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            String f = pool[random.nextInt(pool.length)];
            if (used.contains(f.substring(0, 1))) {
                continue; // memcached refuses a repeated flag: covered by the fixed scripts
            }
            used.add(f.substring(0, 1));
            if (f.length() == 1 && random.nextInt(6) == 0) {
                f = f + "x";
            }
            b.append(' ').append(f);
        }
        return b.toString();
    }

    private String key() {
        return KEYS[random.nextInt(KEYS.length)];
    }

    private String value() {
        return switch (random.nextInt(6)) {
            case 0 -> "";
            case 1 -> Integer.toString(random.nextInt(1000));
            case 2 -> "v" + random.nextInt(100) + " with spaces";
            default -> "x".repeat(1 + random.nextInt(40));
        };
    }

    /** Mostly the true length; now and then one byte short or long. */
    private int lie() {
        int r = random.nextInt(20);
        return r == 0 ? -1 : r == 1 ? 1 : 0;
    }

    private String noreply() {
        return random.nextInt(8) == 0 ? " noreply" : "";
    }
}
