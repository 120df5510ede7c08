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
 * A stand-in for a memcached on a loopback port that answers each request line, one connection a
 * thread, with what {@link Answer} makes of it (the servers a test needs that memcached cannot
 * play: slow, or breaking the protocol on purpose). Only for requests that are one line.
 */
final class LineServer implements AutoCloseable {

    /** The reply to one request line (without its CRLF); it may take its time. */
    interface Answer {
        String to(String line) throws InterruptedException;
    }

    private final ServerSocket listener;
    private final Answer answer;
    private final String name;
    private final List<Socket> connections = new CopyOnWriteArrayList<>();

    LineServer(String name, Answer answer) throws IOException {
        this.name = name;
        this.answer = answer;
        this.listener = new ServerSocket(0, 16, InetAddress.getLoopbackAddress());
        Thread acceptor = new Thread(this::accept, name);
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
                Thread t = new Thread(() -> serve(s), name + "-connection");
                t.setDaemon(true);
                t.start();
            }
        } catch (IOException e) {
            // closed
        }
    }

    private void serve(Socket s) {
        try (s) {
            BufferedReader in =
                    new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.ISO_8859_1));
            OutputStream out = s.getOutputStream();
            String line;
            while ((line = in.readLine()) != null) {
                out.write(answer.to(line).getBytes(StandardCharsets.ISO_8859_1));
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
