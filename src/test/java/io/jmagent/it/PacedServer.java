package io.jmagent.it;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A stand-in for a memcached that is slow but steady: it answers every request line with
 * {@code END} (a miss), one line at a time, {@code pause} after the previous answer. Only for
 * requests that are one line (get).
 */
final class PacedServer implements AutoCloseable {

    private final ServerSocket listener;
    private final Duration pause;
    private final List<Socket> connections = new CopyOnWriteArrayList<>();

    PacedServer(Duration pause) throws IOException {
        this.pause = pause;
        this.listener = new ServerSocket(0, 16, InetAddress.getLoopbackAddress());
        Thread acceptor = new Thread(this::accept, "paced-server");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    int port() {
        return listener.getLocalPort();
    }

    private void accept() {
        try {
            while (true) {
                Socket s = listener.accept();
                connections.add(s);
                Thread t = new Thread(() -> answer(s), "paced-server-connection");
                t.setDaemon(true);
                t.start();
            }
        } catch (IOException e) {
            // closed
        }
    }

    private void answer(Socket s) {
        try (s) {
            BufferedReader in =
                    new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.ISO_8859_1));
            OutputStream out = s.getOutputStream();
            while (in.readLine() != null) {
                Thread.sleep(pause.toMillis());
                out.write("END\r\n".getBytes(StandardCharsets.US_ASCII));
                out.flush();
            }
        } catch (IOException | InterruptedException e) {
            // the proxy went away, or we are closing
        }
    }

    @Override
    public void close() throws IOException {
        listener.close();
        for (Socket s : connections) {
            s.close();
        }
    }
}
