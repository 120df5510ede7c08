package io.jmagent.testing;

import static java.nio.charset.StandardCharsets.ISO_8859_1;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.HexFormat;

/** One binary-protocol response as read off the wire, every header field kept as sent. */
public record BinaryResponse(
        int magic,
        int opcode,
        int keyLength,
        int extrasLength,
        int datatype,
        int status,
        long bodyLength,
        int opaque,
        long cas,
        byte[] extras,
        byte[] key,
        byte[] value) {

    /** Reads one response; null at a clean end of stream before its first byte. */
    public static BinaryResponse read(InputStream in) throws IOException {
        DataInputStream data = new DataInputStream(in);
        byte[] header = new byte[24];
        int first = in.read();
        if (first < 0) {
            return null;
        }
        header[0] = (byte) first;
        data.readFully(header, 1, 23);
        ByteBuffer h = ByteBuffer.wrap(header);
        int magic = h.get() & 0xff;
        int opcode = h.get() & 0xff;
        int keyLength = h.getShort() & 0xffff;
        int extrasLength = h.get() & 0xff;
        int datatype = h.get() & 0xff;
        int status = h.getShort() & 0xffff;
        long bodyLength = h.getInt() & 0xffffffffL;
        int opaque = h.getInt();
        long cas = h.getLong();
        if (bodyLength > 64 * 1024 * 1024 || extrasLength + keyLength > bodyLength) {
            throw new IOException("not a response header: " + HexFormat.of().formatHex(header));
        }
        byte[] body = new byte[(int) bodyLength];
        try {
            data.readFully(body);
        } catch (EOFException e) {
            throw new IOException("response body cut short: " + HexFormat.of().formatHex(header), e);
        }
        byte[] extras = java.util.Arrays.copyOfRange(body, 0, extrasLength);
        byte[] key = java.util.Arrays.copyOfRange(body, extrasLength, extrasLength + keyLength);
        byte[] value = java.util.Arrays.copyOfRange(body, extrasLength + keyLength, body.length);
        return new BinaryResponse(
                magic, opcode, keyLength, extrasLength, datatype, status, bodyLength, opaque, cas, extras, key, value);
    }

    public String valueText() {
        return new String(value, ISO_8859_1);
    }

    /** The flags of a retrieval response (its 4 extras bytes). */
    public int flags() {
        return ByteBuffer.wrap(extras).getInt();
    }

    /** The counter of an increment/decrement response (its 8 value bytes). */
    public long counter() {
        return ByteBuffer.wrap(value).getLong();
    }

    @Override
    public String toString() {
        return String.format(
                "magic=%02x op=%02x status=%04x opaque=%08x cas=%d datatype=%02x extras=%s key=%s value=%s",
                magic,
                opcode,
                status,
                opaque,
                cas,
                datatype,
                HexFormat.of().formatHex(extras),
                escape(key),
                escape(value));
    }

    /** Printable bytes as they are, the others as \xNN; long values cut at 120 bytes. */
    public static String escape(byte[] bytes) {
        StringBuilder b = new StringBuilder("\"");
        for (int i = 0; i < Math.min(bytes.length, 120); i++) {
            int c = bytes[i] & 0xff;
            if (c >= 0x20 && c < 0x7f && c != '\\' && c != '"') {
                b.append((char) c);
            } else {
                b.append(String.format("\\x%02x", c));
            }
        }
        if (bytes.length > 120) {
            b.append("...(").append(bytes.length).append(" bytes)");
        }
        return b.append('"').toString();
    }
}
