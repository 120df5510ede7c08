package io.jmagent.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * Reads a meta command line (protocol.txt: mg, ms, md, ma, me) from {@link CommandTokens}, checked
 * only as far as routing and framing need (a key of at most 250 bytes; for ms a data length); its
 * flags are the server's to judge, so the line goes to the server as it came (where the proxy
 * answers an ms itself, {@link MetaSetRefusal} judges them as memcached would). protocol.txt: "b"
 * means the key is base64, "q" asks for quiet mode. A flag is its token's first character, as
 * memcached's _meta_flag_preparse reads it: {@code q1} and {@code qX} are quiet, {@code bX} is base64,
 * {@code I9} invalidates. An ms line memcached refuses before it reads the data length (too many
 * tokens, a key too long) is answered here, its data block left to be read as commands, as memcached
 * leaves it: the proxy must never send a server bytes it frames otherwise. The framing (an ms's data
 * block) stays with {@link TextRequestDecoder}. One per decoder, touched only from its event loop:
 * {@link #read} fills the fields that {@link #request} and {@link #oversized} build from.
 */
final class MetaLineParser {

    /** An M token memcached refuses ("incorrect length for M token"): no mode at all. */
    private static final byte INVALID_MODE = '?';

    /**
     * memcached 1.6 refuses a meta line of more than this many tokens (MFLAG_MAX_OPT_LENGTH counts the
     * empty token after the last), and an ms so refused has its data block read as commands.
     */
    private static final int MAX_TOKENS = 19;

    private static final LocalReply OPTIONS_TOO_LONG = LocalReply.of("CLIENT_ERROR options flags too long");

    private final CommandTokens tokens;

    private MetaRequest.Kind kind;
    private byte[] key;
    private String keyToken;
    private boolean base64;
    private boolean quiet;
    private boolean plain;
    /** An mg's T token (new TTL), as written; null without one. */
    private String touchToken;
    /** An ms that the backup repeats as a plain set of the same item: its line; null otherwise. */
    private String setMirror;

    private MetaRequest.Counter counter;

    MetaLineParser(CommandTokens tokens) {
        this.tokens = tokens;
    }

    /** The meta command the line names, or null when it names none (mn is answered by the decoder). */
    static MetaRequest.Kind kind(ByteBuf in, CommandTokens tokens) {
        if (tokens.length(0) != 2 || in.getByte(tokens.starts[0]) != 'm') {
            return null;
        }
        return switch (in.getByte(tokens.starts[0] + 1)) {
            case 'g' -> MetaRequest.Kind.GET;
            case 's' -> MetaRequest.Kind.SET;
            case 'd' -> MetaRequest.Kind.DELETE;
            case 'a' -> MetaRequest.Kind.ARITHMETIC;
            case 'e' -> MetaRequest.Kind.DEBUG;
            default -> null;
        };
    }

    /** Reads the key and flags of a {@code kind} line: the reply to a malformed one, or null when they are read. */
    LocalReply read(ByteBuf in, MetaRequest.Kind kind) {
        if (tokens.count < 2) {
            // memcached: a meta command without its key is ERROR, but me's is a bad command line
            return kind == MetaRequest.Kind.DEBUG ? TextLineCommands.BAD_FORMAT : TextLineCommands.ERROR;
        }
        if (tokens.keyTooLong(1)) {
            return TextLineCommands.BAD_FORMAT;
        }
        if (kind == MetaRequest.Kind.SET && tokens.count > MAX_TOKENS) {
            return OPTIONS_TOO_LONG;
        }
        boolean base64 = false;
        boolean quiet = false;
        boolean touch = false;
        boolean cas = false;
        boolean invalidate = false;
        boolean reshapes = false; // an ma flag that does more than add: N, E, T
        String touchToken = null;
        String flagsToken = null;
        byte mode = 0;
        for (int i = kind == MetaRequest.Kind.SET ? 3 : 2; i < tokens.count; i++) {
            // memcached's _meta_flag_preparse: the first character is the flag, whatever follows it
            switch (in.getByte(tokens.starts[i])) {
                case 'b' -> base64 = true;
                case 'q' -> quiet = true;
                case 'T' -> {
                    touch = true;
                    reshapes = true;
                    touchToken = tokens.string(in, i);
                }
                case 'C' -> cas = true;
                case 'F' -> flagsToken = tokens.string(in, i);
                case 'I' -> invalidate = true;
                case 'M' -> mode = tokens.length(i) == 2 ? in.getByte(tokens.starts[i] + 1) : INVALID_MODE;
                case 'N', 'E' -> reshapes = true;
                default -> {
                    // the server's to serve
                }
            }
        }
        // a set in mode S (or none) without a cas compared nor an invalidation
        boolean plainSet = !cas && !invalidate && (mode == 0 || (mode | 0x20) == 's');
        this.kind = kind;
        this.counter = counter(kind, touch, cas, invalidate, mode);
        this.keyToken = tokens.string(in, 1);
        this.key = tokens.bytes(in, 1);
        if (base64) {
            try {
                this.key = Base64.getDecoder().decode(key);
            } catch (IllegalArgumentException e) {
                // not base64: the server will say so; route on the token as written
            }
        }
        this.base64 = base64;
        this.quiet = quiet;
        this.touchToken = kind == MetaRequest.Kind.GET ? touchToken : null;
        // an add, a replace, or a set with a cas compared leaves the item as sent wherever it
        // succeeds: the backup repeats it as a plain set of the same value, flags and TTL
        int m = mode | 0x20;
        boolean sameItem = !invalidate && (m == 'e' || m == 'r' || cas && (mode == 0 || m == 's'));
        this.setMirror = kind == MetaRequest.Kind.SET && sameItem && tokens.count >= 3
                ? "ms " + keyToken + " " + tokens.string(in, 2) + (flagsToken == null ? "" : " " + flagsToken)
                        + (touchToken == null ? "" : " " + touchToken) + (base64 ? " b" : "") + "\r\n"
                : null;
        this.plain = kind == MetaRequest.Kind.SET
                ? plainSet
                : kind == MetaRequest.Kind.ARITHMETIC && !cas && !invalidate && !reshapes;
        return null;
    }

    /** The data length an ms line announces, or -1 when it announces none memcached would take. */
    int dataLength(ByteBuf in) {
        Integer length = tokens.count >= 3 ? tokens.int32(in, 2) : null;
        if (length == null || length < 0 || length > Integer.MAX_VALUE - 2) {
            return -1;
        }
        return length;
    }

    /** The request for the line read, owning {@code line}; an ms gets its value once its data block is read. */
    MetaRequest request(ByteBuf line) {
        ByteBuf mirror =
                setMirror != null ? Unpooled.copiedBuffer(setMirror, StandardCharsets.ISO_8859_1) : touchMirror();
        return new MetaRequest(kind, key, keyToken, base64, quiet, plain, counter, line, null, mirror);
    }

    /** For an mg that touches (T): the mg that gives the backup's copy the same TTL, quietly. */
    private ByteBuf touchMirror() {
        if (touchToken == null) {
            return null;
        }
        String mg = "mg " + keyToken + (base64 ? " b " : " ") + touchToken + " q\r\n";
        // the key token is as the decoder read it, byte for byte (ISO-8859-1)
        return Unpooled.copiedBuffer(mg, StandardCharsets.ISO_8859_1);
    }

    /** The answer to an ms whose value is larger than the proxy buffers. */
    OversizedStoreRequest oversized() {
        return new OversizedStoreRequest(plain ? StoreRequest.Kind.SET : StoreRequest.Kind.APPEND, key, false);
    }

    /**
     * Which counters the reply moves, as memcached 1.6's proto_text.c decides: a cas is counted
     * only on a set or a replace (modes S, R or none; add, append and prepend ignore it there);
     * an ma decrements in modes D and -.
     */
    private static MetaRequest.Counter counter(
            MetaRequest.Kind kind, boolean touch, boolean cas, boolean invalidate, byte mode) {
        return switch (kind) {
            case GET -> touch ? MetaRequest.Counter.GET_TOUCHING : MetaRequest.Counter.GET;
            case SET ->
                cas && (mode == 0 || mode == 'S' || mode == 'R')
                        ? MetaRequest.Counter.SET_CAS
                        : MetaRequest.Counter.SET;
            case DELETE -> invalidate ? MetaRequest.Counter.DELETE_INVALIDATING : MetaRequest.Counter.DELETE;
            case ARITHMETIC -> mode == 'D' || mode == '-' ? MetaRequest.Counter.DECR : MetaRequest.Counter.INCR;
            case DEBUG -> MetaRequest.Counter.NONE;
        };
    }
}
