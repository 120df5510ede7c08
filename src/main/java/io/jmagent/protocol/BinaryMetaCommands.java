package io.jmagent.protocol;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static java.nio.charset.StandardCharsets.US_ASCII;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;

/**
 * The meta commands (protocol.txt, "Meta Commands") that carry a binary request to a memcached
 * 1.6 server where the text commands cannot: a cas compared on delete, incr, decr, append and
 * prepend ({@code C}), and the cas of the item a storage or arithmetic command leaves, returned by
 * the {@code c} flag of ms and ma. They are sent without {@code q} (the binary session keeps quiet
 * successes silent itself), and each reply is read back as the reply the text command would have
 * got, with that cas ({@link #read}). The key goes as the client's bytes, or in base64 with the
 * {@code b} flag when the text protocol cannot carry it ({@link TextKeys}): every command on such a
 * key goes as a meta command, retrievals too ({@link #get}). Like a client's meta
 * command, each reaches the server followed by {@code mn} and its reply is what came before the MN
 * ({@link ReplyShape#META_UNTIL_MN}).
 */
public final class BinaryMetaCommands {

    private BinaryMetaCommands() {}

    /** The text reply a meta reply stands for (owned by the holder), and the cas it carried, 0 if none. */
    public record Reply(ByteBuf text, long cas) {}

    /** {@code md <key> C<cas>}: deletes only while the item's cas is {@code r.cas()} (any item with cas 0). */
    public static MetaRequest delete(ByteBufAllocator alloc, BinaryRequest r) {
        return request(
                alloc,
                MetaRequest.Kind.DELETE,
                r,
                "md",
                r.cas() == 0 ? "" : "C" + Long.toUnsignedString(r.cas()),
                null,
                false,
                null);
    }

    /**
     * {@code mg <key> v f c} for a binary get (with {@code T<ttl>} for a gat; a touch without
     * {@code v}), read back by {@link #readRetrieval}. Counted as a meta get is (cmd_get, or
     * cmd_touch for a hit that touched). A touch also reaches the backup's copy ({@code mirrorLine}).
     */
    public static MetaRequest get(ByteBufAllocator alloc, BinaryRequest r, Integer touchExptime) {
        BinaryOpcode op = r.opcode();
        String flags = (op == BinaryOpcode.TOUCH ? "f c" : "v f c") + (touchExptime == null ? "" : " T" + touchExptime);
        ByteBuf mirror = touchExptime == null
                ? null
                : Unpooled.copiedBuffer(
                        "mg " + TextKeys.metaToken(r.key()) + " T" + touchExptime + " q\r\n", ISO_8859_1);
        return new MetaRequest(
                MetaRequest.Kind.GET,
                r.key(),
                keyToken(r.key()),
                !TextKeys.carries(r.key()),
                false,
                false,
                touchExptime == null ? MetaRequest.Counter.GET : MetaRequest.Counter.GET_TOUCHING,
                line(alloc, "mg", r.key(), flags),
                null,
                mirror);
    }

    /**
     * The reply to {@link #get} as the reply to the text gets it stands for: "VALUE - flags bytes
     * cas" and the data, then END (the key is the request's, so it is not repeated), END for EN,
     * an error line as it is. Takes ownership of {@code meta}.
     */
    public static ByteBuf readRetrieval(ByteBuf meta) {
        try {
            int end = firstLineEnd(meta);
            String line = firstLine(meta, end);
            String[] tokens = line.split(" ");
            if (tokens[0].equals("EN")) {
                return Unpooled.copiedBuffer("END\r\n", US_ASCII);
            }
            if (!tokens[0].equals("VA") && !tokens[0].equals("HD")) {
                return Unpooled.copiedBuffer(line + "\r\n", US_ASCII);
            }
            int length = tokens[0].equals("VA") ? Integer.parseInt(tokens[1]) : 0;
            String flags = "0";
            String cas = "0";
            for (int i = tokens[0].equals("VA") ? 2 : 1; i < tokens.length; i++) {
                if (tokens[i].startsWith("f")) {
                    flags = tokens[i].substring(1);
                } else if (tokens[i].startsWith("c")) {
                    cas = tokens[i].substring(1);
                }
            }
            ByteBuf text = Unpooled.buffer(length + 48);
            text.writeCharSequence("VALUE - " + flags + " " + length + " " + cas + "\r\n", US_ASCII);
            if (length > 0) {
                text.writeBytes(meta, end + 1, length);
            }
            text.writeCharSequence("\r\nEND\r\n", US_ASCII);
            return text;
        } finally {
            meta.release();
        }
    }

    /** {@code ma <key> MI|MD D<delta> v c [C<cas>]}: the new value and cas; NF on a miss (no auto-create). */
    public static MetaRequest arithmetic(ByteBufAllocator alloc, BinaryRequest r) {
        boolean increment = r.opcode() == BinaryOpcode.INCREMENT || r.opcode() == BinaryOpcode.INCREMENTQ;
        String flags = (increment ? "MI" : "MD") + " D" + Long.toUnsignedString(r.delta()) + " v c" + casFlag(r);
        return request(alloc, MetaRequest.Kind.ARITHMETIC, r, "ma", flags, null, r.cas() == 0, null);
    }

    /**
     * {@code ms <key> <len> M<mode> [F<flags> T<ttl>] c [C<cas>]} for a binary storage command of
     * {@code kind} (CAS: a set, add or replace with a cas, which memcached's binary protocol treats
     * as a cas). Append and prepend keep the item's flags and expiration, so send neither. A plain
     * set is mirrored on the backup as itself; a cas, add or replace as a plain set of the value.
     */
    public static MetaRequest store(ByteBufAllocator alloc, BinaryRequest r, StoreRequest.Kind kind) {
        boolean concat = kind == StoreRequest.Kind.APPEND || kind == StoreRequest.Kind.PREPEND;
        String mode =
                switch (kind) {
                    case SET, CAS -> "MS";
                    case ADD -> "ME";
                    case REPLACE -> "MR";
                    case APPEND -> "MA";
                    case PREPEND -> "MP";
                };
        String length = Integer.toString(r.value().readableBytes());
        String item = concat ? "" : " F" + Integer.toUnsignedString(r.flags()) + " T" + r.textExptime();
        boolean plainSet = kind == StoreRequest.Kind.SET;
        return request(
                alloc,
                MetaRequest.Kind.SET,
                r,
                "ms",
                length + " " + mode + item + " c" + casFlag(r),
                r.value(),
                plainSet,
                plainSet || concat ? null : length + item);
    }

    /**
     * {@code ms <key> <len> ME F0 T<ttl> c}: adds the counter a binary incr/decr of a missing key
     * creates, holding {@code initial} (ownership moves in); mirrored on the backup as a plain set.
     */
    public static MetaRequest createCounter(ByteBufAllocator alloc, BinaryRequest r, ByteBuf initial) {
        String length = Integer.toString(initial.readableBytes());
        String item = " F0 T" + r.textExptime();
        return request(
                alloc, MetaRequest.Kind.SET, r, "ms", length + " ME" + item + " c", initial, false, length + item);
    }

    private static String casFlag(BinaryRequest r) {
        return r.cas() == 0 ? "" : " C" + Long.toUnsignedString(r.cas());
    }

    /** {@code plain}: see {@link MetaRequest}; {@code mirrorFlags}, when not null, are those of a plain-set ms for the backup. */
    private static MetaRequest request(
            ByteBufAllocator alloc,
            MetaRequest.Kind kind,
            BinaryRequest r,
            String command,
            String flags,
            ByteBuf value,
            boolean plain,
            String mirrorFlags) {
        byte[] key = r.key();
        // counted by the binary session as the request's text equivalent, not as a meta command
        return new MetaRequest(
                kind,
                key,
                keyToken(key),
                !TextKeys.carries(key),
                false,
                plain,
                MetaRequest.Counter.NONE,
                line(alloc, command, key, flags),
                value,
                mirrorFlags == null ? null : line(alloc, "ms", key, mirrorFlags));
    }

    /** The key as it stands on the line: its bytes, or its base64 (then the line has the b flag). */
    private static String keyToken(byte[] key) {
        return TextKeys.carries(key) ? new String(key, ISO_8859_1) : TextKeys.base64(key);
    }

    private static ByteBuf line(ByteBufAllocator alloc, String command, byte[] key, String flags) {
        ByteBuf line = alloc.buffer(command.length() + key.length * 4 / 3 + flags.length() + 12);
        line.writeBytes(command.getBytes(US_ASCII)).writeByte(' ');
        boolean base64 = !TextKeys.carries(key);
        line.writeBytes(base64 ? TextKeys.base64(key).getBytes(US_ASCII) : key);
        if (!flags.isEmpty()) {
            line.writeByte(' ').writeBytes(flags.getBytes(US_ASCII)); // an ms's data length first
        }
        if (base64) {
            line.writeBytes(" b".getBytes(US_ASCII));
        }
        return line.writeByte('\r').writeByte('\n');
    }

    /**
     * Reads the reply to one of these commands as the text reply its text equivalent gets: HD is
     * STORED (DELETED for md), NS NOT_STORED, EX EXISTS, NF NOT_FOUND, an ma's VA its number; an
     * error line stays as it is. Takes ownership of {@code meta}.
     */
    public static Reply read(MetaRequest.Kind kind, ByteBuf meta) {
        try {
            int end = firstLineEnd(meta);
            String line = firstLine(meta, end);
            String[] tokens = line.split(" ");
            String text;
            int firstFlag = 1;
            switch (tokens[0]) {
                case "HD" -> text = kind == MetaRequest.Kind.DELETE ? "DELETED" : "STORED";
                case "NS" -> text = "NOT_STORED";
                case "EX" -> text = "EXISTS";
                case "NF" -> text = "NOT_FOUND";
                case "VA" -> {
                    text = meta.toString(end + 1, Integer.parseInt(tokens[1]), US_ASCII);
                    firstFlag = 2;
                }
                default -> {
                    return new Reply(Unpooled.copiedBuffer(line + "\r\n", US_ASCII), 0);
                }
            }
            long cas = 0;
            for (int i = firstFlag; i < tokens.length; i++) {
                if (tokens[i].length() > 1 && tokens[i].charAt(0) == 'c') {
                    cas = Long.parseUnsignedLong(tokens[i], 1, tokens[i].length(), 10);
                }
            }
            return new Reply(Unpooled.copiedBuffer(text + "\r\n", US_ASCII), cas);
        } finally {
            meta.release();
        }
    }

    /** Where the reply's first line ends: its LF, or the end of the reply. */
    private static int firstLineEnd(ByteBuf meta) {
        int lf = meta.indexOf(meta.readerIndex(), meta.writerIndex(), (byte) '\n');
        return lf < 0 ? meta.writerIndex() : lf;
    }

    /** The reply's first line, without its line end. */
    private static String firstLine(ByteBuf meta, int end) {
        return meta.toString(meta.readerIndex(), end - meta.readerIndex(), US_ASCII)
                .stripTrailing();
    }
}
