package io.jmagent.discovery;

import io.jmagent.backend.ServerAddress;
import io.jmagent.config.Discovery;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * An ElastiCache-style configuration endpoint ({@code config:HOST:PORT}): {@code config get cluster}
 * answers {@code CONFIG cluster 0 LENGTH}, then a version line and one line of nodes, each
 * {@code hostname|ip|port} separated by spaces, then {@code END}. A node is named by its host name
 * (its IP when the name is empty), as every client of the endpoint names it. The answer is read whole
 * and checked; anything else is a failure (the last good list stays).
 */
final class ConfigEndpointSource implements ServerSource {

    /** Bound on the answer: a cluster of thousands of nodes fits. */
    static final int MAX_ANSWER = 1 << 20;

    private final Discovery.ConfigEndpoint source;
    private final int timeoutMillis;

    ConfigEndpointSource(Discovery.ConfigEndpoint source, Duration timeout) {
        this.source = source;
        this.timeoutMillis = (int) Math.max(100, timeout.toMillis());
    }

    @Override
    public Answer lookup() throws IOException {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(source.host(), source.port()), timeoutMillis);
            s.setSoTimeout(timeoutMillis);
            s.getOutputStream().write("config get cluster\r\n".getBytes(StandardCharsets.US_ASCII));
            InputStream in = new BufferedInputStream(s.getInputStream());
            String head = line(in);
            String[] parts = head.split(" ");
            if (parts.length != 4 || !parts[0].equals("CONFIG") || !parts[1].equals("cluster")) {
                throw new IOException(source + " answered '" + head + "'");
            }
            int length = Integer.parseInt(parts[3]);
            if (length < 0 || length > MAX_ANSWER) {
                throw new IOException(source + ": answer of " + length + " bytes");
            }
            byte[] body = in.readNBytes(length);
            if (body.length != length) {
                throw new IOException(source + ": answer cut short");
            }
            String end = line(in);
            if (end.isEmpty()) {
                end = line(in); // the body's own CRLF
            }
            if (!end.equals("END")) {
                throw new IOException(source + ": expected END, got '" + end + "'");
            }
            return new Answer(parse(new String(body, StandardCharsets.US_ASCII)), null);
        } catch (NumberFormatException e) {
            throw new IOException(source + ": bad length", e);
        }
    }

    /** The nodes of a {@code config get cluster} body: a version line, then the node line. */
    static List<ServerAddress> parse(String body) throws IOException {
        String[] lines = body.split("\r?\n");
        if (lines.length < 2) {
            throw new IOException("config get cluster: expected a version and a node line");
        }
        List<ServerAddress> nodes = new ArrayList<>();
        for (String node : lines[1].trim().split(" +")) {
            if (node.isEmpty()) {
                continue;
            }
            String[] f = node.split("\\|", -1);
            if (f.length != 3) {
                throw new IOException("config get cluster: bad node '" + node + "'");
            }
            String host = f[0].isEmpty() ? f[1] : f[0];
            try {
                nodes.add(new ServerAddress(host, Integer.parseInt(f[2]), 1));
            } catch (IllegalArgumentException e) {
                throw new IOException("config get cluster: bad node '" + node + "': " + e.getMessage());
            }
        }
        return nodes;
    }

    private static String line(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int c;
        while ((c = in.read()) != '\n') {
            if (c < 0) {
                throw new IOException("connection closed");
            }
            if (b.size() > 1024) {
                throw new IOException("line too long");
            }
            b.write(c);
        }
        String s = b.toString(StandardCharsets.US_ASCII);
        return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
    }

    @Override
    public String toString() {
        return source.toString();
    }
}
