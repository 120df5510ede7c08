package io.jmagent.it;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A raw socket that sends exactly the bytes it is given and reads exactly the replies expected,
 * counting both ways, so a test knows to the byte what the other side read and wrote. Speaks the
 * text protocol ({@link #exchange}, {@link #stats}) or raw binary frames ({@link #binary}).
 */
final class StatsClient implements AutoCloseable {

    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;
    private long sent;
    private long received;
    private long lastCas;

    StatsClient(int port) throws IOException {
        socket = new Socket();
        socket.connect(new InetSocketAddress("127.0.0.1", port), 2000);
        socket.setSoTimeout(10_000);
        socket.setTcpNoDelay(true);
        in = socket.getInputStream();
        out = socket.getOutputStream();
    }

    long sent() {
        return sent;
    }

    long received() {
        return received;
    }

    void send(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
        sent += bytes.length;
    }

    /** Sends {@code request} and reads replies until the text read so far ends with {@code lastLine}. */
    String exchange(String request, String lastLine) throws IOException {
        send(request.getBytes(StandardCharsets.ISO_8859_1));
        return readUntil(lastLine);
    }

    /** Sends a noreply request: nothing comes back. */
    void sendOnly(String request) throws IOException {
        send(request.getBytes(StandardCharsets.ISO_8859_1));
    }

    String readUntil(String ending) throws IOException {
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        byte[] end = ending.getBytes(StandardCharsets.ISO_8859_1);
        while (true) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("closed after " + got);
            }
            got.write(b);
            received++;
            byte[] all = got.toByteArray();
            if (all.length >= end.length
                    && Arrays.equals(all, all.length - end.length, all.length, end, 0, end.length)) {
                return got.toString(StandardCharsets.ISO_8859_1);
            }
        }
    }

    /** {@code stats [group]} as name/value pairs. */
    Map<String, String> stats(String group) throws IOException {
        String reply = exchange(group.isEmpty() ? "stats\r\n" : "stats " + group + "\r\n", "END\r\n");
        Map<String, String> m = new LinkedHashMap<>();
        for (String line : reply.split("\r\n")) {
            if (line.startsWith("STAT ")) {
                int space = line.indexOf(' ', 5);
                m.put(line.substring(5, space), line.substring(space + 1));
            }
        }
        return m;
    }

    /** Sends one binary request frame. */
    void binary(int opcode, String key, byte[] extras, String value, long cas) throws IOException {
        byte[] k = key.getBytes(StandardCharsets.ISO_8859_1);
        byte[] v = value.getBytes(StandardCharsets.ISO_8859_1);
        int body = extras.length + k.length + v.length;
        byte[] frame = new byte[24 + body];
        frame[0] = (byte) 0x80;
        frame[1] = (byte) opcode;
        frame[2] = (byte) (k.length >> 8);
        frame[3] = (byte) k.length;
        frame[4] = (byte) extras.length;
        frame[8] = (byte) (body >> 24);
        frame[9] = (byte) (body >> 16);
        frame[10] = (byte) (body >> 8);
        frame[11] = (byte) body;
        for (int i = 0; i < 8; i++) {
            frame[16 + i] = (byte) (cas >>> (56 - 8 * i));
        }
        System.arraycopy(extras, 0, frame, 24, extras.length);
        System.arraycopy(k, 0, frame, 24 + extras.length, k.length);
        System.arraycopy(v, 0, frame, 24 + extras.length + k.length, v.length);
        send(frame);
    }

    /** A binary-protocol stat request for {@code group}: one response per stat, closed by one with an empty key. */
    Map<String, String> binaryStats(String group) throws IOException {
        binary(0x10, group, new byte[0], "", 0);
        Map<String, String> m = new LinkedHashMap<>();
        while (true) {
            byte[] header = in.readNBytes(24);
            int keyLength = ((header[2] & 0xff) << 8) | (header[3] & 0xff);
            int extras = header[4] & 0xff;
            int body = ((header[8] & 0xff) << 24)
                    | ((header[9] & 0xff) << 16)
                    | ((header[10] & 0xff) << 8)
                    | (header[11] & 0xff);
            byte[] rest = in.readNBytes(body);
            received += 24 + rest.length;
            if (keyLength == 0) {
                return m;
            }
            m.put(
                    new String(rest, extras, keyLength, StandardCharsets.ISO_8859_1),
                    new String(rest, extras + keyLength, body - extras - keyLength, StandardCharsets.ISO_8859_1));
        }
    }

    /** The cas of the last binary response read. */
    long lastCas() {
        return lastCas;
    }

    /** Reads one binary response; returns its status. */
    int binaryResponse() throws IOException {
        byte[] header = in.readNBytes(24);
        if (header.length < 24) {
            throw new IOException("closed");
        }
        int body = ((header[8] & 0xff) << 24)
                | ((header[9] & 0xff) << 16)
                | ((header[10] & 0xff) << 8)
                | (header[11] & 0xff);
        byte[] rest = in.readNBytes(body);
        received += 24 + rest.length;
        lastCas = java.nio.ByteBuffer.wrap(header, 16, 8).getLong();
        return ((header[6] & 0xff) << 8) | (header[7] & 0xff);
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
