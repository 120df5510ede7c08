package io.jmagent.protocol;

import static java.nio.charset.StandardCharsets.US_ASCII;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.util.ArrayList;
import java.util.List;

/** The fixed reply lines of memcached's text protocol (protocol.txt), as the proxy sends them. */
public final class TextReplies {

    private TextReplies() {}

    public static final byte[] CRLF = bytes("\r\n");
    public static final byte[] END = bytes("END\r\n");
    /** How a hit starts in a text retrieval reply. */
    public static final byte[] VALUE_PREFIX = bytes("VALUE ");
    /** How a server's error line starts. */
    public static final byte[] SERVER_ERROR_PREFIX = bytes("SERVER_ERROR");

    public static final byte[] OK = bytes("OK\r\n");
    public static final byte[] STORED = bytes("STORED\r\n");
    public static final byte[] NOT_STORED = bytes("NOT_STORED\r\n");
    public static final byte[] NOT_FOUND = bytes("NOT_FOUND\r\n");
    public static final byte[] DELETED = bytes("DELETED\r\n");
    public static final byte[] ERROR = bytes("ERROR\r\n");
    public static final byte[] BAD_FORMAT = bytes("CLIENT_ERROR bad command line format\r\n");
    public static final byte[] TOO_LARGE = bytes("SERVER_ERROR object too large for cache\r\n");

    /** END and CRLF as shared read-only direct buffers: hand out {@code duplicate()}s, never release. */
    public static final ByteBuf END_BUFFER = constant(END);

    public static final ByteBuf CRLF_BUFFER = constant(CRLF);
    public static final ByteBuf OK_BUFFER = constant(OK);
    public static final ByteBuf TOO_LARGE_BUFFER = constant(TOO_LARGE);

    private static ByteBuf constant(byte[] bytes) {
        return Unpooled.unreleasableBuffer(Unpooled.directBuffer(bytes.length).writeBytes(bytes))
                .asReadOnly();
    }

    /** True when {@code buf}'s readable bytes start with {@code prefix}. */
    public static boolean startsWith(ByteBuf buf, byte[] prefix) {
        if (buf.readableBytes() < prefix.length) {
            return false;
        }
        int base = buf.readerIndex();
        for (int i = 0; i < prefix.length; i++) {
            if (buf.getByte(base + i) != prefix[i]) {
                return false;
            }
        }
        return true;
    }

    /**
     * The VALUE blocks of a text retrieval reply ("VALUE key flags bytes [cas]" line, data, CRLF;
     * then END), each as {start, key start, key end, end} in {@code reply}'s indexes; null when it
     * is not such a reply (an error line, or a block cut short).
     */
    public static List<int[]> valueBlocks(ByteBuf reply) {
        List<int[]> blocks = new ArrayList<>();
        int i = reply.readerIndex();
        int end = reply.writerIndex();
        while (i < end && startsWithAt(reply, i, VALUE_PREFIX)) {
            int lf = reply.indexOf(i, end, (byte) '\n');
            int keyStart = i + VALUE_PREFIX.length;
            int keyEnd = lf < 0 ? -1 : reply.indexOf(keyStart, lf, (byte) ' ');
            int flagsEnd = keyEnd < 0 ? -1 : reply.indexOf(keyEnd + 1, lf, (byte) ' ');
            if (flagsEnd < 0) {
                return null;
            }
            long length = 0;
            int d = flagsEnd + 1;
            for (; d < lf && reply.getByte(d) >= '0' && reply.getByte(d) <= '9'; d++) {
                length = length * 10 + (reply.getByte(d) - '0');
            }
            long blockEnd = lf + 1 + length + 2;
            if (d == flagsEnd + 1 || blockEnd > end) {
                return null;
            }
            blocks.add(new int[] {i, keyStart, keyEnd, (int) blockEnd});
            i = (int) blockEnd;
        }
        return end - i == END.length && startsWithAt(reply, i, END) ? blocks : null;
    }

    private static boolean startsWithAt(ByteBuf buf, int at, byte[] prefix) {
        if (buf.writerIndex() - at < prefix.length) {
            return false;
        }
        for (int k = 0; k < prefix.length; k++) {
            if (buf.getByte(at + k) != prefix[k]) {
                return false;
            }
        }
        return true;
    }

    public static byte[] serverError(String message) {
        return bytes("SERVER_ERROR " + message + "\r\n");
    }

    public static byte[] bytes(String s) {
        return s.getBytes(US_ASCII);
    }
}
