package io.jmagent.loadgen;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;

/**
 * Sets every key of the workload once through the target before it is measured, so gets hit from
 * the first run on. Blocking, on the calling thread: batches of sets, then their STORED lines; to a
 * {@code tls://} target over TLS.
 */
final class KeySpaceFill {

    private static final int BATCH = 200;
    private static final byte[] STORED_LINE = {'S', 'T', 'O', 'R', 'E', 'D', '\r', '\n'};

    private KeySpaceFill() {}

    /** Fills the key space through {@code target}; {@code tls} is needed for a TLS target only. */
    static void fill(Target target, ClientTls tls, Workload workload) throws IOException {
        try (Socket plain = new Socket();
                Socket socket = connect(plain, target, tls)) {
            OutputStream out = new BufferedOutputStream(socket.getOutputStream(), 64 * 1024);
            InputStream in = socket.getInputStream();
            byte[] expected = new byte[STORED_LINE.length * BATCH];
            for (int i = 0; i < expected.length; i++) {
                expected[i] = STORED_LINE[i % STORED_LINE.length];
            }
            for (int from = 0; from < workload.keys(); from += BATCH) {
                int to = Math.min(workload.keys(), from + BATCH);
                for (int k = from; k < to; k++) {
                    out.write(workload.set(k));
                }
                out.flush();
                byte[] got = in.readNBytes(STORED_LINE.length * (to - from));
                for (int i = 0; i < got.length; i++) {
                    if (got[i] != expected[i] || got.length != STORED_LINE.length * (to - from)) {
                        throw new IOException(
                                target.name() + " did not answer STORED to every set while filling the key space");
                    }
                }
            }
        }
    }

    private static Socket connect(Socket plain, Target target, ClientTls tls) throws IOException {
        plain.connect(target.address(), 5000);
        plain.setSoTimeout(10_000);
        plain.setTcpNoDelay(true);
        return target.tls() ? tls.wrap(plain, target) : plain;
    }
}
