package io.jmagent.protocol;

import io.netty.buffer.ByteBuf;
import java.util.ArrayList;
import java.util.List;

/**
 * The text commands whose line is the whole request (protocol.txt: get, gets, gat, gats, delete,
 * incr, decr, touch, flush_all, verbosity), each read from a line already split into
 * {@link CommandTokens} by {@link TextRequestDecoder}, which has checked its token count. Each
 * answers a malformed line exactly as memcached 1.6's proto_text.c does, or nothing under
 * {@code noreply} where memcached is silent. Stateless.
 */
final class TextLineCommands {

    static final LocalReply ERROR = new LocalReply(TextReplies.ERROR, false);
    static final LocalReply BAD_FORMAT = new LocalReply(TextReplies.BAD_FORMAT, false);
    private static final LocalReply END = new LocalReply(TextReplies.END, false);
    private static final LocalReply INVALID_EXPTIME = LocalReply.of("CLIENT_ERROR invalid exptime argument");
    private static final LocalReply INVALID_DELTA = LocalReply.of("CLIENT_ERROR invalid numeric delta argument");
    private static final LocalReply DELETE_USAGE =
            LocalReply.of("CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]");

    private TextLineCommands() {}

    static Request retrieval(ByteBuf in, CommandTokens tokens, RetrievalRequest.Kind kind) {
        int first = 1;
        int exptime = 0;
        if (kind.touching()) {
            Integer e = tokens.int32(in, 1);
            if (e == null) {
                return INVALID_EXPTIME;
            }
            exptime = e;
            first = 2;
        }
        if (first >= tokens.count) {
            return END; // "gat 10" with no key: memcached answers an empty result
        }
        List<byte[]> keys = new ArrayList<>(tokens.count - first);
        for (int i = first; i < tokens.count; i++) {
            if (tokens.keyTooLong(i)) {
                // memcached has read the keys before it: they are fetched, then the line refused
                return keys.isEmpty()
                        ? BAD_FORMAT
                        : new CutShortRetrievalRequest(new RetrievalRequest(kind, exptime, keys));
            }
            keys.add(tokens.bytes(in, i));
        }
        return new RetrievalRequest(kind, exptime, keys);
    }

    static Request delete(ByteBuf in, CommandTokens tokens) {
        int n = tokens.count;
        boolean noreply = false;
        if (n > 2) {
            boolean holdIsZero = tokens.is(in, 2, "0");
            noreply = tokens.noreplyMaybe(in);
            boolean valid = (n == 3 && (holdIsZero || noreply)) || (n == 4 && holdIsZero && noreply);
            if (!valid) {
                return reply(DELETE_USAGE, noreply);
            }
        }
        if (tokens.keyTooLong(1)) {
            return reply(BAD_FORMAT, noreply);
        }
        return new DeleteRequest(tokens.bytes(in, 1), noreply);
    }

    static Request arithmetic(ByteBuf in, CommandTokens tokens, boolean increment) {
        boolean noreply = tokens.noreplyMaybe(in);
        if (tokens.keyTooLong(1)) {
            return reply(BAD_FORMAT, noreply);
        }
        Long delta = tokens.uint64(in, 2);
        if (delta == null) {
            return reply(INVALID_DELTA, noreply);
        }
        return new ArithmeticRequest(increment, tokens.bytes(in, 1), delta, noreply);
    }

    static Request touch(ByteBuf in, CommandTokens tokens) {
        boolean noreply = tokens.noreplyMaybe(in);
        if (tokens.keyTooLong(1)) {
            return reply(BAD_FORMAT, noreply);
        }
        Integer exptime = tokens.int32(in, 2);
        if (exptime == null) {
            return reply(INVALID_EXPTIME, noreply);
        }
        return new TouchRequest(tokens.bytes(in, 1), exptime, noreply);
    }

    static Request flushAll(ByteBuf in, CommandTokens tokens) {
        boolean noreply = tokens.noreplyMaybe(in);
        Integer delay = null;
        if (tokens.count != (noreply ? 2 : 1)) {
            delay = tokens.int32(in, 1);
            if (delay == null) {
                return reply(INVALID_EXPTIME, noreply);
            }
        }
        return new FlushAllRequest(delay, noreply);
    }

    static Request verbosity(ByteBuf in, CommandTokens tokens) {
        boolean noreply = tokens.noreplyMaybe(in);
        Integer level = tokens.uint32(in, 1);
        if (level == null) {
            return reply(BAD_FORMAT, noreply);
        }
        return new VerbosityRequest(level, noreply);
    }

    /** {@code reply}, or nothing (null) when the client asked for {@code noreply}. */
    static Request reply(LocalReply reply, boolean noreply) {
        return noreply ? null : reply;
    }
}
