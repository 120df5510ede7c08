package io.jmagent.loadgen;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;

/**
 * Sets every key of the workload once through the target before it is measured, so gets hit from
 * the first run on. Blocking, on the calling thread: batches of sets, then their STORED lines.
 */
final class KeySpaceFill {

    private static final int BATCH = 200;
    private static final byte[] STORED_LINE = {'S', 'T', 'O', 'R', 'E', 'D', '\r', '\n'};

    private KeySpaceFill() {}

    static void fill(InetSocketAddress target, Workload workload) throws IOException {
        try (Socket socket = new Socket()) {
            socket.connect(target, 5000);
            socket.setSoTimeout(10_000);
            socket.setTcpNoDelay(true);
            OutputStream out = socket.getOutputStream();
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
                                target + " did not answer STORED to every set while filling the key space");
                    }
                }
            }
        }
    }
}
