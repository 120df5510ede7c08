package io.jmagent.protocol;

import io.netty.buffer.ByteBuf;
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
    }

    /** The hits of a retrieval, in the server's order, without the closing {@code END}. */
    record Values(List<Value> values) implements ServerReply {
        @Override
        public void release() {
            for (Value v : values) {
                v.block().release();
            }
        }
    }

    /**
     * One hit: {@code block} is the whole "VALUE key flags bytes [cas]\r\n data\r\n" as the server
     * sent it; the key sits at {@code keyOffset} within it.
     */
    record Value(ByteBuf block, int keyOffset, int keyLength) {
        public boolean keyEquals(byte[] key) {
            if (key.length != keyLength) {
                return false;
            }
            int base = block.readerIndex() + keyOffset;
            for (int i = 0; i < keyLength; i++) {
                if (block.getByte(base + i) != key[i]) {
                    return false;
                }
            }
            return true;
        }
    }
}
