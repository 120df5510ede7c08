package io.jmagent.it;

import static io.jmagent.testing.BinaryPacket.ADD;
import static io.jmagent.testing.BinaryPacket.ADDQ;
import static io.jmagent.testing.BinaryPacket.APPEND;
import static io.jmagent.testing.BinaryPacket.APPENDQ;
import static io.jmagent.testing.BinaryPacket.DECREMENT;
import static io.jmagent.testing.BinaryPacket.DECREMENTQ;
import static io.jmagent.testing.BinaryPacket.DELETE;
import static io.jmagent.testing.BinaryPacket.DELETEQ;
import static io.jmagent.testing.BinaryPacket.FLUSH;
import static io.jmagent.testing.BinaryPacket.FLUSHQ;
import static io.jmagent.testing.BinaryPacket.GAT;
import static io.jmagent.testing.BinaryPacket.GATK;
import static io.jmagent.testing.BinaryPacket.GATKQ;
import static io.jmagent.testing.BinaryPacket.GATQ;
import static io.jmagent.testing.BinaryPacket.GET;
import static io.jmagent.testing.BinaryPacket.GETK;
import static io.jmagent.testing.BinaryPacket.GETKQ;
import static io.jmagent.testing.BinaryPacket.GETQ;
import static io.jmagent.testing.BinaryPacket.INCREMENT;
import static io.jmagent.testing.BinaryPacket.INCREMENTQ;
import static io.jmagent.testing.BinaryPacket.NOOP;
import static io.jmagent.testing.BinaryPacket.NO_AUTO_CREATE;
import static io.jmagent.testing.BinaryPacket.PREPEND;
import static io.jmagent.testing.BinaryPacket.PREPENDQ;
import static io.jmagent.testing.BinaryPacket.QUIT;
import static io.jmagent.testing.BinaryPacket.QUITQ;
import static io.jmagent.testing.BinaryPacket.REPLACE;
import static io.jmagent.testing.BinaryPacket.REPLACEQ;
import static io.jmagent.testing.BinaryPacket.RGET;
import static io.jmagent.testing.BinaryPacket.SASL_AUTH;
import static io.jmagent.testing.BinaryPacket.SASL_LIST_MECHS;
import static io.jmagent.testing.BinaryPacket.SASL_STEP;
import static io.jmagent.testing.BinaryPacket.SET;
import static io.jmagent.testing.BinaryPacket.SETQ;
import static io.jmagent.testing.BinaryPacket.STAT;
import static io.jmagent.testing.BinaryPacket.TOUCH;
import static io.jmagent.testing.BinaryPacket.VERSION;
import static io.jmagent.testing.BinaryPacket.arithmetic;
import static io.jmagent.testing.BinaryPacket.concat;
import static io.jmagent.testing.BinaryPacket.expiration;
import static io.jmagent.testing.BinaryPacket.noop;
import static io.jmagent.testing.BinaryPacket.request;
import static io.jmagent.testing.BinaryPacket.store;
import static io.jmagent.testing.BinaryPacket.storeExtras;
import static io.jmagent.testing.BinaryPacket.touching;
import static java.nio.charset.StandardCharsets.ISO_8859_1;

import io.jmagent.testing.BinaryClient;
import io.jmagent.testing.BinaryResponse;
import java.util.ArrayList;
import java.util.List;

/**
 * The binary differential script: every opcode memcached 1.6 serves, in plain, quiet and
 * pipelined use, every status it answers, and malformed packets. Each request carries its own
 * opaque, so that every response also shows the opaque was echoed.
 */
final class BinaryScript {

    /** An absolute unix time long past (more than 30 days, so not relative): expires at once. */
    static final int PAST = 60 * 60 * 24 * 30 + 1;
    /** Keys of the pipelined multi-get; {@link #pipelineKeysSpanEveryServer} checks they cover the farm. */
    static final int PIPELINE_KEYS = 300;

    private int nextOpaque = 0x10000;

    private BinaryScript() {}

    static List<BinaryCase> cases() {
        return new BinaryScript().all();
    }

    static String pipelineKey(int i) {
        return "b:pipe:" + i;
    }

    private int o() {
        return nextOpaque++;
    }

    private byte[] get(int opcode, String key) {
        return request(opcode).key(key).opaque(o()).bytes();
    }

    private byte[] set(int opcode, String key, int flags, int exptime, String value) {
        return store(opcode, key, flags, exptime, value).opaque(o()).bytes();
    }

    private byte[] set(String key, String value) {
        return set(SET, key, 0, 0, value);
    }

    private byte[] concatOp(int opcode, String key, String value) {
        return concat(opcode, key, value).opaque(o()).bytes();
    }

    private byte[] delete(int opcode, String key) {
        return request(opcode).key(key).opaque(o()).bytes();
    }

    private byte[] arith(int opcode, String key, long delta, long initial, int exptime) {
        return arithmetic(opcode, key, delta, initial, exptime).opaque(o()).bytes();
    }

    private byte[] touch(int opcode, String key, int exptime) {
        return touching(opcode, key, exptime).opaque(o()).bytes();
    }

    private byte[] op(int opcode) {
        return request(opcode).opaque(o()).bytes();
    }

    private List<BinaryCase> all() {
        List<BinaryCase> c = new ArrayList<>();
        retrieval(c);
        storage(c);
        casCases(c);
        casComparedAndReturned(c);
        deletion(c);
        arithmeticCases(c);
        touchAndGat(c);
        flushCases(c);
        connectionCommands(c);
        pipelines(c);
        tooLarge(c);
        invalidArguments(c);
        malformed(c);
        unknownCommands(c);
        return c;
    }

    private void retrieval(List<BinaryCase> c) {
        c.add(BinaryCase.named("get, getk: hit with flags and cas, miss")
                .send(
                        set(SET, "b:get", 0xdeadbeef, 0, "hello"),
                        get(GET, "b:get"),
                        get(GET, "b:none"),
                        get(GETK, "b:get"),
                        get(GETK, "b:none"))
                .build());
        c.add(BinaryCase.named("getq, getkq: hits answered, misses silent")
                .send(
                        set("b:q1", "one"),
                        set("b:q2", "two"),
                        get(GETQ, "b:q1"),
                        get(GETQ, "b:none"),
                        get(GETKQ, "b:q2"),
                        get(GETKQ, "b:none"),
                        get(GETQ, "b:q2"))
                .build());
        c.add(BinaryCase.named("empty value, 32-bit flags, 500 kB value")
                .send(
                        set(SET, "b:empty", 0xffffffff, 0, ""),
                        get(GETK, "b:empty"),
                        set(SET, "b:big", 7, 0, "v".repeat(500_000)),
                        get(GET, "b:big"))
                .build());
        c.add(BinaryCase.named("keys with control bytes, high bytes and a trailing CR")
                .send(
                        set("a\tb", "tab"),
                        set("a\rb", "cr"),
                        set("\u0001\u00ff", "bytes"),
                        set("ab\r", "trailing"),
                        get(GETK, "a\tb"),
                        get(GETK, "a\rb"),
                        get(GETK, "\u0001\u00ff"),
                        get(GETK, "ab\r"))
                .build());
        // a space, LF or NUL cannot stand on a text line: such keys travel as meta commands, base64
        for (String key : new String[] {"a b", "x\ny", "n\u0000l", " lead", "\r\n"}) {
            String k = BinaryResponse.escape(key.getBytes(ISO_8859_1));
            c.add(BinaryCase.named("a key with a space, LF or NUL: every command (" + k + ")")
                    .send(
                            set(SET, key, 0xabc, 0, "v1"),
                            get(GET, key),
                            get(GETK, key),
                            get(GETQ, key),
                            set(ADD, key, 0, 0, "no"),
                            set(REPLACE, key, 5, 0, "v2"),
                            get(GETK, key),
                            concat(APPEND, key, "!").opaque(o()).bytes(),
                            concat(PREPENDQ, key, "<").opaque(o()).bytes(),
                            get(GETK, key),
                            touch(TOUCH, key, 1000),
                            touch(GATK, key, 1000),
                            touch(GATQ, key, 1000),
                            delete(DELETE, key),
                            get(GET, key),
                            delete(DELETEQ, key),
                            arith(INCREMENT, key, 1, 41, 0),
                            arith(INCREMENT, key, 2, 0, 0),
                            arith(DECREMENTQ, key, 1, 0, 0),
                            get(GETK, key),
                            arith(DECREMENT, key + "?", 1, 0, NO_AUTO_CREATE))
                    .send(request(GETK).key(key).opaque(0x601).bytes())
                    .then(previous -> {
                        long cas = previous.get(0).cas(); // a cas compared goes as ms/md with C
                        return BinaryClient.concat(
                                store(SET, key, 1, 0, "stale")
                                        .cas(cas + 1)
                                        .opaque(0x602)
                                        .bytes(),
                                store(SET, key, 1, 0, "fresh")
                                        .cas(cas)
                                        .opaque(0x603)
                                        .bytes(),
                                request(GETK).key(key).opaque(0x604).bytes());
                    })
                    .then(previous -> BinaryClient.concat(
                            request(DELETE)
                                    .key(key)
                                    .cas(previous.get(1).cas())
                                    .opaque(0x605)
                                    .bytes(),
                            request(GETK).key(key).opaque(0x606).bytes()))
                    .build());
        }
        c.add(BinaryCase.named("key of 250 bytes")
                .send(set("k".repeat(250), "max"), get(GETK, "k".repeat(250)))
                .build());
        c.add(BinaryCase.named("a nonzero vbucket is ignored")
                .send(
                        store(SET, "b:vb", 0, 0, "v").vbucket(7).opaque(o()).bytes(),
                        request(GET).key("b:vb").vbucket(9).opaque(o()).bytes())
                .build());
    }

    private void storage(List<BinaryCase> c) {
        c.add(BinaryCase.named("set, add, replace: stored, exists, not found")
                .send(
                        set("b:s", "1"),
                        set(ADD, "b:s", 0, 0, "2"),
                        set(ADD, "b:a", 3, 0, "3"),
                        set(REPLACE, "b:s", 4, 0, "4"),
                        set(REPLACE, "b:none", 0, 0, "5"),
                        get(GETK, "b:s"),
                        get(GETK, "b:a"),
                        get(GETK, "b:none"))
                .build());
        c.add(BinaryCase.named("setq, addq, replaceq: silent on success, errors answered")
                .send(
                        set(SETQ, "b:sq", 1, 0, "1"),
                        set(ADDQ, "b:sq", 0, 0, "2"),
                        set(ADDQ, "b:aq", 0, 0, "3"),
                        set(REPLACEQ, "b:none", 0, 0, "4"),
                        set(REPLACEQ, "b:sq", 5, 0, "5"),
                        get(GETK, "b:sq"),
                        get(GETK, "b:aq"))
                .build());
        c.add(BinaryCase.named("append, prepend: flags kept; not stored on a miss")
                .send(
                        set(SET, "b:c", 9, 0, "mid"),
                        concatOp(APPEND, "b:c", ">"),
                        concatOp(PREPEND, "b:c", "<"),
                        concatOp(APPENDQ, "b:c", "]"),
                        concatOp(PREPENDQ, "b:c", "["),
                        concatOp(APPEND, "b:none", "x"),
                        concatOp(PREPEND, "b:none", "x"),
                        concatOp(APPENDQ, "b:none", "x"),
                        concatOp(PREPENDQ, "b:none", "x"),
                        concatOp(APPEND, "b:c", ""),
                        get(GETK, "b:c"),
                        get(GETK, "b:none"))
                .build());
        c.add(BinaryCase.named("expiration past, and beyond 2038 (unsigned 32 bits)")
                .send(
                        set(SET, "b:past", 0, PAST, "gone"),
                        get(GET, "b:past"),
                        set(SET, "b:far", 0, 0xfffffff0, "far"),
                        get(GET, "b:far"),
                        set(SET, "b:2038", 0, 0x80000000, "2038"),
                        get(GET, "b:2038"),
                        set(SET, "b:month", 0, 60 * 60 * 24 * 30, "month"),
                        get(GET, "b:month"))
                .build());
    }

    private void casCases(List<BinaryCase> c) {
        // the cas comes from each side's own Get: cas uniques differ between servers
        c.add(BinaryCase.named("cas: set and replace with the item's cas, a stale one, and on a miss")
                .send(set("b:cas", "v1"), get(GET, "b:cas"))
                .then(previous -> {
                    long cas = previous.get(1).cas();
                    return BinaryClient.concat(
                            store(SET, "b:cas", 1, 0, "v2")
                                    .cas(cas)
                                    .opaque(0x101)
                                    .bytes(),
                            store(SET, "b:cas", 2, 0, "stale")
                                    .cas(cas)
                                    .opaque(0x102)
                                    .bytes(),
                            store(REPLACE, "b:cas", 3, 0, "stale")
                                    .cas(cas)
                                    .opaque(0x103)
                                    .bytes(),
                            store(SETQ, "b:cas", 4, 0, "stale")
                                    .cas(cas)
                                    .opaque(0x104)
                                    .bytes(),
                            store(SET, "b:cas-none", 0, 0, "x")
                                    .cas(cas)
                                    .opaque(0x105)
                                    .bytes(),
                            request(GETK).key("b:cas").opaque(0x106).bytes());
                })
                .then(previous -> {
                    long cas = previous.get(previous.size() - 1).cas();
                    return BinaryClient.concat(
                            store(REPLACEQ, "b:cas", 5, 0, "v3")
                                    .cas(cas)
                                    .opaque(0x201)
                                    .bytes(),
                            request(GETK).key("b:cas").opaque(0x202).bytes());
                })
                .build());
        c.add(BinaryCase.named("add with a cas is a cas: not found on a miss, exists on a mismatch")
                .send(
                        set("b:addcas", "v"),
                        store(ADD, "b:addcas-none", 0, 0, "x")
                                .cas(12345)
                                .opaque(o())
                                .bytes(),
                        store(ADD, "b:addcas", 0, 0, "x").cas(12345).opaque(o()).bytes(),
                        store(ADDQ, "b:addcas", 0, 0, "x")
                                .cas(12345)
                                .opaque(o())
                                .bytes(),
                        get(GETK, "b:addcas"),
                        get(GETK, "b:addcas-none"))
                .build());
    }

    /**
     * A cas on delete, incr, decr, append and prepend is compared, and storage and arithmetic
     * responses carry the item's new cas. Each side's cas comes from its own responses, so a wrong
     * cas is the right one plus one; opaques in computed steps are fixed, the same on both sides.
     */
    private void casComparedAndReturned(List<BinaryCase> c) {
        c.add(BinaryCase.named("delete with the item's cas, a stale one, and on a miss")
                .send(set("b:dc", "v"), set("b:dcq", "w"))
                .then(previous -> {
                    long cas = previous.get(0).cas();
                    long casQ = previous.get(1).cas();
                    return BinaryClient.concat(
                            request(DELETE)
                                    .key("b:dc")
                                    .cas(cas + 1)
                                    .opaque(0x301)
                                    .bytes(),
                            request(DELETEQ)
                                    .key("b:dc")
                                    .cas(cas + 1)
                                    .opaque(0x302)
                                    .bytes(),
                            request(DELETE)
                                    .key("b:dc-none")
                                    .cas(cas)
                                    .opaque(0x303)
                                    .bytes(),
                            request(DELETEQ)
                                    .key("b:dc-none")
                                    .cas(cas)
                                    .opaque(0x304)
                                    .bytes(),
                            request(GETK).key("b:dc").opaque(0x305).bytes(),
                            request(DELETE).key("b:dc").cas(cas).opaque(0x306).bytes(),
                            request(DELETEQ)
                                    .key("b:dcq")
                                    .cas(casQ)
                                    .opaque(0x307)
                                    .bytes(),
                            request(GETK).key("b:dc").opaque(0x308).bytes(),
                            request(GETK).key("b:dcq").opaque(0x309).bytes());
                })
                .build());
        c.add(BinaryCase.named("incr, decr with the counter's cas, a stale one; a missing counter is created "
                        + "whatever the cas, unless the expiration is 0xffffffff")
                .send(set("b:nc", "10"))
                .then(previous -> {
                    long cas = previous.get(0).cas();
                    return BinaryClient.concat(
                            arithmetic(INCREMENT, "b:nc", 1, 0, 0)
                                    .cas(cas + 1)
                                    .opaque(0x311)
                                    .bytes(),
                            arithmetic(DECREMENTQ, "b:nc", 1, 0, 0)
                                    .cas(cas + 1)
                                    .opaque(0x312)
                                    .bytes(),
                            arithmetic(INCREMENT, "b:nc", 5, 0, 0)
                                    .cas(cas)
                                    .opaque(0x313)
                                    .bytes(),
                            request(GETK).key("b:nc").opaque(0x314).bytes());
                })
                .then(previous -> {
                    long cas = previous.get(2).cas();
                    // b:nc-new may live on another server of the farm, whose cas counter could reach b:nc's
                    // cas by chance: a cas no server of a fresh test farm has handed out is surely stale
                    long stale = cas + 1_000_000;
                    return BinaryClient.concat(
                            arithmetic(DECREMENT, "b:nc", 3, 0, 0)
                                    .cas(cas)
                                    .opaque(0x321)
                                    .bytes(),
                            arithmetic(INCREMENTQ, "b:nc", 3, 0, 0)
                                    .cas(cas)
                                    .opaque(0x322)
                                    .bytes(),
                            arithmetic(INCREMENT, "b:nc-new", 1, 5, 0)
                                    .cas(stale)
                                    .opaque(0x323)
                                    .bytes(),
                            arithmetic(INCREMENT, "b:nc-new", 1, 5, 0)
                                    .cas(stale)
                                    .opaque(0x324)
                                    .bytes(),
                            arithmetic(DECREMENT, "b:nc-none", 1, 5, NO_AUTO_CREATE)
                                    .cas(cas)
                                    .opaque(0x325)
                                    .bytes(),
                            arithmetic(DECREMENTQ, "b:nc-none", 1, 5, NO_AUTO_CREATE)
                                    .cas(cas)
                                    .opaque(0x326)
                                    .bytes(),
                            request(GETK).key("b:nc").opaque(0x327).bytes(),
                            request(GETK).key("b:nc-new").opaque(0x328).bytes(),
                            request(GETK).key("b:nc-none").opaque(0x329).bytes());
                })
                .build());
        c.add(BinaryCase.named("append, prepend with the item's cas, a stale one, and on a miss")
                .send(set(SET, "b:ac", 7, 0, "mid"))
                .then(previous -> {
                    long cas = previous.get(0).cas();
                    return BinaryClient.concat(
                            concat(APPEND, "b:ac", "!")
                                    .cas(cas + 1)
                                    .opaque(0x331)
                                    .bytes(),
                            concat(PREPENDQ, "b:ac", "!")
                                    .cas(cas + 1)
                                    .opaque(0x332)
                                    .bytes(),
                            concat(APPEND, "b:ac", ">").cas(cas).opaque(0x333).bytes(),
                            concat(APPEND, "b:ac-none", "x")
                                    .cas(cas)
                                    .opaque(0x334)
                                    .bytes(),
                            concat(PREPENDQ, "b:ac-none", "x")
                                    .cas(cas)
                                    .opaque(0x335)
                                    .bytes(),
                            request(GETK).key("b:ac").opaque(0x336).bytes());
                })
                .then(previous -> {
                    long cas = previous.get(2).cas();
                    return BinaryClient.concat(
                            concat(PREPEND, "b:ac", "<").cas(cas).opaque(0x341).bytes(),
                            concat(APPENDQ, "b:ac", "stale")
                                    .cas(cas)
                                    .opaque(0x342)
                                    .bytes(),
                            request(GETK).key("b:ac").opaque(0x343).bytes());
                })
                .then(previous -> BinaryClient.concat(
                        concat(APPENDQ, "b:ac", "+")
                                .cas(previous.get(2).cas())
                                .opaque(0x351)
                                .bytes(),
                        request(GETK).key("b:ac").opaque(0x352).bytes()))
                .build());
        c.add(BinaryCase.named("the cas returned by set, add, replace, append, prepend, incr is the item's")
                .send(
                        set("b:r1", "a"),
                        set(ADD, "b:r2", 0, 0, "b"),
                        set("b:r3", "c"),
                        set(REPLACE, "b:r3", 3, 0, "C"),
                        set("b:r4", "d"),
                        concatOp(APPEND, "b:r4", "D"),
                        set("b:r5", "1"),
                        arith(INCREMENT, "b:r5", 1, 0, 0),
                        arith(DECREMENT, "b:r6", 1, 9, 0),
                        concatOp(PREPEND, "b:r4", "_"))
                .then(previous -> BinaryClient.concat(
                        store(SET, "b:r1", 1, 0, "cas1")
                                .cas(previous.get(0).cas())
                                .opaque(0x361)
                                .bytes(),
                        store(SET, "b:r2", 2, 0, "cas2")
                                .cas(previous.get(1).cas())
                                .opaque(0x362)
                                .bytes(),
                        store(REPLACE, "b:r3", 3, 0, "cas3")
                                .cas(previous.get(3).cas())
                                .opaque(0x363)
                                .bytes(),
                        store(SET, "b:r4", 4, 0, "stale")
                                .cas(previous.get(5).cas())
                                .opaque(0x364)
                                .bytes(),
                        store(ADD, "b:r4", 4, 0, "cas4")
                                .cas(previous.get(9).cas())
                                .opaque(0x365)
                                .bytes(),
                        store(SETQ, "b:r5", 5, 0, "cas5")
                                .cas(previous.get(7).cas())
                                .opaque(0x366)
                                .bytes(),
                        store(SET, "b:r6", 6, 0, "cas6")
                                .cas(previous.get(8).cas())
                                .opaque(0x367)
                                .bytes(),
                        request(GETK).key("b:r1").opaque(0x368).bytes(),
                        request(GETK).key("b:r2").opaque(0x369).bytes(),
                        request(GETK).key("b:r3").opaque(0x36a).bytes(),
                        request(GETK).key("b:r4").opaque(0x36b).bytes(),
                        request(GETK).key("b:r5").opaque(0x36c).bytes(),
                        request(GETK).key("b:r6").opaque(0x36d).bytes()))
                .then(previous -> BinaryClient.concat(
                        store(SETQ, "b:r1", 0, 0, "again")
                                .cas(previous.get(0).cas())
                                .opaque(0x371)
                                .bytes(),
                        // one less than b:r2's own cas: stale on any server (another key's cas
                        // could be b:r2's too, each server of the farm counting on its own)
                        store(SET, "b:r2", 0, 0, "stale")
                                .cas(previous.get(1).cas() - 1)
                                .opaque(0x372)
                                .bytes(),
                        request(GETK).key("b:r1").opaque(0x373).bytes()))
                .build());
    }

    private void deletion(List<BinaryCase> c) {
        c.add(BinaryCase.named("delete, deleteq: hit, miss")
                .send(
                        set("b:d1", "1"),
                        set("b:d2", "2"),
                        delete(DELETE, "b:d1"),
                        delete(DELETE, "b:d1"),
                        delete(DELETEQ, "b:d2"),
                        delete(DELETEQ, "b:d2"),
                        get(GET, "b:d1"),
                        get(GET, "b:d2"))
                .build());
    }

    private void arithmeticCases(List<BinaryCase> c) {
        c.add(BinaryCase.named("increment, decrement: counts, floors at 0, wraps at 2^64")
                .send(
                        set("b:n", "10"),
                        arith(INCREMENT, "b:n", 5, 0, 0),
                        arith(DECREMENT, "b:n", 20, 0, 0),
                        arith(DECREMENT, "b:n", 1, 0, 0),
                        arith(INCREMENT, "b:n", -1L, 0, 0),
                        arith(INCREMENT, "b:n", 2, 0, 0),
                        arith(INCREMENT, "b:n", Long.MIN_VALUE, 0, 0),
                        get(GETK, "b:n"))
                .build());
        c.add(BinaryCase.named("increment, decrement of a missing counter: initial value, or not found")
                .send(
                        arith(INCREMENT, "b:i1", 1, 7, 0),
                        get(GETK, "b:i1"),
                        arith(INCREMENT, "b:i1", 1, 7, 0),
                        arith(DECREMENT, "b:i2", 1, 40, 0),
                        arith(INCREMENT, "b:i3", 1, -1L, 0),
                        arith(INCREMENT, "b:i4", 1, 7, NO_AUTO_CREATE),
                        arith(DECREMENT, "b:i4", 1, 7, NO_AUTO_CREATE),
                        get(GET, "b:i4"),
                        arith(INCREMENT, "b:i5", 1, 3, PAST),
                        get(GET, "b:i5"),
                        arith(INCREMENT, "b:i6", 1, 3, 0xfffffff0),
                        get(GET, "b:i6"))
                .build());
        c.add(BinaryCase.named("a counter created by an increment is seen by what follows it")
                .send(
                        arith(INCREMENTQ, "b:seen", 1, 5, 0),
                        get(GETQ, "b:seen"),
                        arith(INCREMENT, "b:seen", 1, 5, 0),
                        arith(DECREMENT, "b:seen2", 1, 8, 0),
                        delete(DELETE, "b:seen2"),
                        get(GET, "b:seen2"),
                        arith(INCREMENT, "b:seen3", 1, 8, 0),
                        op(FLUSHQ),
                        get(GET, "b:seen3"),
                        get(GET, "b:seen"))
                .build());
        c.add(BinaryCase.named("incrementq, decrementq: silent on success, errors answered")
                .send(
                        set("b:nq", "5"),
                        arith(INCREMENTQ, "b:nq", 1, 0, 0),
                        arith(DECREMENTQ, "b:nq", 2, 0, 0),
                        arith(INCREMENTQ, "b:nq-new", 1, 9, 0),
                        arith(DECREMENTQ, "b:nq-none", 1, 0, NO_AUTO_CREATE),
                        set("b:nq-text", "abc"),
                        arith(INCREMENTQ, "b:nq-text", 1, 0, 0),
                        get(GETK, "b:nq"),
                        get(GETK, "b:nq-new"))
                .build());
        c.add(BinaryCase.named("increment of a non-numeric value")
                .send(
                        set("b:text", "abc"),
                        arith(INCREMENT, "b:text", 1, 0, 0),
                        set("b:empty", ""),
                        arith(DECREMENT, "b:empty", 1, 0, 0),
                        set("b:huge", "18446744073709551616"),
                        arith(INCREMENT, "b:huge", 1, 0, 0),
                        set("b:max", "18446744073709551615"),
                        arith(INCREMENT, "b:max", 1, 0, 0))
                .build());
    }

    private void touchAndGat(List<BinaryCase> c) {
        c.add(BinaryCase.named("touch: flags, no value; miss")
                .send(
                        set(SET, "b:t", 0x1234, 0, "val"),
                        touch(TOUCH, "b:t", 1000),
                        touch(TOUCH, "b:none", 1000),
                        get(GET, "b:t"),
                        touch(TOUCH, "b:t", PAST),
                        get(GET, "b:t"))
                .build());
        c.add(BinaryCase.named("gat, gatk, gatq, gatkq: hit, miss, and the new expiration applies")
                .send(
                        set(SET, "b:g", 5, 0, "gv"),
                        touch(GAT, "b:g", 100),
                        touch(GATK, "b:g", 100),
                        touch(GATQ, "b:g", 100),
                        touch(GATKQ, "b:g", 100),
                        touch(GAT, "b:none", 100),
                        touch(GATK, "b:none", 100),
                        touch(GATQ, "b:none", 100),
                        touch(GATKQ, "b:none", 100),
                        touch(GAT, "b:g", PAST),
                        get(GET, "b:g"),
                        set("b:g2", "far"),
                        touch(GATK, "b:g2", 0xfffffff0),
                        get(GETK, "b:g2"))
                .build());
    }

    private void flushCases(List<BinaryCase> c) {
        c.add(BinaryCase.named("flush, flushq, with and without an expiration")
                .send(
                        set("b:f1", "1"),
                        op(FLUSH),
                        get(GET, "b:f1"),
                        set("b:f2", "2"),
                        op(FLUSHQ),
                        get(GET, "b:f2"),
                        set("b:f3", "3"),
                        request(FLUSH).extras(expiration(0)).opaque(o()).bytes(),
                        get(GET, "b:f3"),
                        set("b:f4", "4"),
                        request(FLUSH).extras(expiration(100)).opaque(o()).bytes(),
                        get(GET, "b:f4"),
                        request(FLUSHQ).extras(expiration(200)).opaque(o()).bytes(),
                        get(GET, "b:f4"))
                .build());
    }

    private void connectionCommands(List<BinaryCase> c) {
        c.add(BinaryCase.named("noop and version; opaque echoed")
                .send(
                        request(NOOP).opaque(0xcafebabe).bytes(),
                        request(VERSION).opaque(0x7fffffff).bytes(),
                        request(NOOP).opaque(-1).bytes())
                .build());
        c.add(BinaryCase.named("stat: the closing empty packet")
                .send(request(STAT).opaque(0x5747).bytes())
                .build());
        c.add(BinaryCase.named("quit answers and closes; what follows is not served")
                .send(set("b:quit", "before"))
                .sendExpectingClose(request(QUIT).opaque(0x777).bytes(), set("b:quit", "after"))
                .send(get(GET, "b:quit"))
                .build());
        c.add(BinaryCase.named("quitq closes silently after what came before")
                .sendExpectingClose(set(SETQ, "b:quitq", 0, 0, "before"), op(QUITQ), set("b:quitq", "after"))
                .send(get(GET, "b:quitq"))
                .build());
    }

    private void pipelines(List<BinaryCase> c) {
        List<byte[]> sets = new ArrayList<>();
        List<byte[]> gets = new ArrayList<>();
        for (int i = 0; i < PIPELINE_KEYS; i++) {
            if (i % 3 != 1) {
                sets.add(set(SETQ, pipelineKey(i), i, 0, "value-" + i));
            }
            gets.add(get(GETKQ, pipelineKey(i)));
        }
        c.add(BinaryCase.named("300 getkq over every server, with misses, ended by noop")
                .send(sets.toArray(new byte[0][]))
                .send(gets.toArray(new byte[0][]))
                .build());
        List<byte[]> mixed = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            String key = pipelineKey(i);
            mixed.add(
                    switch (i % 8) {
                        case 0 -> set(SETQ, key, 1, 0, "x" + i);
                        case 1 -> get(GETQ, key);
                        case 2 -> set(ADDQ, key, 0, 0, "y");
                        case 3 -> arith(INCREMENTQ, key + ":n", 1, i, 0);
                        case 4 -> delete(DELETEQ, key + ":none");
                        case 5 -> get(GETKQ, key + ":n");
                        case 6 -> noop(o());
                        default -> get(GETK, key);
                    });
        }
        c.add(BinaryCase.named("quiet and loud commands mixed, noops inside: replies in order")
                .send(mixed.toArray(new byte[0][]))
                .build());
    }

    private void tooLarge(List<BinaryCase> c) {
        String big = "x".repeat(2 * 1024 * 1024);
        c.add(BinaryCase.named("2 MB value: too large, swallowed; set drops the old value, add keeps it")
                .send(
                        set("b:big", "old"),
                        set("b:keep", "kept"),
                        set(SET, "b:big", 0, 0, big),
                        get(GET, "b:big"),
                        set(ADD, "b:keep", 0, 0, big),
                        set(SETQ, "b:keep2", 0, 0, big),
                        concatOp(APPEND, "b:keep", big),
                        get(GET, "b:keep"))
                .send(set("b:after", "fine"), get(GET, "b:after"))
                .build());
    }

    private void invalidArguments(List<BinaryCase> c) {
        invalid(
                c,
                "get with extras",
                request(GET).key("k").extras(new byte[4]).opaque(o()).bytes());
        invalid(c, "get without a key", op(GET));
        invalid(
                c,
                "getq with a value",
                request(GETQ).key("k").value("v").opaque(o()).bytes());
        invalid(
                c,
                "set with 4 extras",
                request(SET).key("k").extras(new byte[4]).value("v").opaque(o()).bytes());
        invalid(
                c,
                "set without extras",
                request(SET).key("k").value("v").opaque(o()).bytes());
        invalid(
                c,
                "setq without a key",
                request(SETQ).extras(storeExtras(0, 0)).value("v").opaque(o()).bytes());
        invalid(
                c,
                "add with 12 extras",
                request(ADD).key("k").extras(new byte[12]).opaque(o()).bytes());
        invalid(
                c,
                "delete with extras",
                request(DELETE).key("k").extras(new byte[4]).opaque(o()).bytes());
        invalid(
                c,
                "delete with a value",
                request(DELETE).key("k").value("v").opaque(o()).bytes());
        invalid(
                c,
                "increment with 8 extras",
                request(INCREMENT).key("k").extras(new byte[8]).opaque(o()).bytes());
        invalid(
                c,
                "decrementq with a value",
                arithmetic(DECREMENTQ, "k", 1, 0, 0).value("v").opaque(o()).bytes());
        invalid(
                c,
                "append with extras",
                request(APPEND)
                        .key("k")
                        .extras(new byte[8])
                        .value("v")
                        .opaque(o())
                        .bytes());
        invalid(
                c,
                "prepend without a key",
                request(PREPEND).value("v").opaque(o()).bytes());
        invalid(c, "touch without extras", request(TOUCH).key("k").opaque(o()).bytes());
        invalid(
                c,
                "gat without a key",
                request(GAT).extras(expiration(0)).opaque(o()).bytes());
        invalid(
                c,
                "flush with 8 extras",
                request(FLUSH).extras(new byte[8]).opaque(o()).bytes());
        invalid(c, "flush with a key", request(FLUSH).key("k").opaque(o()).bytes());
        invalid(c, "noop with a value", request(NOOP).value("v").opaque(o()).bytes());
        invalid(c, "version with a key", request(VERSION).key("k").opaque(o()).bytes());
        invalid(
                c,
                "quit with extras",
                request(QUIT).extras(new byte[4]).opaque(o()).bytes());
        invalid(
                c,
                "stat with extras",
                request(STAT).extras(new byte[4]).opaque(o()).bytes());
        invalid(c, "get with a 251-byte key", get(GET, "k".repeat(251)));
        invalid(c, "set with a 251-byte key", set("k".repeat(251), "v"));
        invalid(
                c,
                "an unknown opcode with a 251-byte key",
                request(0x40).key("k".repeat(251)).opaque(o()).bytes());
        // memcached without -S still checks the SASL commands' shape (proto_bin.c): list mechs takes
        // no body at all, auth and step take a key and no extras (issue 18)
        invalid(
                c,
                "sasl list mechs with a key",
                request(SASL_LIST_MECHS).key("PLAIN").opaque(o()).bytes());
        invalid(
                c,
                "sasl list mechs with a value",
                request(SASL_LIST_MECHS).value("v").opaque(o()).bytes());
        invalid(
                c,
                "sasl list mechs with extras",
                request(SASL_LIST_MECHS).extras(new byte[4]).opaque(o()).bytes());
        for (int opcode : new int[] {SASL_AUTH, SASL_STEP}) {
            String name = opcode == SASL_AUTH ? "sasl auth" : "sasl step";
            invalid(c, name + " without a body", op(opcode));
            invalid(
                    c,
                    name + " without a key",
                    request(opcode).value("\u0000user\u0000pass").opaque(o()).bytes());
            invalid(
                    c,
                    name + " with extras",
                    request(opcode).key("PLAIN").extras(new byte[4]).opaque(o()).bytes());
        }
    }

    /** Answered "Invalid arguments" and the connection closed, after what came before. */
    private void invalid(List<BinaryCase> c, String name, byte[] request) {
        c.add(BinaryCase.named("invalid arguments: " + name)
                .sendExpectingClose(set("b:before", "v"), op(NOOP), request, get(GET, "b:before"))
                .send(get(GET, "b:before"))
                .build());
    }

    private void malformed(List<BinaryCase> c) {
        c.add(BinaryCase.named("body length shorter than the key: unknown command, closed")
                .sendExpectingClose(
                        op(NOOP),
                        request(GET).key("abc").bodyLength(1).opaque(o()).bytes())
                .build());
        c.add(BinaryCase.named("body length shorter than extras and key: unknown command, closed")
                .sendExpectingClose(request(SET)
                        .key("abc")
                        .extras(storeExtras(0, 0))
                        .value("v")
                        .bodyLength(10)
                        .opaque(o())
                        .bytes())
                .build());
        c.add(BinaryCase.named("body length longer than a get's key: invalid, closed")
                .sendExpectingClose(
                        request(GET).key("abc").bodyLength(8).opaque(o()).bytes(), new byte[5])
                .build());
        c.add(BinaryCase.named("body length 0x7fffffff on a get: invalid, closed")
                .sendExpectingClose(request(GET)
                        .key("abc")
                        .bodyLength(0x7fffffff)
                        .opaque(o())
                        .bytes())
                .build());
        c.add(BinaryCase.named("body length 0xffffffff on a delete: invalid, closed")
                .sendExpectingClose(request(DELETE)
                        .key("abc")
                        .bodyLength(0xffffffffL)
                        .opaque(o())
                        .bytes())
                .build());
        // memcached drops the answers it has not written yet when it meets a bad magic (those of
        // the same read), where jmagent writes them: so what comes before is a step of its own
        c.add(BinaryCase.named("response magic mid-stream: closed, nothing after it served")
                .send(set("b:m", "v"), get(GET, "b:m"))
                .sendExpectingClose(request(NOOP).magic(0x81).opaque(o()).bytes(), set("b:m", "after"))
                .send(get(GET, "b:m"))
                .build());
        c.add(BinaryCase.named("zero magic mid-stream: closed")
                .sendExpectingClose(
                        op(NOOP), request(GET).key("b:m").magic(0).opaque(o()).bytes())
                .build());
        c.add(BinaryCase.named("text command after binary ones: closed")
                .sendExpectingClose(op(NOOP), "get b:m\r\nversion\r\n-----------".getBytes())
                .build());
    }

    private void unknownCommands(List<BinaryCase> c) {
        c.add(BinaryCase.named("unknown opcodes are answered, their body swallowed, the connection kept")
                .send(
                        op(0x40),
                        request(0x41).value("some body").opaque(o()).bytes(),
                        op(0xff),
                        op(SASL_LIST_MECHS),
                        request(SASL_AUTH)
                                .key("PLAIN")
                                .value("\u0000user\u0000pass")
                                .opaque(o())
                                .bytes(),
                        op(RGET),
                        op(0x25),
                        set("b:u", "still served"),
                        get(GET, "b:u"))
                .build());
        c.add(BinaryCase.named("sasl commands of the right shape are unknown to a memcached without SASL, kept open")
                .send(
                        op(SASL_LIST_MECHS),
                        request(SASL_AUTH).key("PLAIN").opaque(o()).bytes(),
                        request(SASL_STEP)
                                .key("PLAIN")
                                .value("\u0000user\u0000pass")
                                .opaque(o())
                                .bytes(),
                        request(SASL_AUTH)
                                .key("PLAIN")
                                .value("x".repeat(2 * 1024 * 1024))
                                .opaque(o())
                                .bytes(),
                        set("b:u", "still served"),
                        get(GET, "b:u"))
                .build());
    }
}
