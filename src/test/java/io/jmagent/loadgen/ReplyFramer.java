package io.jmagent.loadgen;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.CorruptedFrameException;
import io.netty.util.ByteProcessor;
import java.nio.charset.StandardCharsets;

/**
 * Frames the replies that get and set draw (protocol.txt, "Retrieval command": VALUE lines, each
 * followed by its data block, then END; "Storage commands": one line), one at a time. Lines are
 * bounded; a reply that breaks the framing is a corrupted stream.
 */
final class ReplyFramer {

    static final int MAX_LINE = 2048;
    private static final byte[] VALUE = ascii("VALUE ");
    private static final byte[] END = ascii("END");
    private static final byte[] STORED = ascii("STORED");
    private static final byte[] ERROR = ascii("ERROR");
    private static final byte[] CLIENT_ERROR = ascii("CLIENT_ERROR");
    private static final byte[] SERVER_ERROR = ascii("SERVER_ERROR");

    private ReplyFramer() {}

    /**
     * The next whole reply at {@code in}'s reader index, which moves past it; null, and nothing
     * consumed, while {@code in} holds only part of one.
     */
    static Reply next(ByteBuf in) {
        int pos = in.readerIndex();
        boolean hit = false;
        while (true) {
            int searched = Math.min(in.writerIndex() - pos, MAX_LINE);
            int lf = searched <= 0 ? -1 : in.forEachByte(pos, searched, ByteProcessor.FIND_LF);
            if (lf < 0) {
                if (in.writerIndex() - pos >= MAX_LINE) {
                    throw new CorruptedFrameException("reply line longer than " + MAX_LINE + " bytes");
                }
                return null;
            }
            int lineEnd = lf > pos && in.getByte(lf - 1) == '\r' ? lf - 1 : lf;
            if (startsWith(in, pos, lineEnd, VALUE)) {
                long dataEnd = (long) lf + 1 + valueLength(in, pos, lineEnd) + 2;
                if (dataEnd > in.writerIndex()) {
                    return null;
                }
                hit = true;
                pos = (int) dataEnd;
                continue;
            }
            Reply reply;
            if (equals(in, pos, lineEnd, END)) {
                reply = hit ? Reply.HIT : Reply.MISS;
            } else if (hit) {
                throw new CorruptedFrameException("a retrieval reply that does not end with END");
            } else if (equals(in, pos, lineEnd, STORED)) {
                reply = Reply.STORED;
            } else if (equals(in, pos, lineEnd, ERROR)
                    || startsWith(in, pos, lineEnd, CLIENT_ERROR)
                    || startsWith(in, pos, lineEnd, SERVER_ERROR)) {
                reply = Reply.ERROR;
            } else {
                reply = Reply.NOT_STORED;
            }
            in.readerIndex(lf + 1);
            return reply;
        }
    }

    /** The {@code <bytes>} of "VALUE <key> <flags> <bytes> [<cas unique>]": the fourth word. */
    private static long valueLength(ByteBuf in, int from, int to) {
        int word = 0;
        long length = -1;
        boolean inWord = false;
        for (int i = from; i < to; i++) {
            byte b = in.getByte(i);
            if (b == ' ') {
                inWord = false;
                continue;
            }
            if (!inWord) {
                inWord = true;
                word++;
                if (word == 4) {
                    length = 0;
                }
            }
            if (word == 4) {
                if (b < '0' || b > '9' || length > Integer.MAX_VALUE) {
                    throw new CorruptedFrameException("bad length in a VALUE line");
                }
                length = length * 10 + (b - '0');
            }
        }
        if (length < 0) {
            throw new CorruptedFrameException("a VALUE line without a length");
        }
        return length;
    }

    private static boolean startsWith(ByteBuf in, int from, int to, byte[] prefix) {
        if (to - from < prefix.length) {
            return false;
        }
        for (int i = 0; i < prefix.length; i++) {
            if (in.getByte(from + i) != prefix[i]) {
                return false;
            }
        }
        return true;
    }

    private static boolean equals(ByteBuf in, int from, int to, byte[] word) {
        return to - from == word.length && startsWith(in, from, to, word);
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }
}
