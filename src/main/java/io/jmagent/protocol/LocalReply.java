package io.jmagent.protocol;

import java.nio.charset.StandardCharsets;

/**
 * A reply the decoder settles without any server: protocol errors ({@code ERROR},
 * {@code CLIENT_ERROR ...}) and trivial answers. {@code closeAfter} closes the connection once
 * the reply is written, as memcached does for a line that never ends.
 */
public record LocalReply(byte[] bytes, boolean closeAfter) implements Request {

    public static LocalReply of(String line) {
        return new LocalReply((line + "\r\n").getBytes(StandardCharsets.US_ASCII), false);
    }

    public static LocalReply closing(String line) {
        return new LocalReply((line + "\r\n").getBytes(StandardCharsets.US_ASCII), true);
    }
}
