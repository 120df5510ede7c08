package io.jmagent.routing;

import io.jmagent.protocol.ArithmeticRequest;
import io.jmagent.protocol.DeleteRequest;
import io.jmagent.protocol.RetrievalRequest;
import io.jmagent.protocol.ServerReply;
import io.jmagent.protocol.StoreRequest;
import io.jmagent.protocol.TextKeys;
import io.jmagent.protocol.TextReplies;
import io.jmagent.protocol.TextRequestDecoder;
import io.jmagent.protocol.TouchRequest;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Encodes requests in memcached's text protocol for a server. {@code noreply} is never sent:
 * the proxy reads every reply so that replies stay matched to requests.
 */
final class TextEncoder {

    private static final ByteBuf CRLF = Unpooled.unreleasableBuffer(
                    Unpooled.directBuffer(2).writeBytes(TextReplies.CRLF))
            .asReadOnly();

    /** Values up to this size are copied into the command's buffer rather than referenced. */
    private static final int SMALL_VALUE = 512;

    private static final byte[] META_HD = "HD\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] META_NF = "NF\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] META_NS = "NS\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] META_EX = "EX\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] EXISTS = "EXISTS\r\n".getBytes(StandardCharsets.US_ASCII);

    private TextEncoder() {}

    /** "get|gets|gat|gats [exptime] k1 k2 ...\r\n" for {@code keys}. */
    static ByteBuf retrieval(ByteBufAllocator alloc, RetrievalRequest r, List<byte[]> keys) {
        ByteBuf b = alloc.buffer(retrievalLineLength(r, keys));
        ByteBufUtil.writeAscii(b, r.kind().command());
        if (r.kind().touching()) {
            b.writeByte(' ');
            ByteBufUtil.writeAscii(b, Integer.toString(r.exptime()));
        }
        for (byte[] k : keys) {
            b.writeByte(' ').writeBytes(k);
        }
        return b.writeBytes(TextReplies.CRLF);
    }

    /**
     * One server's keys of {@code request} (their indexes) as commands: one for get/gets, whose
     * lines memcached lets grow without bound; gat/gats cut at
     * {@value TextRequestDecoder#MAX_COMMAND_LINE} bytes, past which memcached drops the connection.
     */
    static List<List<Integer>> retrievalCommands(RetrievalRequest request, List<Integer> indexes) {
        if (!request.kind().touching()) {
            return List.of(indexes);
        }
        List<List<Integer>> commands = new ArrayList<>();
        int base = retrievalLineLength(request, List.of());
        List<Integer> current = new ArrayList<>();
        int length = base;
        for (int i : indexes) {
            int add = 1 + request.keys().get(i).length;
            if (!current.isEmpty() && length + add > TextRequestDecoder.MAX_COMMAND_LINE) {
                commands.add(current);
                current = new ArrayList<>();
                length = base;
            }
            current.add(i);
            length += add;
        }
        commands.add(current);
        return commands;
    }

    /** The exact length of {@link #retrieval}'s line, CRLF included. */
    static int retrievalLineLength(RetrievalRequest r, List<byte[]> keys) {
        int size = r.kind().command().length() + 2;
        if (r.kind().touching()) {
            size += 1 + Integer.toString(r.exptime()).length();
        }
        for (byte[] k : keys) {
            size += k.length + 1;
        }
        return size;
    }

    /** The command line, the value (ownership taken) and the closing CRLF, as one buffer. */
    static ByteBuf store(ByteBufAllocator alloc, StoreRequest r) {
        return store(alloc, r.kind(), r.key(), r.flags(), r.exptime(), r.cas(), r.value());
    }

    /** A storage command of any kind; takes ownership of {@code value}. */
    static ByteBuf store(
            ByteBufAllocator alloc,
            StoreRequest.Kind kind,
            byte[] key,
            int flags,
            int exptime,
            long cas,
            ByteBuf value) {
        ByteBuf line =
                alloc.buffer(key.length + 64 + (value.readableBytes() <= SMALL_VALUE ? value.readableBytes() + 2 : 0));
        ByteBufUtil.writeAscii(line, kind.command());
        line.writeByte(' ').writeBytes(key).writeByte(' ');
        ByteBufUtil.writeAscii(line, Integer.toUnsignedString(flags));
        line.writeByte(' ');
        ByteBufUtil.writeAscii(line, Integer.toString(exptime));
        line.writeByte(' ');
        ByteBufUtil.writeAscii(line, Integer.toString(value.readableBytes()));
        if (kind == StoreRequest.Kind.CAS) {
            line.writeByte(' ');
            ByteBufUtil.writeAscii(line, Long.toUnsignedString(cas));
        }
        line.writeBytes(TextReplies.CRLF);
        if (value.readableBytes() <= SMALL_VALUE) {
            // one buffer beats a composite of three for small values (fewer objects, one iovec)
            line.writeBytes(value, value.readerIndex(), value.readableBytes()).writeBytes(TextReplies.CRLF);
            value.release();
            return line;
        }
        CompositeByteBuf whole = alloc.compositeBuffer(3);
        whole.addComponents(true, line, value, CRLF.duplicate());
        return whole;
    }

    /**
     * Quiet meta gets of {@code keys} closed by mn, asking for value, flags, remaining TTL, key
     * and cas; {@code touchExptime}, when not null, also sets the TTL (gat).
     */
    static ByteBuf metaGets(ByteBufAllocator alloc, List<byte[]> keys, Integer touchExptime) {
        int size = 4;
        for (byte[] k : keys) {
            size += k.length * 4 / 3 + 40;
        }
        ByteBuf b = alloc.buffer(size);
        for (byte[] k : keys) {
            ByteBufUtil.writeAscii(b, "mg ");
            if (TextKeys.carries(k)) {
                b.writeBytes(k);
            } else {
                ByteBufUtil.writeAscii(b, TextKeys.metaToken(k)); // the hit's k comes back in base64, with b
            }
            ByteBufUtil.writeAscii(b, " v f t k c q");
            if (touchExptime != null) {
                ByteBufUtil.writeAscii(b, " T" + touchExptime);
            }
            b.writeBytes(TextReplies.CRLF);
        }
        ByteBufUtil.writeAscii(b, "mn\r\n");
        return b;
    }

    /**
     * A copy of an item stored by the proxy itself (a write-back, a rebuilt or refilled copy): the
     * text command, or for a key the text protocol cannot carry ({@link TextKeys}) the same as an
     * ms with the key in base64, whose answers {@link #stored} and {@link #notStored} read alike.
     * Kinds: SET, ADD, CAS. Takes ownership of {@code value}.
     */
    static ByteBuf copyStore(
            ByteBufAllocator alloc,
            StoreRequest.Kind kind,
            byte[] key,
            int flags,
            int exptime,
            long cas,
            ByteBuf value) {
        if (TextKeys.carries(key)) {
            return store(alloc, kind, key, flags, exptime, cas, value);
        }
        String mode =
                switch (kind) {
                    case ADD -> " ME";
                    case SET, CAS -> " MS";
                    default -> throw new IllegalArgumentException("not a copy: " + kind);
                };
        String line = "ms " + TextKeys.base64(key) + " " + value.readableBytes() + " b F"
                + Integer.toUnsignedString(flags) + " T" + exptime + mode
                + (kind == StoreRequest.Kind.CAS ? " C" + Long.toUnsignedString(cas) : "") + "\r\n";
        CompositeByteBuf whole = alloc.compositeBuffer(3);
        whole.addComponents(true, Unpooled.copiedBuffer(line, StandardCharsets.US_ASCII), value, CRLF.duplicate());
        return whole;
    }

    /** A {@link #copyStore} the server took: STORED, or the meta form's HD. */
    static boolean stored(ServerReply reply) {
        return reply instanceof ServerReply.Line l && (l.is(TextReplies.STORED) || l.is(META_HD));
    }

    /** A {@link #copyStore} the server refused as it holds the key (add) or it changed (cas): NOT_STORED, EXISTS, NS, EX. */
    static boolean notStored(ServerReply reply) {
        return reply instanceof ServerReply.Line l
                && (l.is(TextReplies.NOT_STORED) || l.is(EXISTS) || l.is(META_NS) || l.is(META_EX));
    }

    /** md of {@code key} if its cas is still {@code cas}, closed by mn (answered HD, NF or EX, then MN). */
    static ByteBuf metaDeleteIfCas(byte[] key, long cas) {
        return Unpooled.copiedBuffer(
                "md " + TextKeys.metaToken(key) + " C" + Long.toUnsignedString(cas) + "\r\nmn\r\n",
                StandardCharsets.ISO_8859_1);
    }

    static ByteBuf touch(ByteBufAllocator alloc, byte[] key, int exptime) {
        return keyCommand(alloc, "touch", key, Integer.toString(exptime));
    }

    static ByteBuf delete(ByteBufAllocator alloc, DeleteRequest r) {
        return keyCommand(alloc, "delete", r.key(), null);
    }

    static ByteBuf delete(ByteBufAllocator alloc, byte[] key) {
        return keyCommand(alloc, "delete", key, null);
    }

    /** A delete of any key: {@code delete}, or {@code md} with the key in base64 where no text line carries it. */
    static ByteBuf deleteAnyKey(ByteBufAllocator alloc, byte[] key) {
        return TextKeys.carries(key) ? delete(alloc, key) : line(alloc, "md " + TextKeys.base64(key) + " b");
    }

    /** A {@link #deleteAnyKey} the server answered: the key is gone (DELETED, NOT_FOUND, HD, NF). */
    static boolean gone(ServerReply reply) {
        return reply instanceof ServerReply.Line l
                && (l.is(TextReplies.DELETED) || l.is(TextReplies.NOT_FOUND) || l.is(META_HD) || l.is(META_NF));
    }

    static ByteBuf arithmetic(ByteBufAllocator alloc, ArithmeticRequest r) {
        return keyCommand(alloc, r.increment() ? "incr" : "decr", r.key(), Long.toUnsignedString(r.delta()));
    }

    static ByteBuf touch(ByteBufAllocator alloc, TouchRequest r) {
        return touch(alloc, r.key(), r.exptime());
    }

    static ByteBuf line(ByteBufAllocator alloc, String line) {
        ByteBuf b = alloc.buffer(line.length() + 2);
        ByteBufUtil.writeAscii(b, line);
        return b.writeBytes(TextReplies.CRLF);
    }

    private static ByteBuf keyCommand(ByteBufAllocator alloc, String command, byte[] key, String argument) {
        ByteBuf b = alloc.buffer(command.length() + key.length + 26);
        ByteBufUtil.writeAscii(b, command);
        b.writeByte(' ').writeBytes(key);
        if (argument != null) {
            b.writeByte(' ');
            ByteBufUtil.writeAscii(b, argument);
        }
        return b.writeBytes(TextReplies.CRLF);
    }
}
