package io.jmagent.it;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A real memcached made to look older than 1.6.10 (no stable meta commands) to the proxy's probe: a relay
 * to it that passes every byte through, but for its version, "version 1.6" in a reply becoming
 * "version 1.5". The server itself still answers everything, so a test can see which commands
 * the proxy chose to send it.
 */
final class OldMemcachedRelay implements AutoCloseable {

    private static final byte[] FROM = "version 1.6".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] TO = "version 1.5".getBytes(StandardCharsets.US_ASCII);

    private final ServerSocket listener;
    private final int target;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();

    OldMemcachedRelay(int target) throws IOException {
        this.target = target;
        this.listener = new ServerSocket(0, 16, InetAddress.getLoopbackAddress());
        daemon(this::accept);
    }

    int port() {
        return listener.getLocalPort();
    }

    private void accept() {
        try {
            while (true) {
                Socket client = listener.accept();
                Socket server = new Socket(InetAddress.getLoopbackAddress(), target);
                sockets.add(client);
                sockets.add(server);
                daemon(() -> pipe(client, server, false));
                daemon(() -> pipe(server, client, true));
            }
        } catch (IOException e) {
            // closed
        }
    }

    private static void pipe(Socket from, Socket to, boolean rewrite) {
        try (InputStream in = from.getInputStream();
                OutputStream out = to.getOutputStream()) {
            byte[] buf = new byte[16 * 1024];
            int matched = 0; // bytes of FROM seen and held back
            int n;
            while ((n = in.read(buf)) > 0) {
                if (!rewrite) {
                    out.write(buf, 0, n);
                    continue;
                }
                java.io.ByteArrayOutputStream chunk = new java.io.ByteArrayOutputStream(n + FROM.length);
                for (int i = 0; i < n; i++) {
                    if (buf[i] == FROM[matched]) {
                        if (++matched == FROM.length) {
                            chunk.write(TO, 0, TO.length);
                            matched = 0;
                        }
                        continue;
                    }
                    chunk.write(FROM, 0, matched); // FROM has no repeated prefix: a mismatch restarts it
                    matched = buf[i] == FROM[0] ? 1 : 0;
                    if (matched == 0) {
                        chunk.write(buf[i]);
                    }
                }
                out.write(chunk.toByteArray());
            }
        } catch (IOException e) {
            // either side closed
        } finally {
            close(from);
            close(to);
        }
    }

    private static void daemon(Runnable r) {
        Thread t = new Thread(r, "old-memcached-relay");
        t.setDaemon(true);
        t.start();
    }

    private static void close(Socket s) {
        try {
            s.close();
        } catch (IOException e) {
            // already closed
        }
    }

    @Override
    public void close() throws IOException {
        listener.close();
        sockets.forEach(OldMemcachedRelay::close);
    }
}
