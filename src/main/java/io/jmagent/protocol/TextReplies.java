package io.jmagent.protocol;

import static java.nio.charset.StandardCharsets.US_ASCII;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

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

    public static byte[] serverError(String message) {
        return bytes("SERVER_ERROR " + message + "\r\n");
    }

    public static byte[] bytes(String s) {
        return s.getBytes(US_ASCII);
    }
}
