package io.jmagent.testing;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.util.ArrayList;
import java.util.List;

/**
 * A raw socket speaking memcached's binary protocol to memcached or to the proxy. {@link #exchange}
 * sends requests followed by a Noop with a sentinel opaque and returns every response before the
 * Noop's: memcached answers a Noop only after everything sent before it, so the replies are
 * known complete without knowing how many there are (quiet commands answer only on error).
 */
public final class BinaryClient implements AutoCloseable {

    public static final int SENTINEL_OPAQUE = 0x5e171e1;

    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;
    private boolean closedByPeer;

    public BinaryClient(int port) {
        try {
            socket = new Socket();
            socket.connect(new InetSocketAddress("127.0.0.1", port), 2000);
            socket.setSoTimeout(5000);
            socket.setTcpNoDelay(true);
            in = new BufferedInputStream(socket.getInputStream(), 64 * 1024);
            out = socket.getOutputStream();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** True once the other side closed the connection (seen by a read). */
    public boolean closedByPeer() {
        return closedByPeer;
    }

    public void send(byte[] bytes) {
        try {
            out.write(bytes);
            out.flush();
        } catch (IOException e) {
            closedByPeer = true;
        }
    }

    /**
     * Sends {@code request} and a sentinel Noop and returns the responses before the Noop's; if
     * the other side closes first, the responses read until then ({@link #closedByPeer()} tells).
     */
    public List<BinaryResponse> exchange(byte[] request) {
        send(concat(request, BinaryPacket.noop(SENTINEL_OPAQUE)));
        List<BinaryResponse> got = new ArrayList<>();
        while (true) {
            BinaryResponse r = readOrNull(got);
            if (r == null) {
                return got;
            }
            if (r.opcode() == BinaryPacket.NOOP && r.opaque() == SENTINEL_OPAQUE) {
                return got;
            }
            got.add(r);
        }
    }

    /** Sends {@code request} and returns every response until the other side closes. */
    public List<BinaryResponse> exchangeUntilClosed(byte[] request) {
        send(request);
        List<BinaryResponse> got = new ArrayList<>();
        BinaryResponse r;
        while ((r = readOrNull(got)) != null) {
            got.add(r);
        }
        return got;
    }

    /** Reads {@code count} responses. */
    public List<BinaryResponse> read(int count) {
        List<BinaryResponse> got = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            BinaryResponse r = readOrNull(got);
            if (r == null) {
                throw new AssertionError("closed after " + got.size() + " of " + count + " responses: " + got);
            }
            got.add(r);
        }
        return got;
    }

    /** True when nothing at all arrives within {@code millis} and the connection stays open. */
    public boolean silentFor(int millis) {
        try {
            socket.setSoTimeout(millis);
            int b = in.read();
            if (b < 0) {
                closedByPeer = true;
            }
            return false;
        } catch (SocketTimeoutException e) {
            return true;
        } catch (IOException e) {
            closedByPeer = true;
            return false;
        } finally {
            try {
                socket.setSoTimeout(5000);
            } catch (IOException e) {
                closedByPeer = true;
            }
        }
    }

    private BinaryResponse readOrNull(List<BinaryResponse> sofar) {
        try {
            BinaryResponse r = BinaryResponse.read(in);
            if (r == null) {
                closedByPeer = true;
            }
            return r;
        } catch (SocketTimeoutException e) {
            throw new AssertionError("no complete response within 5 s; got so far: " + sofar);
        } catch (IOException e) {
            if (e.getMessage() != null && e.getMessage().startsWith("not a response")) {
                throw new AssertionError(e.getMessage() + " after " + sofar, e);
            }
            closedByPeer = true; // reset by peer
            return null;
        }
    }

    public static byte[] concat(byte[]... parts) {
        int size = 0;
        for (byte[] p : parts) {
            size += p.length;
        }
        byte[] all = new byte[size];
        int at = 0;
        for (byte[] p : parts) {
            System.arraycopy(p, 0, all, at, p.length);
            at += p.length;
        }
        return all;
    }

    public static byte[] concat(List<byte[]> parts) {
        return concat(parts.toArray(new byte[0][]));
    }

    @Override
    public void close() {
        try {
            socket.close();
        } catch (IOException e) {
            // closing
        }
    }
}
