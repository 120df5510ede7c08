package io.jmagent.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.CompositeByteBuf;
import io.netty.util.concurrent.FastThreadLocal;
import java.util.Arrays;
import java.util.List;

/**
 * A memcached server's reply to one request, framed by {@link TextReplyDecoder}. Every reply
 * holds retained slices of the bytes it arrived in; whoever receives it releases it.
 */
public sealed interface ServerReply permits ServerReply.Line, ServerReply.Values {

    void release();

    /** A one-line reply ({@code STORED}, {@code 42}, {@code SERVER_ERROR ...}), CRLF included. */
    record Line(ByteBuf line) implements ServerReply {
        @Override
        public void release() {
            line.release();
        }

        public boolean is(byte[] expected) {
            if (line.readableBytes() != expected.length) {
                return false;
            }
            for (int i = 0; i < expected.length; i++) {
                if (line.getByte(line.readerIndex() + i) != expected[i]) {
                    return false;
                }
            }
            return true;
        }

        /** The line without its CRLF, for logs and comparisons. */
        public String text() {
            int n = line.readableBytes();
            while (n > 0
                    && (line.getByte(line.readerIndex() + n - 1) == '\n'
                            || line.getByte(line.readerIndex() + n - 1) == '\r')) {
                n--;
            }
            return line.toString(line.readerIndex(), n, java.nio.charset.StandardCharsets.ISO_8859_1);
        }
    }

    /**
     * The hits of a retrieval, in the server's order, without the closing {@code END} (text get)
     * or {@code MN} (a pipeline of quiet meta gets).
     */
    record Values(List<Value> values) implements ServerReply {
        @Override
        public void release() {
            for (Value v : values) {
                v.release();
            }
        }
    }

    /**
     * One hit. From a text get, {@code buf} is the whole "VALUE key flags bytes [cas]\r\n data\r\n"
     * block as the server sent it and only the key is located in it; from a meta get
     * ({@code mg key v f t k c}), {@code buf} is the data alone and flags, TTL and cas are parsed.
     */
    final class Value {
        /** Room for the longest key asked for (equal lengths are compared only), per event loop. */
        private static final FastThreadLocal<byte[]> KEY_SCRATCH = new FastThreadLocal<>() {
            @Override
            protected byte[] initialValue() {
                return new byte[TextRequestDecoder.MAX_KEY_LENGTH];
            }
        };

        private ByteBuf buf;
        private final boolean textBlock;
        private final int keyOffset;
        private final int keyLength;
        private final byte[] key;
        private final int flags;
        private final int ttl;
        private final long cas;

        private Value(
                ByteBuf buf,
                boolean textBlock,
                int keyOffset,
                int keyLength,
                byte[] key,
                int flags,
                int ttl,
                long cas) {
            this.buf = buf;
            this.textBlock = textBlock;
            this.keyOffset = keyOffset;
            this.keyLength = keyLength;
            this.key = key;
            this.flags = flags;
            this.ttl = ttl;
            this.cas = cas;
        }

        static Value textBlock(ByteBuf block, int keyOffset, int keyLength) {
            return new Value(block, true, keyOffset, keyLength, null, 0, 0, 0);
        }

        static Value meta(ByteBuf data, byte[] key, int flags, int ttl, long cas) {
            return new Value(data, false, 0, key.length, key, flags, ttl, cas);
        }

        public boolean keyEquals(byte[] other) {
            if (other.length != keyLength) {
                return false;
            }
            if (key != null) {
                return Arrays.equals(key, other);
            }
            // one bulk copy and a vectorised compare, not a bounds-checked read per byte or long
            byte[] scratch = keyLength <= TextRequestDecoder.MAX_KEY_LENGTH ? KEY_SCRATCH.get() : new byte[keyLength];
            buf.getBytes(buf.readerIndex() + keyOffset, scratch, 0, keyLength);
            return Arrays.equals(scratch, 0, keyLength, other, 0, keyLength);
        }

        /** The key this hit is for. */
        public byte[] key() {
            if (key != null) {
                return key;
            }
            byte[] k = new byte[keyLength];
            buf.getBytes(buf.readerIndex() + keyOffset, k);
            return k;
        }

        /** The bytes held: the whole VALUE block of a text hit, the data of a meta hit (not retained). */
        ByteBuf buffer() {
            return buf;
        }

        /** True for a meta hit, whose flags, TTL, cas and data are known separately. */
        public boolean isMeta() {
            return !textBlock;
        }

        /** The client flags: parsed by the decoder for a meta hit, read from the VALUE line otherwise. */
        public int flags() {
            if (!textBlock) {
                return flags;
            }
            int lf = headerEnd();
            // VALUE <key> <flags> <bytes>: flags start after the key and one space
            int i = buf.readerIndex() + keyOffset + keyLength + 1;
            long v = 0;
            for (; i < lf && buf.getByte(i) != ' '; i++) {
                v = v * 10 + (buf.getByte(i) - '0');
            }
            return (int) v;
        }

        private int headerEnd() {
            return buf.indexOf(buf.readerIndex(), buf.writerIndex(), (byte) '\n');
        }

        /** Remaining time to live in seconds, -1 for none (meta hits only). */
        public int ttl() {
            return ttl;
        }

        public long cas() {
            return cas;
        }

        /** The data bytes (not retained): all of a meta hit's buffer, or the body of a VALUE block. */
        public ByteBuf data() {
            if (!textBlock) {
                return buf;
            }
            int start = headerEnd() + 1;
            return buf.slice(start, buf.writerIndex() - 2 - start);
        }

        /**
         * This hit as the text protocol's VALUE block for {@code key}; ownership of the bytes moves
         * to the result and this value is spent.
         */
        public ByteBuf takeTextBlock(ByteBufAllocator alloc, byte[] requestedKey, boolean withCas) {
            ByteBuf b = buf;
            buf = null;
            if (textBlock) {
                return b;
            }
            ByteBuf header = alloc.buffer(requestedKey.length + 48);
            ByteBufUtil.writeAscii(header, "VALUE ");
            header.writeBytes(requestedKey).writeByte(' ');
            ByteBufUtil.writeAscii(header, Integer.toUnsignedString(flags));
            header.writeByte(' ');
            ByteBufUtil.writeAscii(header, Integer.toString(b.readableBytes()));
            if (withCas) {
                header.writeByte(' ');
                ByteBufUtil.writeAscii(header, Long.toUnsignedString(cas));
            }
            header.writeBytes(TextReplies.CRLF);
            CompositeByteBuf block = alloc.compositeBuffer(3);
            block.addComponents(true, header, b, TextReplies.CRLF_BUFFER.duplicate());
            return block;
        }

        public void release() {
            if (buf != null) {
                buf.release();
                buf = null;
            }
        }
    }
}
