package io.jmagent;

import static io.jmagent.DifferentialCase.line;
import static io.jmagent.DifferentialCase.store;
import static io.jmagent.DifferentialCase.withNoreply;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.function.Function;

/**
 * Differential cases for everything a client can get wrong, and for the limits: unknown
 * commands, token counts, odd numbers in every numeric field, keys of 250 and 251 bytes, bad
 * data blocks, values of 1 and 2 MB and the largest memcached stores, white space and line
 * endings, lines that never end, binary junk.
 */
final class ProtocolErrorScript {

    /** memcached 1.6.18 with -I 1m stores at most this many bytes under {@link #MAX_VALUE_KEY}, flags 0. */
    static final int MAX_VALUE_BYTES = 1048514;

    static final String MAX_VALUE_KEY = "max";
    static final String KEY_250 = "k".repeat(249) + "X";
    static final String KEY_251 = "k".repeat(250) + "Y";

    private final List<DifferentialCase> cases = new ArrayList<>();

    private ProtocolErrorScript() {}

    static List<DifferentialCase> cases() {
        ProtocolErrorScript s = new ProtocolErrorScript();
        s.unknownCommands();
        s.tokenCounts();
        s.badNumbers();
        s.keyLengths();
        s.dataBlocks();
        s.valueSizes();
        s.whitespaceAndLineEndings();
        s.junk();
        return s.cases;
    }

    /**
     * memcached reads a retrieval's keys in order and stops at the first one over 250 bytes: the
     * keys before it are fetched (and touched: gat -1 expires them), their values dropped, and the
     * client told the line is bad (issue 18). mg's h flag shows which were fetched. The retrieval
     * is a step of its own, as memcached also drops the unsent replies to earlier commands.
     */
    private void keysBeforeAKeyTooLongAreRead(String cmd) {
        cases.add(DifferentialCase.of(
                "key of 251 bytes after others: " + cmd + " reads the keys before it",
                previous -> store("set", "kl:a", 0, 0, "A")
                        + store("set", "kl:b", 0, 0, "B")
                        + store("set", "kl:c", 0, 0, "C"),
                previous -> line(cmd + " kl:a kl:miss kl:b " + KEY_251 + " kl:c"),
                previous -> line("mg kl:a t h") + line("mg kl:b t h") + line("mg kl:c t h") + line("mg kl:miss h")));
    }

    private void add(String name, String request) {
        cases.add(DifferentialCase.of(name, request));
    }

    private void addExpecting(String name, String oracleReplyStart, String request) {
        cases.add(DifferentialCase.of(name, request).expectingOracle(oracleReplyStart));
    }

    private void unknownCommands() {
        add("unknown command", line("foo"));
        add("unknown command with arguments", line("foo bar baz 1 2 3"));
        add("commands are case sensitive", line("GET k") + line("Set k 0 0 1") + line("DELETE k"));
        add(
                "near misses of real commands",
                line("gett k")
                        + line("sets k 0 0 1")
                        + line("increment k 1")
                        + line("g k")
                        + line("m")
                        + line("mx k")
                        + line("flush")
                        + line("touched k 1"));
        add("empty line", line(""));
        add("blank lines", line(" ") + line("   ") + "\n" + "\r\n");
        add("debug-build commands are unknown", line("misbehave") + line("debugtime 1"));
        add("an http request", "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    }

    private void tokenCounts() {
        String[] storage = {"tc:k", "0", "0", "1", "noreply", "extra", "extra"};
        for (String cmd : new String[] {"set", "add", "replace", "append", "prepend"}) {
            for (int n = 0; n <= storage.length; n++) {
                add(
                        "token count: " + cmd + " with " + n + " arguments",
                        line(cmd + args(storage, n)) + "x\r\n" + line("get tc:k"));
            }
        }
        String[] cas = {"tc:k", "0", "0", "1", "1", "noreply", "extra"};
        for (int n = 0; n <= cas.length; n++) {
            add("token count: cas with " + n + " arguments", line("cas" + args(cas, n)) + "x\r\n" + line("get tc:k"));
        }
        tokenCount("get", new String[] {"tc:k", "tc:j", "tc:k", "tc:j"});
        tokenCount("gets", new String[] {"tc:k", "tc:j", "tc:k"});
        tokenCount("gat", new String[] {"100", "tc:k", "tc:j", "tc:k"});
        tokenCount("gats", new String[] {"100", "tc:k", "tc:j"});
        tokenCount("delete", new String[] {"tc:k", "0", "noreply", "extra"});
        tokenCount("incr", new String[] {"tc:k", "1", "noreply", "extra"});
        tokenCount("decr", new String[] {"tc:k", "1", "noreply", "extra"});
        tokenCount("touch", new String[] {"tc:k", "100", "noreply", "extra"});
        tokenCount("flush_all", new String[] {"0", "noreply", "extra"});
        tokenCount("verbosity", new String[] {"0", "noreply", "extra"});
        junkLastTokens();
    }

    /** A last token that is not "noreply" is ignored where memcached allows one token more. */
    private void junkLastTokens() {
        add(
                "a junk last token is ignored",
                line("set tc:k 0 0 1 junk") + "7\r\n" + line("cas tc:k 0 0 1 5 junk")
                        + "8\r\n" + line("incr tc:k 1 junk") + line("touch tc:k 100 junk") + line("delete tc:k junk")
                        + line("verbosity 0 junk") + line("flush_all 0 junk") + line("get tc:k"));
    }

    /** The command with 0..all of {@code template} as arguments, on an item "tc:k" holding 5. */
    private void tokenCount(String cmd, String[] template) {
        for (int n = 0; n <= template.length; n++) {
            add(
                    "token count: " + cmd + " with " + n + " arguments",
                    store("set", "tc:k", 0, 0, "5") + line(cmd + args(template, n)) + line("get tc:k"));
        }
    }

    private static String args(String[] template, int n) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < n; i++) {
            b.append(' ').append(template[i]);
        }
        return b.toString();
    }

    /** Numbers memcached's safe_strto* helpers refuse, truncate or read in their own way. */
    private static final String[] ODD_NUMBERS = {
        "x",
        "-1",
        "-0",
        "+100",
        "100x",
        "0x10",
        "1.0",
        "00100",
        "2147483647",
        "2147483648",
        "-2147483648",
        "-2147483649",
        "4294967295",
        "4294967296",
        "9223372036854775807",
        "9223372036854775808",
        "-9223372036854775808",
        "18446744073709551615",
        "18446744073709551616",
        "-18446744073709551615",
        "99999999999999999999",
        "\t100",
        "100\t",
        "100\tx",
        "100\u000b",
        "\u000c100",
        "100\r",
        "-",
        "+",
        "\t"
    };
    /**
     * Odd data lengths: each is refused or reads as 0 or 1, so that no case waits for a value of
     * megabytes (memcached would swallow it, the test's own sentinel included).
     */
    private static final String[] ODD_LENGTHS = {
        "x",
        "-1",
        "-0",
        "+1",
        "1x",
        "0x1",
        "1.0",
        "01",
        "2147483646",
        "2147483647",
        "2147483648",
        "-2147483648",
        "-2147483649",
        "4294967295",
        "4294967296",
        "4294967297",
        "9223372036854775807",
        "9223372036854775808",
        "18446744073709551616",
        "-18446744073709551615",
        "99999999999999999999",
        "\t1",
        "1\t",
        "1\tx",
        "1\u000b",
        "\u000c1",
        "1\r",
        "-",
        "+",
        "\t"
    };

    private void badNumbers() {
        for (String cmd : new String[] {"set", "add", "replace", "append", "prepend", "cas"}) {
            String casField = cmd.equals("cas") ? " 0" : "";
            oddNumbers(cmd + " flags", ODD_NUMBERS, n -> line(cmd + " bn:k " + n + " 0 1" + casField) + "v\r\n");
            oddNumbers(cmd + " exptime", ODD_NUMBERS, n -> line(cmd + " bn:k 0 " + n + " 1" + casField) + "v\r\n");
            oddNumbers(cmd + " length", ODD_LENGTHS, n -> line(cmd + " bn:k 0 0 " + n + casField) + "v\r\n");
        }
        // as cas uniques, the odd numbers read as 0 where they would read as 100, which an item may have
        String[] oddUniques =
                Arrays.stream(ODD_NUMBERS).map(n -> n.replace("100", "0")).toArray(String[]::new);
        oddNumbers("cas unique", oddUniques, n -> line("cas bn:k 0 0 1 " + n) + "v\r\n");
        oddNumbers("incr delta", ODD_NUMBERS, n -> line("incr bn:k " + n));
        oddNumbers("decr delta", ODD_NUMBERS, n -> line("decr bn:k " + n));
        oddNumbers("touch exptime", ODD_NUMBERS, n -> line("touch bn:k " + n));
        oddNumbers("gat exptime", ODD_NUMBERS, n -> line("gat " + n + " bn:k"));
        oddNumbers("gats exptime", ODD_NUMBERS, n -> line("gats " + n + " bn:k bn:none"));
        oddNumbers("flush_all delay", ODD_NUMBERS, n -> line("flush_all " + n));
        oddNumbers("verbosity level", ODD_NUMBERS, n -> line("verbosity " + n));
    }

    /**
     * One case per field: each odd number in turn, without and with noreply, each followed by a
     * read of the item "bn:k" (flags 3, value 100) to show what the command did to it.
     */
    private void oddNumbers(String field, String[] numbers, Function<String, String> command) {
        StringBuilder plain = new StringBuilder();
        StringBuilder noreply = new StringBuilder();
        for (String n : numbers) {
            String reset = store("set", "bn:k", 3, 0, "100");
            plain.append(reset).append(command.apply(n)).append(line("get bn:k"));
            noreply.append(reset).append(withNoreply(command.apply(n))).append(line("get bn:k"));
        }
        if (field.startsWith("flush_all")) {
            // a delay in the future leaves a pending flush behind; cancel it before the next number
            plain = new StringBuilder(plain.toString().replace("get bn:k\r\n", "get bn:k\r\nflush_all\r\n"));
            noreply = new StringBuilder(noreply.toString().replace("get bn:k\r\n", "get bn:k\r\nflush_all\r\n"));
        }
        add("odd numbers: " + field, plain.toString());
        add("odd numbers with noreply: " + field, noreply.toString());
    }

    private void keyLengths() {
        for (String key : new String[] {KEY_250, KEY_251}) {
            String size = key.length() + " bytes";
            // one retrieval per case, first on its connection: when a retrieval meets a key that is
            // too long, memcached drops every reply it has not sent yet (proto_text.c calls
            // conn_release_items), so what else it answers depends on how its reads were cut
            for (String cmd : new String[] {"get", "gets", "bget", "gat 0", "gats 0"}) {
                add("key of " + size + ": " + cmd, line(cmd + " " + key));
                add("key of " + size + " among others: " + cmd, line(cmd + " kl:a " + key + " kl:b"));
            }
            for (String cmd : new String[] {"set", "add", "replace", "append", "prepend"}) {
                add(
                        "key of " + size + ": " + cmd,
                        store("set", "kl:a", 0, 0, "A") + line(cmd + " " + key + " 0 0 1") + "v\r\n"
                                + line(cmd + " " + key + " 0 0 1 noreply") + "w\r\n" + line("get kl:a"));
            }
            add(
                    "key of " + size + ": cas",
                    store("set", "kl:a", 0, 0, "A") + line("cas " + key + " 0 0 1 1") + "v\r\n"
                            + line("cas " + key + " 0 0 1 1 noreply") + "w\r\n" + line("get kl:a"));
            add(
                    "key of " + size + ": delete",
                    store("set", "kl:a", 0, 0, "A")
                            + line("delete " + key)
                            + line("delete " + key + " noreply")
                            + line("delete " + key + " 0")
                            + line("delete " + key + " x"));
            add(
                    "key of " + size + ": incr and decr",
                    store("set", "kl:a", 0, 0, "A")
                            + line("incr " + key + " 1")
                            + line("decr " + key + " 1")
                            + line("incr " + key + " 1 noreply")
                            + line("incr " + key + " x"));
            add(
                    "key of " + size + ": touch",
                    store("set", "kl:a", 0, 0, "A")
                            + line("touch " + key + " 10")
                            + line("touch " + key + " 10 noreply")
                            + line("touch " + key + " x"));
        }
        for (String cmd : new String[] {"get", "gets", "bget", "gat 0", "gats 0", "gat -1", "gats -1"}) {
            keysBeforeAKeyTooLongAreRead(cmd);
        }
        StringBuilder all = new StringBuilder();
        for (String cmd : new String[] {"set", "add", "replace", "append", "prepend"}) {
            all.append(store(cmd, KEY_250, 1, 0, cmd));
        }
        add(
                "key of 250 bytes: stored and read back",
                all + line("cas " + KEY_250 + " 0 0 1 1") + "c\r\n"
                        + line("incr " + KEY_250 + " 1") + line("touch " + KEY_250 + " 100") + line("get " + KEY_250)
                        + line("gets " + KEY_250) + line("gat 0 " + KEY_250) + line("delete " + KEY_250)
                        + line("get " + KEY_250));
    }

    private void dataBlocks() {
        for (String cmd : new String[] {"set", "add", "replace", "append", "prepend", "cas"}) {
            String casField = cmd.equals("cas") ? " 0" : "";
            add(
                    "bad data chunk leaves the old value: " + cmd,
                    store("set", "db:a", 0, 0, "old")
                            + line(cmd + " db:a 0 0 1" + casField) + "xyz\r\n" + line("get db:a")
                            + line(cmd + " db:a 0 0 1" + casField + " noreply") + "xyz\r\n" + line("get db:a"));
        }
        add(
                "data block shorter than announced",
                store("set", "db:a", 0, 0, "old") + line("set db:a 0 0 5") + "ab\r\n" + line("get db:a")
                        + line("get db:a"));
        add(
                "data block ended by a bare newline",
                store("set", "db:a", 0, 0, "old") + line("set db:a 0 0 1") + "a\n" + line("get db:a")
                        + line("set db:a 0 0 2") + "ab\n\n" + line("get db:a"));
        add(
                "data block ended by CR alone",
                store("set", "db:a", 0, 0, "old") + line("set db:a 0 0 1") + "a\r" + line("get db:a"));
        add(
                "negative length",
                store("set", "db:a", 0, 0, "old") + line("set db:a 0 0 -1") + "x\r\n" + line("get db:a")
                        + line("set db:a 0 0 -1 noreply") + line("get db:a"));
        add("zero length with a non-empty block", line("set db:a 0 0 0") + "x\r\n" + line("get db:a"));
    }

    private void valueSizes() {
        String oneMb = "m".repeat(1024 * 1024);
        addExpecting(
                "value of exactly 1 MB",
                "STORED\r\nSERVER_ERROR object too large for cache\r\n",
                store("set", "vs:a", 0, 0, "old")
                        + store("set", "vs:a", 0, 0, oneMb)
                        + line("get vs:a")
                        + store("set", "vs:b", 0, 0, "old")
                        + store("add", "vs:b", 0, 0, oneMb)
                        + line("get vs:b"));
        String max = "x".repeat(MAX_VALUE_BYTES);
        addExpecting(
                "largest value memcached stores",
                "STORED\r\nVALUE " + MAX_VALUE_KEY,
                store("set", MAX_VALUE_KEY, 0, 0, max)
                        + line("get " + MAX_VALUE_KEY)
                        + store("append", MAX_VALUE_KEY, 0, 0, "y")
                        + line("get " + MAX_VALUE_KEY));
        addExpecting(
                "one byte over the largest value",
                "SERVER_ERROR object too large for cache",
                store("set", MAX_VALUE_KEY, 0, 0, max + "y") + line("get " + MAX_VALUE_KEY));
        String twoMb = "t".repeat(2 * 1024 * 1024);
        for (String cmd : new String[] {"set", "add", "replace", "append", "prepend", "cas"}) {
            String casField = cmd.equals("cas") ? " 1" : "";
            String big = line(cmd + " vs:a 0 0 " + twoMb.length() + casField) + twoMb + "\r\n";
            add(
                    "value of 2 MB refused, effect on the key: " + cmd,
                    store("set", "vs:a", 0, 0, "old") + big + line("get vs:a"));
            add(
                    "value of 2 MB refused with noreply, effect on the key: " + cmd,
                    store("set", "vs:a", 0, 0, "old") + withNoreply(big) + line("get vs:a"));
        }
    }

    private void whitespaceAndLineEndings() {
        add(
                "tabs do not separate tokens",
                line("get\tws:a") + line("set\tws:a 0 0 1") + "x\r\n" + line("set ws:a\t0 0 1") + "y\r\n"
                        + line("get ws:a\t") + line("get ws:a"));
        add(
                "many spaces between tokens",
                line("  set   ws:a   5   0   1  ") + "x\r\n" + line("get  ws:a   ws:b ") + line("  incr  ws:a   1 ")
                        + line("   delete    ws:a    noreply  ") + line("get ws:a"));
        add(
                "bare newline line endings",
                "set ws:a 0 0 1\nx\r\nget ws:a\nincr ws:a 1\ndelete ws:a\n"
                        + "touch ws:a 1\nflush_all\nverbosity 0\nget ws:a\n");
        add("bare newline after the data block", "set ws:a 0 0 1\nx\nget ws:a\n");
        add(
                "keys with control and high bytes",
                line("set ws:\u0001\u007f\u00ff\t 3 0 1") + "v\r\n"
                        + line("get ws:\u0001\u007f\u00ff\t ws:\u0001") + line("incr ws:\u0001\u007f\u00ff\t 1")
                        + line("delete ws:\u0001\u007f\u00ff\t"));
        add("stray carriage returns", line("get ws:a\r") + line("\r") + "get\r ws:a\r\n" + line("get ws:a\rb"));
        add(
                "NUL ends a command line",
                line("get ws:a\0ws:b") + line("set ws:a\0x 0 0 1") + "v\r\n" + line("set ws:a 0 0 1\0 junk") + "w\r\n"
                        + line("get ws:a") + line("\0get ws:a"));
        add("leading spaces before a long multiget", " ".repeat(90) + "get " + "ws:a ".repeat(600) + "\r\n");
        add("a line that never ends", "x".repeat(40_000));
        add("a set line that never ends", "set ws:a 0 0 1" + " ".repeat(40_000));
        add("a gat line that never ends", "gat 0" + " ws:a".repeat(8_000));
        add("a long get line after 101 spaces", " ".repeat(101) + "get" + " ws:a".repeat(8_000));
        add("a long get line", "get" + " ws:a".repeat(8_000) + "\r\n");
        add(
                "a long gat line that arrives whole",
                store("set", "ws:a", 0, 0, "A") + "gat 0" + " ws:a".repeat(1_000) + "\r\n" + "gats 0"
                        + " ws:a ws:b".repeat(300) + "\r\n");
        add("a long line that arrives whole", "set ws:a 0 0 1" + " ".repeat(3_000) + "\r\nx\r\n" + line("get ws:a"));
        // after a few round trips the proxy's reads are small: a 9 KB line sent in one write is still
        // a line memcached reads whole (a key over 250 bytes), not one past 2048 bytes without a newline
        cases.add(DifferentialCase.of(
                "a 9 KB line in one write after a few round trips",
                p -> "set ws:b 0 0 1\r\nx\r\n",
                p -> line("get ws:b"),
                p -> line("get ws:b"),
                p -> line("get ws:b"),
                p -> line("delete ws:" + "k".repeat(9_000)),
                p -> line("get ws:b")));
    }

    private void junk() {
        Random random = new Random(4);
        StringBuilder line = new StringBuilder();
        for (int i = 0; i < 20; i++) {
            line.setLength(0);
            int length = 1 + random.nextInt(200);
            for (int j = 0; j < length; j++) {
                int b = random.nextInt(256);
                line.append(b == '\n' ? 'n' : (char) b);
            }
            if (line.charAt(0) == 0x80) {
                line.setCharAt(0, 'j');
            }
            add("binary junk line " + i, line + "\r\n" + line("get jk:a"));
        }
        StringBuilder noNewline = new StringBuilder("\u0001");
        for (int j = 0; j < 30_000; j++) {
            int b = random.nextInt(256);
            noNewline.append(b == '\n' ? ' ' : (char) b);
        }
        add("binary junk without a newline", noNewline.toString());
        add(
                "control characters",
                line("\u0001\u0002\u0003") + line("\u007f") + line("\u00ff\u00fe get") + line("get \u0001"));
    }
}
