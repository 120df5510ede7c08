package io.jmagent.metrics;

import io.jmagent.protocol.ArithmeticRequest;
import io.jmagent.protocol.DeleteRequest;
import io.jmagent.protocol.FlushAllRequest;
import io.jmagent.protocol.MetaRequest;
import io.jmagent.protocol.Request;
import io.jmagent.protocol.StoreRequest;
import io.jmagent.protocol.TouchRequest;
import io.netty.buffer.ByteBuf;
import java.util.concurrent.atomic.LongAdder;

/**
 * memcached's command counters (protocol.txt, "General-purpose statistics"), counted the way
 * memcached 1.6 counts them, from the text reply each client command got, whatever protocol the
 * client spoke:
 *
 * <ul>
 *   <li>cmd_get counts keys, not commands: one per key of get/gets, with get_hits or get_misses;
 *       gat/gats keys count in cmd_touch with touch_hits or touch_misses instead.</li>
 *   <li>cmd_set counts every storage command (set, add, replace, append, prepend, cas) that got
 *       a reply, whatever it was; a value over the size limit is not counted, as in memcached.
 *       cas: STORED is a cas_hit, EXISTS a cas_badval, NOT_FOUND a cas_miss.</li>
 *   <li>delete: DELETED / NOT_FOUND; incr, decr: a number / NOT_FOUND (a non-numeric value is
 *       neither); touch: cmd_touch, TOUCHED / NOT_FOUND; flush_all: cmd_flush.</li>
 *   <li>meta commands by their {@link MetaRequest.Counter} and reply code: mg HD/VA a hit, EN (or a
 *       quiet mg's silence) a miss; ms any answer; md HD a hit, NF/EX a miss; ma HD/VA a hit, NF a
 *       miss; a quiet write's silence is its HD; an error line (CLIENT_ERROR, ERROR) counts in
 *       nothing.</li>
 * </ul>
 *
 * A key or command that no server could answer (a SERVER_ERROR from the proxy) counts in cmd_*
 * but in no hit or miss. Shared by every event loop (lock-free adders).
 */
public final class CommandStats {

    private final LongAdder cmdGet = new LongAdder();
    private final LongAdder cmdSet = new LongAdder();
    private final LongAdder cmdFlush = new LongAdder();
    private final LongAdder cmdTouch = new LongAdder();
    private final LongAdder getHits = new LongAdder();
    private final LongAdder getMisses = new LongAdder();
    private final LongAdder deleteHits = new LongAdder();
    private final LongAdder deleteMisses = new LongAdder();
    private final LongAdder incrHits = new LongAdder();
    private final LongAdder incrMisses = new LongAdder();
    private final LongAdder decrHits = new LongAdder();
    private final LongAdder decrMisses = new LongAdder();
    private final LongAdder casHits = new LongAdder();
    private final LongAdder casMisses = new LongAdder();
    private final LongAdder casBadval = new LongAdder();
    private final LongAdder touchHits = new LongAdder();
    private final LongAdder touchMisses = new LongAdder();

    /** A get/gets ({@code touching} false) or gat/gats over {@code keys} keys, {@code hits} of them found. */
    public void retrieved(boolean touching, int keys, int hits) {
        if (touching) {
            cmdTouch.add(keys);
            touchHits.add(hits);
            touchMisses.add(keys - hits);
        } else {
            cmdGet.add(keys);
            getHits.add(hits);
            getMisses.add(keys - hits);
        }
    }

    /** A retrieval whose keys no server could answer: counted, neither hit nor miss. */
    public void retrievalFailed(boolean touching, int keys) {
        (touching ? cmdTouch : cmdGet).add(keys);
    }

    /** Counts a one-key command or flush_all by its text reply {@code line} (not consumed). */
    public void replied(Request request, ByteBuf line) {
        if (request instanceof StoreRequest s) {
            cmdSet.increment();
            if (s.kind() == StoreRequest.Kind.CAS) {
                count(line, casHits, casMisses, casBadval, Reply.STORED, Reply.EXISTS);
            }
        } else if (request instanceof DeleteRequest) {
            count(line, deleteHits, deleteMisses, null, Reply.DELETED, null);
        } else if (request instanceof ArithmeticRequest a) {
            count(
                    line,
                    a.increment() ? incrHits : decrHits,
                    a.increment() ? incrMisses : decrMisses,
                    null,
                    Reply.NUMBER,
                    null);
        } else if (request instanceof TouchRequest) {
            cmdTouch.increment();
            count(line, touchHits, touchMisses, null, Reply.TOUCHED, null);
        } else if (request instanceof FlushAllRequest) {
            cmdFlush.increment();
        } else if (request instanceof MetaRequest m) {
            metaReplied(m.counter(), MetaCode.of(line, m.quiet(), m.kind() == MetaRequest.Kind.GET));
        }
    }

    private void metaReplied(MetaRequest.Counter counter, MetaCode code) {
        if (code == MetaCode.CLIENT_ERROR) {
            return;
        }
        boolean answered = code != MetaCode.SERVER_ERROR;
        switch (counter) {
            case GET, GET_TOUCHING -> {
                boolean touched = counter == MetaRequest.Counter.GET_TOUCHING && code == MetaCode.HD;
                (touched ? cmdTouch : cmdGet).increment(); // a miss that would have touched is a get miss
                if (answered) {
                    (code == MetaCode.HD ? touched ? touchHits : getHits : getMisses).increment();
                }
            }
            case SET, SET_CAS -> {
                cmdSet.increment();
                if (counter == MetaRequest.Counter.SET_CAS) {
                    metaCount(code, casHits, casMisses, casBadval);
                }
            }
            case DELETE -> metaCount(code, deleteHits, deleteMisses, deleteMisses);
            case DELETE_INVALIDATING -> metaCount(code, null, deleteMisses, deleteMisses);
            case INCR -> metaCount(code, incrHits, incrMisses, null);
            case DECR -> metaCount(code, decrHits, decrMisses, null);
            case NONE -> {}
        }
    }

    /** HD (or VA) a hit, NF a miss, EX {@code exists}; a null adder counts nothing. */
    private static void metaCount(MetaCode code, LongAdder hits, LongAdder misses, LongAdder exists) {
        LongAdder counted =
                switch (code) {
                    case HD -> hits;
                    case NF -> misses;
                    case EX -> exists;
                    default -> null;
                };
        if (counted != null) {
            counted.increment();
        }
    }

    /**
     * A meta reply by its first two bytes: HD or VA (HD), EN, NS, NF, EX, an error line. A quiet
     * command's silence is a quiet mg's EN or any other's HD (protocol.txt: q hides EN and HD).
     */
    private enum MetaCode {
        HD,
        EN,
        NS,
        NF,
        EX,
        SERVER_ERROR,
        CLIENT_ERROR;

        static MetaCode of(ByteBuf b, boolean quiet, boolean get) {
            if (b.readableBytes() == 0) {
                return quiet && get ? EN : quiet ? HD : CLIENT_ERROR;
            }
            if (b.readableBytes() < 3) {
                return CLIENT_ERROR;
            }
            int i = b.readerIndex();
            return switch ((b.getByte(i) << 8) | b.getByte(i + 1)) {
                case ('H' << 8) | 'D', ('V' << 8) | 'A' -> HD;
                case ('E' << 8) | 'N' -> EN;
                case ('N' << 8) | 'S' -> NS;
                case ('N' << 8) | 'F' -> NF;
                case ('E' << 8) | 'X' -> EX;
                case ('S' << 8) | 'E' -> SERVER_ERROR;
                default -> CLIENT_ERROR; // CLIENT_ERROR, ERROR
            };
        }
    }

    private static void count(
            ByteBuf line, LongAdder hits, LongAdder misses, LongAdder other, Reply hit, Reply otherReply) {
        Reply r = Reply.of(line);
        if (r == hit) {
            hits.increment();
        } else if (r == Reply.NOT_FOUND) {
            misses.increment();
        } else if (other != null && r == otherReply) {
            other.increment();
        }
    }

    /** The reply lines that decide a hit or a miss. */
    private enum Reply {
        STORED("STORED\r\n"),
        EXISTS("EXISTS\r\n"),
        NOT_FOUND("NOT_FOUND\r\n"),
        DELETED("DELETED\r\n"),
        TOUCHED("TOUCHED\r\n"),
        NUMBER(null),
        OTHER(null);

        private static final Reply[] ALL = values();

        private final byte[] line;

        Reply(String line) {
            this.line = line == null ? null : line.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        }

        static Reply of(ByteBuf b) {
            int n = b.readableBytes();
            if (n > 2 && isDigit(b.getByte(b.readerIndex()))) {
                return NUMBER;
            }
            for (Reply r : ALL) {
                if (r.line != null && r.line.length == n && matches(b, r.line)) {
                    return r;
                }
            }
            return OTHER;
        }

        private static boolean isDigit(byte c) {
            return c >= '0' && c <= '9';
        }

        private static boolean matches(ByteBuf b, byte[] expected) {
            for (int i = 0; i < expected.length; i++) {
                if (b.getByte(b.readerIndex() + i) != expected[i]) {
                    return false;
                }
            }
            return true;
        }
    }

    public long cmdGet() {
        return cmdGet.sum();
    }

    public long cmdSet() {
        return cmdSet.sum();
    }

    public long cmdFlush() {
        return cmdFlush.sum();
    }

    public long cmdTouch() {
        return cmdTouch.sum();
    }

    public long getHits() {
        return getHits.sum();
    }

    public long getMisses() {
        return getMisses.sum();
    }

    public long deleteHits() {
        return deleteHits.sum();
    }

    public long deleteMisses() {
        return deleteMisses.sum();
    }

    public long incrHits() {
        return incrHits.sum();
    }

    public long incrMisses() {
        return incrMisses.sum();
    }

    public long decrHits() {
        return decrHits.sum();
    }

    public long decrMisses() {
        return decrMisses.sum();
    }

    public long casHits() {
        return casHits.sum();
    }

    public long casMisses() {
        return casMisses.sum();
    }

    public long casBadval() {
        return casBadval.sum();
    }

    public long touchHits() {
        return touchHits.sum();
    }

    public long touchMisses() {
        return touchMisses.sum();
    }
}
