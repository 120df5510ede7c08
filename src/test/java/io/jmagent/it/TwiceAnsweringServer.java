package io.jmagent.it;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A stand-in for a memcached that breaks the meta framing: it answers {@code mg twice ...} with two
 * replies ({@code HD} twice), any other mg with {@code EN}, {@code mn} with {@code MN}, stats as a
 * memcached 1.6 that is up, and anything else with {@code ERROR}.
 */
final class TwiceAnsweringServer implements AutoCloseable {

    /** What the proxy's health probe reads: a memcached 1.6 that is up. */
    private static final String STATS = "STAT pid 1\r\nSTAT uptime 100\r\nSTAT time 1700000000\r\n"
            + "STAT version 1.6.18\r\nEND\r\n";

    private final ServerSocket listener;
    private final List<Socket> connections = new CopyOnWriteArrayList<>();

    TwiceAnsweringServer() throws IOException {
        this.listener = new ServerSocket(0, 16, InetAddress.getLoopbackAddress());
        Thread acceptor = new Thread(this::accept, "twice-answering-server");
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
                Thread t = new Thread(() -> answer(s), "twice-answering-connection");
                t.setDaemon(true);
                t.start();
            }
        } catch (IOException e) {
            // closed
        }
    }

    private static void answer(Socket s) {
        try (s) {
            BufferedReader in =
                    new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.ISO_8859_1));
            OutputStream out = s.getOutputStream();
            String line;
            while ((line = in.readLine()) != null) {
                String reply = line.startsWith("mg twice") ? "HD\r\nHD\r\n" : line.startsWith("mg ") ? "EN\r\n"
                        : line.equals("mn") ? "MN\r\n" : line.equals("stats") ? STATS : "ERROR\r\n";
                out.write(reply.getBytes(StandardCharsets.US_ASCII));
                out.flush();
            }
        } catch (IOException e) {
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
