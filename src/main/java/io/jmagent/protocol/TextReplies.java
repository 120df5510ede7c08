package io.jmagent.protocol;

import static java.nio.charset.StandardCharsets.US_ASCII;

/** The fixed reply lines of memcached's text protocol (protocol.txt), as the proxy sends them. */
public final class TextReplies {

    private TextReplies() {
    }

    public static final byte[] CRLF = bytes("\r\n");
    public static final byte[] END = bytes("END\r\n");
    public static final byte[] OK = bytes("OK\r\n");
    public static final byte[] ERROR = bytes("ERROR\r\n");
    public static final byte[] BAD_FORMAT = bytes("CLIENT_ERROR bad command line format\r\n");
    public static final byte[] TOO_LARGE = bytes("SERVER_ERROR object too large for cache\r\n");

    public static byte[] serverError(String message) {
        return bytes("SERVER_ERROR " + message + "\r\n");
    }

    public static byte[] bytes(String s) {
        return s.getBytes(US_ASCII);
    }
}
