package io.jmagent.backend;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/** Probe connections over blocking sockets (TLS ones to TLS servers), each read and connect bounded by the probe timeout. */
final class SocketProbeTransport implements ProbeTransport {

    private final int timeoutMillis;
    /** TLS to the servers; null: none. */
    private final ServerTlsContext tls;
    /** The login the servers want; null: none. */
    private final ServerLogin login;

    SocketProbeTransport(int timeoutMillis, ServerTlsContext tls, ServerLogin login) {
        this.timeoutMillis = timeoutMillis;
        this.tls = tls;
        this.login = login;
    }

    @Override
    public ProbeLink open(ServerAddress server) throws IOException {
        Socket s = new Socket();
        try {
            s.connect(new InetSocketAddress(server.host(), server.port()), timeoutMillis);
            s.setSoTimeout(timeoutMillis);
            s.setTcpNoDelay(true);
            if (tls != null) {
                s = tls.wrap(s, server.host(), server.port());
            }
            SocketLink link = new SocketLink(s, new BufferedInputStream(s.getInputStream()));
            if (login != null) {
                link.send("version\r\n"); // a server that answers it wants no login (and must not store one)
                String answer = link.readLine();
                if (ServerLogin.UNAUTHENTICATED.equals(answer)) {
                    link.socket().getOutputStream().write(login.request());
                    answer = link.readLine();
                    if (!ServerLogin.ACCEPTED.equals(answer)) {
                        throw new IOException("login as '" + login.user() + "' refused: " + answer);
                    }
                } else if (answer == null || !answer.startsWith("VERSION ")) {
                    throw new IOException("login as '" + login.user() + "': unexpected answer " + answer);
                }
            }
            return link;
        } catch (IOException e) {
            s.close();
            throw e;
        }
    }

    @Override
    public void pause(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private record SocketLink(Socket socket, InputStream in) implements ProbeLink {

        @Override
        public void send(String text) throws IOException {
            OutputStream out = socket.getOutputStream();
            out.write(text.getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
        }

        @Override
        public String readLine() throws IOException {
            StringBuilder sb = new StringBuilder(64);
            while (true) {
                int c = in.read();
                if (c < 0) {
                    throw new IOException("connection closed");
                }
                if (c == '\n') {
                    int n = sb.length();
                    return n > 0 && sb.charAt(n - 1) == '\r' ? sb.substring(0, n - 1) : sb.toString();
                }
                if (sb.length() > 4096) {
                    throw new IOException("line too long");
                }
                sb.append((char) c);
            }
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }
}
