package io.jmagent;

import static io.jmagent.DifferentialCase.line;
import static io.jmagent.DifferentialCase.store;

import io.jmagent.DifferentialCase.Step;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/**
 * Differential cases for every command of the text protocol as it is meant to be used: storage,
 * retrieval (up to 200 keys over every server), cas with tokens read from each side's own gets,
 * delete, incr/decr, touch, flush_all, verbosity, quit, and bursts of 2000 pipelined commands.
 */
final class CommandScript {

    /** A cas unique no item gets: memcached counts them up from 1. */
    static final String NEVER_A_CAS = "18446744073709551615";

    private final List<DifferentialCase> cases = new ArrayList<>();

    private CommandScript() {}

    static List<DifferentialCase> cases() {
        CommandScript s = new CommandScript();
        s.storage();
        s.retrieval();
        s.casTokens();
        s.deletion();
        s.arithmetic();
        s.touch();
        s.flushAll();
        s.verbosityAndQuit();
        s.pipelines();
        return s.cases;
    }

    private void add(String name, String request) {
        cases.add(DifferentialCase.of(name, request));
    }

    private void add(String name, Step... steps) {
        cases.add(DifferentialCase.of(name, steps));
    }

    private void storage() {
        add("set then get", store("set", "s:a", 0, 0, "hello") + line("get s:a"));
        add("set overwrites", store("set", "s:a", 1, 0, "one") + store("set", "s:a", 2, 0, "two") + line("get s:a"));
        add(
                "add stores only a missing key",
                store("add", "s:a", 0, 0, "first") + store("add", "s:a", 0, 0, "second") + line("get s:a"));
        add(
                "replace stores only an existing key",
                store("replace", "s:a", 0, 0, "early")
                        + store("set", "s:a", 0, 0, "set")
                        + store("replace", "s:a", 7, 0, "replaced")
                        + line("get s:a"));
        add(
                "append and prepend need an existing key",
                store("append", "s:a", 0, 0, "x") + store("prepend", "s:a", 0, 0, "y") + line("get s:a"));
        add(
                "append and prepend keep the item's flags",
                store("set", "s:a", 5, 0, "mid")
                        + store("append", "s:a", 9, 0, ">>")
                        + store("prepend", "s:a", 9, 0, "<<")
                        + line("gets s:a"));
        add("empty value", store("set", "s:a", 0, 0, "") + store("append", "s:a", 0, 0, "") + line("get s:a"));
        add(
                "value holding protocol lines",
                store("set", "s:a", 0, 0, "x\r\nVALUE s:b 0 1\r\ny\r\nEND\r\n") + line("get s:a s:b"));
        StringBuilder everyByte = new StringBuilder();
        for (int b = 0; b < 256; b++) {
            everyByte.append((char) b);
        }
        add("value with every byte value", store("set", "s:a", 0, 0, everyByte.toString()) + line("get s:a"));
        add(
                "flags over the whole 32-bit range",
                line("set s:a 65535 0 1") + "a\r\n" + line("get s:a")
                        + line("set s:a 4294967295 0 1") + "b\r\n" + line("get s:a")
                        + line("set s:a 4294967296 0 1") + "c\r\n" + line("get s:a"));
        add("negative exptime expires at once", store("set", "s:a", 0, -1, "gone") + line("get s:a"));
        add(
                "exptime past 30 days is an absolute time",
                line("set s:a 0 2592001 1") + "a\r\n" + line("get s:a") + line("set s:b 0 2000000000 1") + "b\r\n"
                        + line("get s:b"));
        add(
                "storage commands with noreply",
                line("set s:a 0 0 1 noreply") + "a\r\n"
                        + line("add s:a 0 0 1 noreply") + "b\r\n" + line("add s:b 0 0 1 noreply") + "c\r\n"
                        + line("replace s:a 3 0 1 noreply") + "d\r\n" + line("replace s:c 0 0 1 noreply") + "e\r\n"
                        + line("append s:a 0 0 1 noreply") + "f\r\n" + line("prepend s:a 0 0 1 noreply") + "g\r\n"
                        + line("append s:d 0 0 1 noreply") + "h\r\n" + line("get s:a s:b s:c s:d"));
    }

    private void retrieval() {
        add("get of a missing key", line("get r:none"));
        add(
                "get of hits and misses in key order",
                store("set", "r:a", 1, 0, "A") + store("set", "r:b", 2, 0, "B") + line("get r:b r:none r:a r:b"));
        add("gets", store("set", "r:a", 1, 0, "A") + line("gets r:a r:none r:a"));
        add(
                "gat and gats",
                store("set", "r:a", 3, 0, "A")
                        + line("gat 100 r:a r:none")
                        + line("gats 0 r:a")
                        + line("gat -1 r:a")
                        + line("get r:a"));
        add("gat and gats without a key", line("gat 10") + line("gats 10"));
        add(
                "duplicate keys in a multiget",
                store("set", "r:a", 0, 0, "A")
                        + store("set", "r:b", 0, 0, "B")
                        + line("get r:a r:a r:b r:a r:none r:none r:b")
                        + line("gets r:b r:b")
                        + line("gat 0 r:a r:a"));
        add("bget is get", store("set", "r:a", 0, 0, "A") + line("bget r:a r:none"));
        add(
                "noreply is a key to get",
                store("set", "noreply", 0, 0, "N")
                        + line("get r:a noreply")
                        + line("gets noreply")
                        + line("gat 0 noreply"));

        StringBuilder sets = new StringBuilder();
        List<String> keys = multiGetKeys();
        for (int i = 0; i < keys.size(); i += 2) {
            sets.append(store("set", keys.get(i), i, 0, "value-" + i));
        }
        List<String> order = new ArrayList<>(keys);
        Collections.shuffle(order, new Random(200));
        String keyList = String.join(" ", order);
        add("200-key get across every server", sets + "get " + keyList + "\r\n");
        add("200-key gets across every server", sets + "gets " + keyList + "\r\n");
        add("200-key gat across every server", sets + "gat 100 " + keyList + "\r\n" + "get " + keyList + "\r\n");
        add("200-key gats across every server", sets + "gats 0 " + keyList + " " + keyList + "\r\n");
    }

    /** 200 keys; every other one is set before the multigets. */
    static List<String> multiGetKeys() {
        List<String> keys = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            keys.add("mg:" + i);
        }
        return keys;
    }

    private void casTokens() {
        add(
                "cas with the right token, then the used one",
                previous -> store("set", "c:a", 0, 0, "v1") + line("gets c:a"),
                previous -> line("cas c:a 1 0 2 " + casOf(previous, "c:a")) + "v2\r\n"
                        + line("cas c:a 2 0 2 " + casOf(previous, "c:a")) + "v3\r\n" + line("gets c:a"));
        add(
                "cas with a wrong token",
                previous -> store("set", "c:a", 0, 0, "v1") + line("gets c:a"),
                previous -> line("cas c:a 0 0 2 0") + "v2\r\n" + line("cas c:a 0 0 2 " + NEVER_A_CAS) + "v3\r\n"
                        + line("get c:a"));
        add(
                "cas with noreply",
                previous -> store("set", "c:a", 0, 0, "v1") + line("gets c:a"),
                previous -> line("cas c:a 0 0 2 " + casOf(previous, "c:a") + " noreply") + "v2\r\n"
                        + line("cas c:a 0 0 2 " + casOf(previous, "c:a") + " noreply") + "v3\r\n" + line("get c:a"));
        add(
                "cas on a missing or deleted key",
                previous -> line("cas c:none 0 0 1 1") + "x\r\n" + store("set", "c:a", 0, 0, "v1") + line("gets c:a"),
                previous -> line("delete c:a") + line("cas c:a 0 0 2 " + casOf(previous, "c:a")) + "v2\r\n"
                        + line("get c:a"));
        add(
                "cas tokens of a multi-key gets",
                previous -> store("set", "c:a", 0, 0, "A") + store("set", "c:b", 0, 0, "B") + line("gets c:a c:b"),
                previous -> line("cas c:b 0 0 2 " + casOf(previous, "c:b")) + "B2\r\n"
                        + line("cas c:a 0 0 2 " + casOfOther(previous, "c:b", "c:a")) + "A2\r\n"
                        + line("get c:a c:b"));
        add(
                "cas token survives touch and gats",
                previous -> store("set", "c:a", 0, 0, "v1") + line("touch c:a 100") + line("gats 100 c:a"),
                previous -> line("cas c:a 0 0 2 " + casOf(previous, "c:a")) + "v2\r\n" + line("get c:a"));
    }

    /**
     * The cas unique of {@code other}, used as a wrong token for {@code key}. One memcached gives two
     * items different uniques; behind the proxy they may live on two servers whose counters happen to
     * agree, so when they do, the next unique stands in (still wrong for {@code key} on both sides).
     */
    static String casOfOther(String reply, String other, String key) {
        String token = casOf(reply, other);
        return token.equals(casOf(reply, key)) ? Long.toString(Long.parseLong(token) + 1) : token;
    }

    /** The cas unique of {@code key} in a gets/gats reply. */
    static String casOf(String reply, String key) {
        for (String l : reply.split("\r\n")) {
            String[] t = l.split(" ");
            if (t.length == 5 && t[0].equals("VALUE") && t[1].equals(key)) {
                return t[4];
            }
        }
        throw new AssertionError("no cas for " + key + " in " + reply);
    }

    private void deletion() {
        add(
                "delete a hit and a miss",
                store("set", "d:a", 0, 0, "A") + line("delete d:a") + line("delete d:a") + line("get d:a"));
        add(
                "delete with the legacy zero hold time",
                store("set", "d:a", 0, 0, "A")
                        + line("delete d:a 0")
                        + store("set", "d:a", 0, 0, "A")
                        + line("delete d:a 0 noreply")
                        + line("get d:a"));
        add(
                "delete with noreply",
                store("set", "d:a", 0, 0, "A")
                        + line("delete d:a noreply")
                        + line("delete d:a noreply")
                        + line("get d:a"));
        add(
                "delete with a hold time or junk",
                store("set", "d:a", 0, 0, "A")
                        + line("delete d:a 1")
                        + line("delete d:a 0 0")
                        + line("delete d:a x noreply")
                        + line("delete d:a 00")
                        + line("delete d:a noreply 0")
                        + line("get d:a"));
    }

    private void arithmetic() {
        add(
                "incr and decr",
                store("set", "n:a", 0, 0, "10")
                        + line("incr n:a 5")
                        + line("decr n:a 3")
                        + line("incr n:a 0")
                        + line("get n:a"));
        // a counter shrunk in place keeps its length, padded with spaces; these cases read it back
        // while nothing else can hold the item (see burst for when that is not so)
        add(
                "decr stops at zero",
                store("set", "n:a", 0, 0, "10") + line("decr n:a 100") + line("decr n:a 1") + line("get n:a"));
        add(
                "incr wraps at 2^64",
                store("set", "n:a", 0, 0, "18446744073709551615")
                        + line("incr n:a 1")
                        + line("get n:a")
                        + line("incr n:a 18446744073709551615")
                        + line("incr n:a 18446744073709551615")
                        + line("get n:a"));
        // not read after the last incr: memcached rewrote "9  " in place ("10 ") in most runs and as a
        // new item ("10") in one, the same binary on the same bytes (its in-place rewrite needs the
        // item unreferenced elsewhere, which this test cannot control)
        add(
                "incr grows and decr shrinks the digits",
                store("set", "n:a", 0, 0, "99")
                        + line("incr n:a 1")
                        + line("get n:a")
                        + line("decr n:a 91")
                        + line("get n:a")
                        + line("incr n:a 1"));
        add(
                "incr on non-numbers",
                store("set", "n:a", 0, 0, "abc")
                        + line("incr n:a 1")
                        + store("set", "n:b", 0, 0, "-1")
                        + line("decr n:b 1")
                        + store("set", "n:c", 0, 0, "")
                        + line("incr n:c 1")
                        + store("set", "n:d", 0, 0, "123456789012345678901234567890")
                        + line("incr n:d 1")
                        + store("set", "n:e", 0, 0, "18446744073709551616")
                        + line("incr n:e 1")
                        + store("set", "n:f", 0, 0, "12ab")
                        + line("incr n:f 1"));
        add(
                "incr on numbers memcached still reads",
                store("set", "n:a", 0, 0, "00010")
                        + line("incr n:a 1")
                        + line("get n:a")
                        + store("set", "n:b", 0, 0, " 7")
                        + line("incr n:b 1")
                        + store("set", "n:c", 0, 0, "7 ")
                        + line("incr n:c 1")
                        + store("set", "n:d", 0, 0, "+7")
                        + line("incr n:d 1")
                        + line("get n:a n:b n:c n:d"));
        add("incr and decr of a missing key", line("incr n:none 1") + line("decr n:none 1"));
        add(
                "incr and decr with noreply",
                store("set", "n:a", 0, 0, "5")
                        + line("incr n:a 10 noreply")
                        + line("decr n:a 3 noreply")
                        + line("incr n:none 1 noreply")
                        + line("get n:a"));
        add(
                "non-numeric deltas",
                store("set", "n:a", 0, 0, "5")
                        + line("incr n:a x")
                        + line("incr n:a -1")
                        + line("decr n:a 1.5")
                        + line("incr n:a 0x10")
                        + line("incr n:a 18446744073709551616")
                        + line("decr n:a -18446744073709551616")
                        + line("incr n:a +2")
                        + line("incr n:a -0")
                        + line("incr n:a x noreply")
                        + line("decr n:a -1 noreply")
                        + line("get n:a"));
    }

    private void touch() {
        add(
                "touch a hit and a miss",
                store("set", "t:a", 0, 0, "A") + line("touch t:a 100") + line("touch t:none 100") + line("get t:a"));
        add(
                "touch with a negative exptime expires the item",
                store("set", "t:a", 0, 0, "A") + line("touch t:a -1") + line("get t:a"));
        add(
                "touch with noreply",
                store("set", "t:a", 0, 0, "A")
                        + line("touch t:a 100 noreply")
                        + line("touch t:none 100 noreply")
                        + line("touch t:a x noreply")
                        + line("get t:a"));
    }

    private void flushAll() {
        String two = store("set", "f:a", 0, 0, "A") + store("set", "f:b", 0, 0, "B");
        add("flush_all", two + line("flush_all") + line("get f:a f:b"));
        add("flush_all 0", two + line("flush_all 0") + line("get f:a f:b"));
        add("flush_all noreply", two + line("flush_all noreply") + line("get f:a f:b"));
        add("flush_all 0 noreply", two + line("flush_all 0 noreply") + line("get f:a f:b"));
        add(
                "flush_all with a delay keeps items until then",
                two + line("flush_all 100") + line("get f:a f:b") + line("flush_all 200 noreply") + line("get f:a"));
        add("flush_all with a negative delay flushes now", two + line("flush_all -5") + line("get f:a f:b"));
        add(
                "flush_all with bad delays",
                two
                        + line("flush_all x")
                        + line("flush_all x noreply")
                        + line("flush_all 99999999999999999999")
                        + line("flush_all 1.5")
                        + line("get f:a f:b"));
        add(
                "flush_all token counts",
                two
                        + line("flush_all 100 2")
                        + line("flush_all 100 2 3")
                        + line("flush_all noreply noreply")
                        + line("get f:a f:b"));
        add(
                "items stored after flush_all live",
                two + line("flush_all") + store("set", "f:a", 0, 0, "new") + line("get f:a f:b"));
    }

    private void verbosityAndQuit() {
        add("verbosity", line("verbosity 1") + line("verbosity 0 noreply") + line("verbosity 0"));
        add(
                "verbosity errors",
                line("verbosity")
                        + line("verbosity x")
                        + line("verbosity x noreply")
                        + line("verbosity -1")
                        + line("verbosity 1 2")
                        + line("verbosity 1 2 3")
                        + line("verbosity noreply")
                        + line("verbosity 4294967296")
                        + line("verbosity 99999999999999999999")
                        + line("verbosity 0"));
        add("quit", line("quit"));
        add("quit with arguments", line("quit now please"));
        add(
                "replies before quit are sent, commands after it ignored",
                store("set", "q:a", 0, 0, "A")
                        + line("get q:a")
                        + line("quit")
                        + line("get q:a")
                        + line("set q:b 0 0 1"));
        add("quit after noreply commands", line("set q:a 0 0 1 noreply") + "A\r\n" + line("quit"));
    }

    private void pipelines() {
        add("2000 mixed commands in one write", burst(new Random(2000), 2000, false));
        add("2000 mixed commands with noreply in one write", burst(new Random(2001), 2000, true));
    }

    /**
     * {@code count} commands over a few keys, every kind and some errors, as one byte stream.
     * Counters ("p:n*") live apart from the other keys and are only read through incr/decr:
     * memcached rewrites a counter in place, padded with spaces, only when nothing else holds
     * the item (items.c do_add_delta: refcount == 2), and an LRU bump it queued in the background
     * may hold it, so the stored form of a shrunk counter is not deterministic.
     */
    static String burst(Random random, int count, boolean noreply) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < count; i++) {
            String key = "p:" + random.nextInt(40);
            String other = "p:" + random.nextInt(40);
            String counter = "p:n" + random.nextInt(10);
            String nr = noreply && random.nextBoolean() ? " noreply" : "";
            switch (random.nextInt(20)) {
                case 0, 1 ->
                    b.append(line("set " + key + " " + random.nextInt(10) + " 0 2" + nr))
                            .append(letter(random))
                            .append(letter(random))
                            .append("\r\n");
                case 2 ->
                    b.append(line("add " + key + " 0 0 1" + nr))
                            .append(letter(random))
                            .append("\r\n");
                case 3 ->
                    b.append(line("replace " + key + " 0 0 1" + nr))
                            .append(letter(random))
                            .append("\r\n");
                case 4 ->
                    b.append(line("append " + key + " 0 0 1" + nr))
                            .append(letter(random))
                            .append("\r\n");
                case 5 ->
                    b.append(line("prepend " + key + " 0 0 1" + nr))
                            .append(letter(random))
                            .append("\r\n");
                case 6, 7 -> b.append(line("get " + key + " " + other + " " + key));
                case 8 -> b.append(line("gets " + key + " " + other));
                case 9 -> b.append(line("gat 100 " + key + " " + other));
                case 10 ->
                    b.append(line("set " + counter + " 0 0 3" + nr))
                            .append(100 + random.nextInt(900))
                            .append("\r\n");
                case 11 -> b.append(line("incr " + counter + " " + random.nextInt(1000) + nr));
                case 12 -> b.append(line("decr " + counter + " " + random.nextInt(1000) + nr));
                case 13 -> b.append(line("delete " + (random.nextBoolean() ? key : counter) + nr));
                case 14 -> b.append(line("touch " + (random.nextBoolean() ? key : counter) + " 100" + nr));
                case 15 ->
                    b.append(line("cas " + key + " 0 0 1 " + (random.nextBoolean() ? "0" : NEVER_A_CAS) + nr))
                            .append("c\r\n");
                case 16 ->
                    b.append(line(random.nextBoolean() ? "incr " + key + " 1" + nr : "incr " + counter + " x" + nr));
                case 17 -> b.append(line("set " + key + " 0 0 1" + nr)).append("bad\r\n");
                case 18 -> b.append(line("incr " + counter + " 18446744073709551615" + nr));
                default -> b.append(line("bogus " + key));
            }
        }
        return b.toString();
    }

    private static char letter(Random random) {
        return (char) ('a' + random.nextInt(26));
    }
}
