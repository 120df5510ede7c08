package io.jmagent.routing;

import io.jmagent.protocol.ArithmeticRequest;
import io.jmagent.protocol.DeleteRequest;
import io.jmagent.protocol.RetrievalRequest;
import io.jmagent.protocol.StoreRequest;
import io.jmagent.protocol.TextReplies;
import io.jmagent.protocol.TouchRequest;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import java.util.List;

/**
 * Encodes requests in memcached's text protocol for a server. {@code noreply} is never sent:
 * the proxy reads every reply so that replies stay matched to requests.
 */
final class TextEncoder {

    private static final ByteBuf CRLF = Unpooled.unreleasableBuffer(
            Unpooled.directBuffer(2).writeBytes(TextReplies.CRLF)).asReadOnly();

    private TextEncoder() {
    }

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
        ByteBuf line = alloc.buffer(r.key().length + 64);
        ByteBufUtil.writeAscii(line, r.kind().command());
        line.writeByte(' ').writeBytes(r.key()).writeByte(' ');
        ByteBufUtil.writeAscii(line, Integer.toUnsignedString(r.flags()));
        line.writeByte(' ');
        ByteBufUtil.writeAscii(line, Integer.toString(r.exptime()));
        line.writeByte(' ');
        ByteBufUtil.writeAscii(line, Integer.toString(r.value().readableBytes()));
        if (r.kind() == StoreRequest.Kind.CAS) {
            line.writeByte(' ');
            ByteBufUtil.writeAscii(line, Long.toUnsignedString(r.cas()));
        }
        line.writeBytes(TextReplies.CRLF);
        CompositeByteBuf whole = alloc.compositeBuffer(3);
        whole.addComponents(true, line, r.value(), CRLF.duplicate());
        return whole;
    }

    static ByteBuf delete(ByteBufAllocator alloc, DeleteRequest r) {
        return keyCommand(alloc, "delete", r.key(), null);
    }

    static ByteBuf delete(ByteBufAllocator alloc, byte[] key) {
        return keyCommand(alloc, "delete", key, null);
    }

    static ByteBuf arithmetic(ByteBufAllocator alloc, ArithmeticRequest r) {
        return keyCommand(alloc, r.increment() ? "incr" : "decr", r.key(), Long.toUnsignedString(r.delta()));
    }

    static ByteBuf touch(ByteBufAllocator alloc, TouchRequest r) {
        return keyCommand(alloc, "touch", r.key(), Integer.toString(r.exptime()));
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
