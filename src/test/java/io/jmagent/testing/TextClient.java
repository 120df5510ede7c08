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
 * for byte. {@link #exchange} sends a request followed by a sentinel ({@code version}, which
 * memcached and the proxy both answer without touching any key or server) and returns everything
 * before the sentinel's reply, so a reply is known complete without guessing its shape.
 */
public final class TextClient implements AutoCloseable {

    private static final byte[] SENTINEL_REQUEST = "version\r\n".getBytes(StandardCharsets.US_ASCII);
    /** Marks a connection the other side closed. */
    public static final String CLOSED = "<closed>";

    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;

    public TextClient(int port) {
        this(connect(port));
    }

    private static Socket connect(int port) {
        try {
            Socket socket = new Socket();
            socket.connect(new InetSocketAddress("127.0.0.1", port), 2000);
            return socket;
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Over a socket already connected (a TLS one, say). */
    public TextClient(Socket connected) {
        try {
            socket = connected;
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
                int sentinel = sentinelReplyStart(all);
                if (sentinel >= 0) {
                    return Arrays.copyOf(all, sentinel);
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

    /** Where a final "VERSION ...\r\n" line starts, or -1 while the stream does not end with one. */
    private static int sentinelReplyStart(byte[] all) {
        int n = all.length;
        if (n < 10 || all[n - 1] != '\n' || all[n - 2] != '\r') {
            return -1;
        }
        int start = n - 2;
        while (start > 0 && all[start - 1] != '\n') {
            start--;
        }
        byte[] prefix = "VERSION ".getBytes(StandardCharsets.US_ASCII);
        if (n - start < prefix.length) {
            return -1;
        }
        for (int i = 0; i < prefix.length; i++) {
            if (all[start + i] != prefix[i]) {
                return -1;
            }
        }
        return start;
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
