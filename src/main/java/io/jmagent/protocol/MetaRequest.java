package io.jmagent.protocol;

import io.netty.buffer.ByteBuf;

/**
 * A meta command (mg, ms, md, ma, me) from protocol.txt's "Meta Commands". The proxy reads only
 * what it needs to route and frame it: the key ({@code key}, base64-decoded when the {@code b}
 * flag is set, for ketama; {@code keyToken} as written), the value of an ms, and whether the
 * {@code q} flag asks for quiet mode, and whether it is {@code plain}: an ms that is a plain set
 * (mode S or none, no C nor I flag), an ma that only adds or subtracts its delta (no N, C, E, T
 * nor I flag: the result depends on nothing but the number held). The command line itself ({@code line}, with its CRLF) goes
 * to the server unchanged, so every flag is served by memcached as it would be directly.
 * {@code mirrorLine}, when not null, is the line of a plain-set ms of the same value that the
 * backup gets once the primary stored an ms that is not a plain set itself (the proxy's own ms for
 * a binary add, replace or cas), or, for an mg with a T flag, the quiet mg that gives the backup's
 * copy the same new TTL once the primary's copy was touched. {@code counter} says which of memcached's command counters its
 * reply moves, read from its flags once when decoded ({@link Counter#NONE} for the proxy's own
 * commands, counted as the binary requests they serve). {@code line}, {@code mirrorLine} and {@code value} (ms only,
 * without its CRLF; null otherwise) are owned by the request until released or handed on.
 */
public record MetaRequest(
        Kind kind,
        byte[] key,
        String keyToken,
        boolean base64,
        boolean quiet,
        boolean plain,
        Counter counter,
        ByteBuf line,
        ByteBuf value,
        ByteBuf mirrorLine)
        implements Request {

    public enum Kind {
        GET,
        SET,
        DELETE,
        ARITHMETIC,
        DEBUG
    }

    /**
     * The counters a reply moves, as memcached 1.6 counts meta commands: an mg in cmd_get (with a
     * T flag, a hit in cmd_touch), an ms in cmd_set (with a C flag on a set or replace, in cas_*
     * too), an md in delete_* (with an I flag, a hit in nothing), an ma in incr_* or decr_*.
     */
    public enum Counter {
        GET,
        GET_TOUCHING,
        SET,
        SET_CAS,
        DELETE,
        DELETE_INVALIDATING,
        INCR,
        DECR,
        NONE
    }

    /** A client's meta command: mirrored on the backup as itself when a plain set. */
    public MetaRequest(
            Kind kind,
            byte[] key,
            String keyToken,
            boolean base64,
            boolean quiet,
            boolean plain,
            Counter counter,
            ByteBuf line,
            ByteBuf value) {
        this(kind, key, keyToken, base64, quiet, plain, counter, line, value, null);
    }

    /** An ms that is a plain set. */
    public boolean plainSet() {
        return kind == Kind.SET && plain;
    }

    /** An ma that only adds (or subtracts) its delta: such ma of one counter may be applied in any order alike. */
    public boolean plainArithmetic() {
        return kind == Kind.ARITHMETIC && plain;
    }

    public boolean isWrite() {
        return kind == Kind.SET || kind == Kind.DELETE || kind == Kind.ARITHMETIC;
    }

    /** An ms whose success the backup repeats as a set of the same value (itself, or {@code mirrorLine}). */
    public boolean mirroredAsSet() {
        return kind == Kind.SET && (plain || mirrorLine != null);
    }

    public void release() {
        release(line);
        release(value);
        release(mirrorLine);
    }

    private static void release(ByteBuf b) {
        if (b != null && b.refCnt() > 0) {
            b.release();
        }
    }
}
