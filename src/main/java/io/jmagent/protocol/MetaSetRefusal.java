package io.jmagent.protocol;

import io.netty.buffer.ByteBuf;

/**
 * What memcached 1.6 answers to an ms line whose flags it refuses after it has read the data
 * length and before it reads the data block (proto_text.c: process_mset_command, then
 * _meta_flag_preparse): the flag error, after which the block is swallowed, as long as announced,
 * whatever it holds. The proxy only needs this where it answers an ms itself, a data chunk that
 * does not end in CRLF or a value too large to buffer: memcached never gets that far, so its
 * answer is the flag error, not "bad data chunk" nor "object too large". Otherwise the line goes
 * to the server, which judges its flags. Stateless.
 */
final class MetaSetRefusal {

    private static final LocalReply DUPLICATE_FLAG = LocalReply.of("CLIENT_ERROR duplicate flag");
    private static final LocalReply INVALID_FLAG = LocalReply.of("CLIENT_ERROR invalid flag");
    private static final LocalReply BAD_TOKEN = LocalReply.of("CLIENT_ERROR bad token in command line format");
    private static final LocalReply BAD_KEY = LocalReply.of("CLIENT_ERROR error decoding key");
    private static final LocalReply BAD_M_LENGTH = LocalReply.of("CLIENT_ERROR incorrect length for M token");
    private static final LocalReply BAD_INITIAL = LocalReply.of("CLIENT_ERROR invalid numeric initial value");
    private static final LocalReply BAD_DELTA = LocalReply.of("CLIENT_ERROR invalid numeric delta value");
    private static final LocalReply OPAQUE_TOO_LONG = LocalReply.of("CLIENT_ERROR opaque token too long");
    private static final LocalReply INVALID_MODE = LocalReply.of("CLIENT_ERROR invalid mode for ms M token");
    /** memcached's MFLAG_MAX_OPAQUE_LENGTH. */
    private static final int MAX_OPAQUE_LENGTH = 32;
    /** The ms flags start after "ms", the key and the data length. */
    private static final int FIRST_FLAG = 3;

    private MetaSetRefusal() {}

    /** The reply memcached gives the ms line in {@code tokens} before reading its data, or null when it reads the data. */
    static LocalReply of(ByteBuf in, CommandTokens tokens) {
        // _meta_flag_preparse: a duplicate or unknown flag stops it at once; other errors go on, the last one said
        boolean[] seen = new boolean[127];
        LocalReply error = null;
        boolean hasError = false;
        byte mode = 0;
        for (int i = FIRST_FLAG; i < tokens.count; i++) {
            int flag = in.getUnsignedByte(tokens.starts[i]);
            if (flag >= seen.length || seen[flag]) {
                return DUPLICATE_FLAG;
            }
            seen[flag] = true;
            int from = tokens.starts[i] + 1;
            int to = tokens.starts[i] + tokens.length(i);
            switch (flag) {
                case 'b' -> {
                    if (!decodesAsBase64(in, tokens.starts[1], tokens.starts[1] + tokens.length(1))) {
                        error = BAD_KEY;
                        hasError = true;
                    }
                }
                case 'N', 'T', 'R' -> {
                    if (TextNumbers.parseInt32Truncating(in, from, to) == null) {
                        error = BAD_TOKEN;
                        hasError = true;
                    }
                }
                case 'F' -> {
                    // refused without a message of its own: the last one said, or "bad command line format"
                    if (TextNumbers.parseUnsigned32Truncating(in, from, to) == null) {
                        hasError = true;
                    }
                }
                case 'C' -> {
                    if (TextNumbers.parseUnsigned64(in, from, to) == null) {
                        error = BAD_TOKEN;
                        hasError = true;
                    }
                }
                case 'M' -> {
                    if (tokens.length(i) != 2) {
                        error = BAD_M_LENGTH;
                        hasError = true;
                    } else {
                        mode = in.getByte(from);
                    }
                }
                case 'J' -> {
                    if (TextNumbers.parseUnsigned64(in, from, to) == null) {
                        error = BAD_INITIAL;
                        hasError = true;
                    }
                }
                case 'D' -> {
                    if (TextNumbers.parseUnsigned64(in, from, to) == null) {
                        error = BAD_DELTA;
                        hasError = true;
                    }
                }
                case 'l', 'O', 'P', 'L', 'k', 's', 't', 'c', 'f', 'v', 'h', 'u', 'q', 'I' -> {
                    // known, nothing to check here
                }
                default -> {
                    return INVALID_FLAG;
                }
            }
        }
        if (hasError) {
            return error == null ? TextLineCommands.BAD_FORMAT : error;
        }
        // process_mset_command: the opaque's length is noted, the mode judged first
        boolean opaqueTooLong = false;
        for (int i = FIRST_FLAG; i < tokens.count; i++) {
            if (in.getByte(tokens.starts[i]) == 'O' && tokens.length(i) > MAX_OPAQUE_LENGTH) {
                opaqueTooLong = true;
            }
        }
        if ("\0EAPRS".indexOf(mode) < 0) {
            return INVALID_MODE;
        }
        return opaqueTooLong ? OPAQUE_TOO_LONG : null;
    }

    /**
     * memcached's base64_decode succeeds (base64.c): it skips bytes outside the alphabet, needs a
     * nonzero multiple of four that are in it, and at most two '=' in the block where padding starts.
     */
    private static boolean decodesAsBase64(ByteBuf in, int from, int to) {
        int count = 0;
        for (int i = from; i < to; i++) {
            if (isBase64(in.getByte(i))) {
                count++;
            }
        }
        if (count == 0 || count % 4 != 0) {
            return false;
        }
        int inBlock = 0;
        int pad = 0;
        for (int i = from; i < to; i++) {
            byte b = in.getByte(i);
            if (isBase64(b)) {
                pad += b == '=' ? 1 : 0;
                inBlock++;
                if (inBlock == 4) {
                    if (pad > 0) {
                        return pad <= 2;
                    }
                    inBlock = 0;
                }
            }
        }
        return true;
    }

    private static boolean isBase64(byte b) {
        return (b >= 'A' && b <= 'Z')
                || (b >= 'a' && b <= 'z')
                || (b >= '0' && b <= '9')
                || b == '+'
                || b == '/'
                || b == '=';
    }
}
