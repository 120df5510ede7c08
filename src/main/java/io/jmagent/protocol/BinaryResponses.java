package io.jmagent.protocol;

import static java.nio.charset.StandardCharsets.US_ASCII;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;

/**
 * Binary-protocol responses (protocol_binary.h), and the translation of a memcached text reply
 * into the binary response memcached itself would have sent for the same request: statuses and
 * error bodies as proto_bin.c writes them ("Not found", "Data exists for key.", ...).
 */
public final class BinaryResponses {

    public static final int RESPONSE_MAGIC = 0x81;

    public static final int SUCCESS = 0x0000;
    public static final int KEY_NOT_FOUND = 0x0001;
    public static final int KEY_EXISTS = 0x0002;
    public static final int TOO_LARGE = 0x0003;
    public static final int INVALID_ARGUMENTS = 0x0004;
    public static final int NOT_STORED = 0x0005;
    public static final int NON_NUMERIC = 0x0006;
    public static final int AUTH_ERROR = 0x0020;
    public static final int AUTH_CONTINUE = 0x0021;
    public static final int UNKNOWN_COMMAND = 0x0081;
    public static final int OUT_OF_MEMORY = 0x0082;
    public static final int NOT_SUPPORTED = 0x0083;
    public static final int INTERNAL_ERROR = 0x0084;
    /** protocol_binary.h: PROTOCOL_BINARY_RESPONSE_EBUSY. */
    public static final int BUSY = 0x0085;
    /** protocol_binary.h: PROTOCOL_BINARY_RESPONSE_ETMPFAIL. */
    public static final int TEMPORARY_FAILURE = 0x0086;

    private BinaryResponses() {}

    /** memcached's body for an error status (proto_bin.c, write_bin_error). */
    public static String errorText(int status) {
        return switch (status) {
            case KEY_NOT_FOUND -> "Not found";
            case KEY_EXISTS -> "Data exists for key.";
            case TOO_LARGE -> "Too large.";
            case INVALID_ARGUMENTS -> "Invalid arguments";
            case NOT_STORED -> "Not stored.";
            case NON_NUMERIC -> "Non-numeric server-side value for incr or decr";
            case AUTH_ERROR -> "Auth failure.";
            case UNKNOWN_COMMAND -> "Unknown command";
            case OUT_OF_MEMORY -> "Out of memory";
            case NOT_SUPPORTED -> "Not supported";
            case BUSY -> "Busy";
            case TEMPORARY_FAILURE -> "Temporary failure";
            default -> "UNHANDLED ERROR";
        };
    }

    /** A response with any of extras, key and value (each may be null; value ownership moves in). */
    public static ByteBuf response(
            ByteBufAllocator alloc,
            int opcode,
            int status,
            int opaque,
            long cas,
            byte[] extras,
            byte[] key,
            ByteBuf value) {
        int extrasLength = extras == null ? 0 : extras.length;
        int keyLength = key == null ? 0 : key.length;
        int valueLength = value == null ? 0 : value.readableBytes();
        ByteBuf head = alloc.buffer(BinaryRequestDecoder.HEADER_LENGTH + extrasLength + keyLength);
        head.writeByte(RESPONSE_MAGIC)
                .writeByte(opcode)
                .writeShort(keyLength)
                .writeByte(extrasLength)
                .writeByte(0)
                .writeShort(status)
                .writeInt(extrasLength + keyLength + valueLength)
                .writeInt(opaque)
                .writeLong(cas);
        if (extras != null) {
            head.writeBytes(extras);
        }
        if (key != null) {
            head.writeBytes(key);
        }
        if (value == null) {
            return head;
        }
        CompositeByteBuf whole = alloc.compositeBuffer(2);
        whole.addComponents(true, head, value);
        return whole;
    }

    public static ByteBuf success(ByteBufAllocator alloc, BinaryRequest r) {
        return success(alloc, r, 0);
    }

    private static ByteBuf success(ByteBufAllocator alloc, BinaryRequest r, long cas) {
        return response(alloc, r.rawOpcode(), SUCCESS, r.opaque(), cas, null, null, null);
    }

    /** An error response with memcached's text for {@code status}, or {@code message} when given. */
    public static ByteBuf error(ByteBufAllocator alloc, BinaryRequest r, int status, String message) {
        byte[] text = (message != null ? message : errorText(status)).getBytes(US_ASCII);
        return response(
                alloc,
                r.rawOpcode(),
                status,
                r.opaque(),
                0,
                null,
                null,
                alloc.buffer(text.length).writeBytes(text));
    }

    /**
     * The binary response to {@code r} given the text reply memcached's text protocol gave for the
     * equivalent command (gets/gats for reads, so the cas is known). Returns null when a quiet
     * command succeeded and nothing is to be sent. Takes ownership of {@code text}. {@code cas} is
     * the cas of the item a storage or arithmetic command's success left (known when a meta command
     * carried it; 0 otherwise), for the response's header.
     */
    public static ByteBuf fromText(ByteBufAllocator alloc, BinaryRequest r, ByteBuf text, long cas) {
        try {
            BinaryOpcode op = r.opcode();
            if (op.isGet() || op.isGat() || op == BinaryOpcode.TOUCH) {
                return retrieval(alloc, r, text);
            }
            String line = firstLine(text);
            int status = statusOf(op, line);
            if (status != SUCCESS) {
                return error(alloc, r, status, status == INTERNAL_ERROR ? serverErrorText(line) : null);
            }
            if (op.quiet()) {
                return null;
            }
            if (op.isArithmetic()) {
                byte[] value = new byte[8];
                long n = Long.parseUnsignedLong(line.trim());
                for (int i = 0; i < 8; i++) {
                    value[i] = (byte) (n >>> (56 - 8 * i));
                }
                return response(
                        alloc,
                        r.rawOpcode(),
                        SUCCESS,
                        r.opaque(),
                        cas,
                        null,
                        null,
                        alloc.buffer(8).writeBytes(value));
            }
            return success(alloc, r, cas);
        } finally {
            text.release();
        }
    }

    /** "VALUE key flags bytes cas\r\n data\r\n END\r\n" or "END\r\n" or an error line. */
    private static ByteBuf retrieval(ByteBufAllocator alloc, BinaryRequest r, ByteBuf text) {
        BinaryOpcode op = r.opcode();
        String line = firstLine(text);
        if (line.equals("END")) {
            if (op.quiet()) {
                return null;
            }
            if (op.returnsKey()) {
                return response(alloc, r.rawOpcode(), KEY_NOT_FOUND, r.opaque(), 0, null, r.clientKey(), null);
            }
            return error(alloc, r, KEY_NOT_FOUND, null);
        }
        if (!line.startsWith("VALUE ")) {
            return error(alloc, r, statusOf(op, line), serverErrorText(line));
        }
        String[] parts = line.split(" ");
        int flags = (int) Long.parseLong(parts[2]);
        int length = Integer.parseInt(parts[3]);
        long cas = parts.length > 4 ? Long.parseUnsignedLong(parts[4]) : 0;
        int dataStart = text.readerIndex() + line.length() + 2;
        byte[] extras = {(byte) (flags >>> 24), (byte) (flags >>> 16), (byte) (flags >>> 8), (byte) flags};
        ByteBuf value = op == BinaryOpcode.TOUCH ? null : text.retainedSlice(dataStart, length);
        return response(
                alloc, r.rawOpcode(), SUCCESS, r.opaque(), cas, extras, op.returnsKey() ? r.clientKey() : null, value);
    }

    private static int statusOf(BinaryOpcode op, String line) {
        switch (line) {
            case "STORED", "DELETED", "TOUCHED", "OK":
                return SUCCESS;
            case "EXISTS":
                return KEY_EXISTS;
            case "NOT_FOUND":
                return KEY_NOT_FOUND;
            case "NOT_STORED":
                if (op == BinaryOpcode.ADD || op == BinaryOpcode.ADDQ) {
                    return KEY_EXISTS;
                }
                if (op == BinaryOpcode.REPLACE || op == BinaryOpcode.REPLACEQ) {
                    return KEY_NOT_FOUND;
                }
                return NOT_STORED;
            case "SERVER_ERROR object too large for cache":
                return TOO_LARGE;
            case "CLIENT_ERROR cannot increment or decrement non-numeric value":
                return NON_NUMERIC;
            default:
                if (line.startsWith("SERVER_ERROR out of memory")) {
                    return OUT_OF_MEMORY;
                }
                if (!line.isEmpty() && Character.isDigit(line.charAt(0))) {
                    return SUCCESS; // incr/decr result
                }
                return INTERNAL_ERROR;
        }
    }

    private static String serverErrorText(String line) {
        return line.startsWith("SERVER_ERROR ") ? line.substring(13) : line;
    }

    private static String firstLine(ByteBuf text) {
        int lf = text.indexOf(text.readerIndex(), text.writerIndex(), (byte) '\n');
        int end = lf < 0 ? text.writerIndex() : lf;
        if (end > text.readerIndex() && text.getByte(end - 1) == '\r') {
            end--;
        }
        return text.toString(text.readerIndex(), end - text.readerIndex(), US_ASCII);
    }
}
