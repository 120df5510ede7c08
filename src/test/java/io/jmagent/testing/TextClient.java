package io.jmagent.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A raw socket speaking bytes to memcached or to the proxy, for tests that compare replies byte
 * for byte. {@link #exchange} sends a request followed by a sentinel (a set and get of a key of
 * its own) and returns everything before the sentinel's reply, so a reply is known complete
 * without guessing its shape.
 */
public final class TextClient implements AutoCloseable {

    private static final byte[] SENTINEL_REQUEST =
            "set __sentinel__ 0 0 8\r\nSENTINEL\r\nget __sentinel__\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] SENTINEL_REPLY =
            "STORED\r\nVALUE __sentinel__ 0 8\r\nSENTINEL\r\nEND\r\n".getBytes(StandardCharsets.US_ASCII);
    /** Marks a connection the other side closed. */
    public static final String CLOSED = "<closed>";

    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;

    public TextClient(int port) {
        try {
            socket = new Socket();
            socket.connect(new InetSocketAddress("127.0.0.1", port), 2000);
            socket.setSoTimeout(5000);
            socket.setTcpNoDelay(true);
            in = socket.getInputStream();
            out = socket.getOutputStream();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Sends {@code request} and returns its whole reply (plus {@link #CLOSED} if the peer closed). */
    public byte[] exchange(byte[] request) {
        try {
            out.write(request);
            out.write(SENTINEL_REQUEST);
            out.flush();
        } catch (IOException e) {
            return readRest(new ByteArrayOutputStream());
        }
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        byte[] buf = new byte[64 * 1024];
        try {
            while (true) {
                int n = in.read(buf);
                if (n < 0) {
                    got.writeBytes(CLOSED.getBytes(StandardCharsets.US_ASCII));
                    return got.toByteArray();
                }
                got.write(buf, 0, n);
                byte[] all = got.toByteArray();
                if (endsWith(all, SENTINEL_REPLY)) {
                    return Arrays.copyOf(all, all.length - SENTINEL_REPLY.length);
                }
            }
        } catch (SocketTimeoutException e) {
            throw new AssertionError("no complete reply within 5 s; got so far: "
                    + new String(got.toByteArray(), StandardCharsets.ISO_8859_1));
        } catch (IOException e) {
            got.writeBytes(CLOSED.getBytes(StandardCharsets.US_ASCII));
            return got.toByteArray();
        }
    }

    public String exchange(String request) {
        return new String(exchange(request.getBytes(StandardCharsets.ISO_8859_1)), StandardCharsets.ISO_8859_1);
    }

    private byte[] readRest(ByteArrayOutputStream got) {
        got.writeBytes(CLOSED.getBytes(StandardCharsets.US_ASCII));
        return got.toByteArray();
    }

    private static boolean endsWith(byte[] all, byte[] tail) {
        if (all.length < tail.length) {
            return false;
        }
        for (int i = 0; i < tail.length; i++) {
            if (all[all.length - tail.length + i] != tail[i]) {
                return false;
            }
        }
        return true;
    }

    @Override
    public void close() {
        try {
            socket.close();
        } catch (IOException ignored) {
            // closing a test socket: nothing to do
        }
    }
}
