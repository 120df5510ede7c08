package io.jmagent;

import static io.jmagent.DifferentialCase.line;

import java.util.ArrayList;
import java.util.List;

/**
 * The differential cases of memcached's meta protocol (protocol.txt, "Meta Commands"): mg, ms,
 * md, ma and mn with their flags, quiet mode in pipelines closed by mn, base64 keys, opaque
 * tokens, and the errors the proxy must frame like memcached (no key, a key over 250 bytes, a bad
 * or negative data length, a bad data chunk, a value too large). Left out: flags whose answer
 * differs per server by nature (c: cas; l, h: access history) and me with a key (server internals).
 */
final class MetaScript {

    private final List<DifferentialCase> cases = new ArrayList<>();

    private MetaScript() {}

    static List<DifferentialCase> cases() {
        MetaScript s = new MetaScript();
        s.getsAndSets();
        s.quietPipelines();
        s.deletesAndArithmetic();
        s.errors();
        return s.cases;
    }

    private void add(String name, String request) {
        cases.add(DifferentialCase.of("meta: " + name, request));
    }

    private void getsAndSets() {
        add(
                "ms then mg with value, key, flags, ttl and opaque",
                "ms m:a 5 T100 F7\r\nhello\r\n" + line("mg m:a v k f t O42") + line("mg m:a s v"));
        add("mg of a missing key", line("mg m:none v k O1") + line("mg m:none"));
        add(
                "ms modes: add, replace, append, prepend",
                "ms m:b 1 ME\r\nx\r\nms m:b 1 ME\r\ny\r\nms m:c 1 MR\r\nz\r\nms m:b 1 MA\r\n>\r\n"
                        + "ms m:b 1 MP\r\n<\r\n" + line("mg m:b v") + line("mg m:c v"));
        add("ms invalidate and mg win/stale flags", "ms m:d 3\r\nold\r\n" + line("md m:d I T30") + line("mg m:d v"));
        add("base64 keys", "ms bTpi 2 b\r\nhi\r\n" + line("mg bTpi b v k") + line("mg m:b v") + line("mg bTpi v"));
        add("mg with N vivify then a second mg", line("mg m:viv N30 v") + line("mg m:viv v"));
        add("bare newlines", "ms m:nl 2\nab\n" + "mg m:nl v\n");
        add("a value of many sizes", "ms m:big 100000\r\n" + "v".repeat(100000) + "\r\n" + line("mg m:big s"));
    }

    private void quietPipelines() {
        StringBuilder sets = new StringBuilder();
        StringBuilder gets = new StringBuilder();
        for (int i = 0; i < 150; i++) {
            if (i % 3 != 0) {
                sets.append("ms m:q")
                        .append(i)
                        .append(" 2 q\r\nv")
                        .append(i % 10)
                        .append("\r\n");
            }
            gets.append("mg m:q").append(i).append(" v k q\r\n");
        }
        add("150 quiet sets and gets across servers closed by mn", sets + line("mn") + gets + line("mn"));
        add(
                "quiet deletes: HD silent, NF shown",
                "ms m:qd 1\r\nx\r\n" + line("md m:qd q") + line("md m:qd q") + line("mn"));
        add("quiet arithmetic", line("ma m:qa q N0 J5") + line("ma m:qa q v") + line("mn"));
        add("mn alone and with junk after it", line("mn") + line("mn extra tokens"));
        add(
                "flags read by their first character (issue 18)",
                "ms m:fc 1 q1\r\nx\r\n" + line("mg m:none qX v") + line("mn") + "ms Yms2 1 bX\r\nx\r\n"
                        + line("mg bk6 v") + line("mg m:fc kZ v9 qq") + line("md m:fc q1") + line("md m:fc qX")
                        + line("mn"));
        add(
                "an ms of too many tokens: its data is a command",
                "ms m:many 2" + " v".repeat(17) + "\r\nhi\r\n" + line("mg m:many v"));
    }

    private void deletesAndArithmetic() {
        add("md of present and missing keys", "ms m:del 1\r\nx\r\n" + line("md m:del") + line("md m:del k O9"));
        add(
                "ma incr, decr, autovivify, non-numeric",
                line("ma m:n N0 J10 v") + line("ma m:n v D5") + line("ma m:n MD D100 v") + "ms m:nn 1\r\nx\r\n"
                        + line("ma m:nn") + line("ma m:missing"));
    }

    private void errors() {
        add("no key", line("mg") + line("ms") + line("md") + line("ma"));
        add("me without its key: a bad command line, unlike the others", line("me") + line("me ") + "me\n");
        add(
                "a key over 250 bytes",
                line("mg " + "k".repeat(251) + " v") + "ms " + "k".repeat(251) + " 2\r\nab\r\n"
                        + line("md " + "k".repeat(251)));
        add("a key of 250 bytes", "ms " + "k".repeat(250) + " 2\r\nab\r\n" + line("mg " + "k".repeat(250) + " v"));
        add("a bad data length", "ms m:e abc\r\nxyz\r\n" + "ms m:e -1\r\nxyz\r\n" + line("ms m:e"));
        add("a bad data chunk", "ms m:e 2\r\nabc\r\n" + line("mg m:e v"));
        add(
                "a value too large",
                "ms m:e 1\r\nx\r\nms m:e 2000000\r\n" + "a".repeat(2_000_000) + "\r\n" + line("mg m:e v"));
        add("an invalid mode and unknown flags", "ms m:e 1 MZ\r\nx\r\n" + line("mg m:e v !"));
        refusedFlagsWithABadDataChunk();
        refusedFlagsWithAValueTooLarge();
    }

    /**
     * memcached judges an ms line's flags before it reads the data block (proto_text.c,
     * _meta_flag_preparse, then the mode and the opaque), and then swallows the block, as long as
     * announced, whatever it holds: its answer is the flag error, never "bad data chunk" (issue 18).
     */
    private void refusedFlagsWithABadDataChunk() {
        String[][] lines = {
            {"an invalid mode", "ms m:e 3 MX\r\nabcde\r\n"},
            {"an invalid mode, the block running into the next line", "ms m:e 3 MX\r\nab\r\n"},
            {"an unknown flag", "ms m:e 2 Z\r\nabc\r\n"},
            {"an unknown flag, quiet", "ms m:e 2 q Z\r\nabc\r\n"},
            {"a flag twice", "ms m:e 2 T1 T2\r\nabc\r\n"},
            {"a flag byte past ASCII", "ms m:e 2 \u00ff\r\nabc\r\n"},
            {"a bad TTL", "ms m:e 2 Tx\r\nabc\r\n"},
            {"a bad cas", "ms m:e 2 C1x\r\nabc\r\n"},
            {"bad client flags", "ms m:e 2 F\r\nabc\r\n"},
            {"bad client flags, then a bad TTL", "ms m:e 2 F Tx\r\nabc\r\n"},
            {"a bad TTL, then an unknown flag", "ms m:e 2 Tx Z\r\nabc\r\n"},
            {"an M token of one byte", "ms m:e 2 M\r\nabc\r\n"},
            {"an opaque too long", "ms m:e 2 O" + "x".repeat(40) + "\r\nabc\r\n"},
            {"an opaque too long and an invalid mode", "ms m:e 2 O" + "x".repeat(40) + " MX\r\nabc\r\n"},
            {"a key that is not base64", "ms m:e 2 b\r\nabc\r\n"},
            {"a key with too much base64 padding", "ms a=== 2 b\r\nabc\r\n"},
        };
        for (String[] l : lines) {
            add("an ms refused for " + l[0] + ", its data chunk bad", l[1] + line("mg m:e v") + line("mn"));
        }
        add("an ms with good flags and a bad data chunk, quiet", "ms m:e 2 q\r\nabc\r\n" + line("mn"));
    }

    /** The flag errors come before the size check too: a value too large is still swallowed (issue 18). */
    private void refusedFlagsWithAValueTooLarge() {
        String big = "a".repeat(1_048_577);
        add(
                "an ms refused for an unknown flag, its value too large",
                "ms m:e 1 T0\r\nx\r\nms m:e 1048577 Y\r\n" + big + "\r\n" + line("mg m:e v") + line("mn"));
        add(
                "an ms refused for an invalid mode, its value too large",
                "ms m:e 1048577 MX\r\n" + big + "\r\n" + line("mg m:e v") + line("mn"));
        add(
                "an ms refused for a bad TTL, its value too large and its block bad",
                "ms m:e 1048577 Tx\r\n" + big + "xx" + line("mg m:e v") + line("mn"));
    }
}
