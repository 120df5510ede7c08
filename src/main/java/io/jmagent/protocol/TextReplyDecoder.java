package io.jmagent.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.CorruptedFrameException;
import io.netty.util.ByteProcessor;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;

/**
 * Frames a memcached server's text replies. Whether the next reply is a retrieval (VALUE blocks
 * closed by END) or a single line depends on the request it answers, which the connection knows:
 * {@code expectingValues} says so for the oldest unanswered request. Lines and values are bounded
 * ({@code maxItemSize}); a server that breaks the framing is a corrupted stream.
 */
public final class TextReplyDecoder extends ByteToMessageDecoder {

    private static final int MAX_LINE = 2048 + TextRequestDecoder.MAX_KEY_LENGTH;

    private final BooleanSupplier expectingValues;
    private final int maxItemSize;
    private List<ServerReply.Value> values;

    public TextReplyDecoder(BooleanSupplier expectingValues, int maxItemSize) {
        this.expectingValues = expectingValues;
        this.maxItemSize = maxItemSize;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        while (in.isReadable()) {
            int start = in.readerIndex();
            int lf = in.forEachByte(start, in.readableBytes(), ByteProcessor.FIND_LF);
            if (lf < 0) {
                if (in.readableBytes() > MAX_LINE) {
                    throw new CorruptedFrameException("server reply line too long");
                }
                return;
            }
            int lineEnd = lf + 1;
            if (!expectingValues.getAsBoolean()) {
                out.add(new ServerReply.Line(in.retainedSlice(start, lineEnd - start)));
                in.readerIndex(lineEnd);
                return; // one reply per call: the next one's shape depends on the request this one answers
            }
            if (startsWith(in, start, "VALUE ")) {
                int blockLength = valueBlockLength(in, start, lf);
                if (in.readableBytes() < blockLength) {
                    return;
                }
                if (in.getByte(start + blockLength - 2) != '\r' || in.getByte(start + blockLength - 1) != '\n') {
                    throw new CorruptedFrameException("server value block not terminated by CRLF");
                }
                if (values == null) {
                    values = new ArrayList<>();
                }
                int keyStart = start + 6;
                int keyEnd = in.forEachByte(keyStart, lf - keyStart, ByteProcessor.FIND_ASCII_SPACE);
                values.add(new ServerReply.Value(in.retainedSlice(start, blockLength), 6, keyEnd - keyStart));
                in.readerIndex(start + blockLength);
            } else if (lineEnd - start == 5 && startsWith(in, start, "END\r\n")) {
                List<ServerReply.Value> hits = values == null ? List.of() : values;
                values = null;
                in.readerIndex(lineEnd);
                out.add(new ServerReply.Values(hits));
                return;
            } else {
                // an error line instead of (or in the middle of) a retrieval: drop partial hits
                releasePartial();
                out.add(new ServerReply.Line(in.retainedSlice(start, lineEnd - start)));
                in.readerIndex(lineEnd);
                return;
            }
        }
    }

    /** Length of "VALUE key flags bytes [cas]\r\n" + data + "\r\n", from the line's bytes field. */
    private int valueBlockLength(ByteBuf in, int start, int lf) {
        int lineEnd = lf;
        if (in.getByte(lineEnd - 1) == '\r') {
            lineEnd--;
        }
        // tokens: VALUE key flags bytes [cas]
        int[] bounds = new int[10];
        int count = 0;
        int s = start;
        for (int i = start; i <= lineEnd && count < 10; i++) {
            if (i == lineEnd || in.getByte(i) == ' ') {
                if (i > s) {
                    bounds[count++] = s;
                    bounds[count++] = i;
                }
                s = i + 1;
            }
        }
        if (count < 8) {
            throw new CorruptedFrameException("malformed VALUE line from server");
        }
        long bytes = 0;
        for (int i = bounds[6]; i < bounds[7]; i++) {
            int d = in.getByte(i) - '0';
            if (d < 0 || d > 9 || bytes > maxItemSize) {
                throw new CorruptedFrameException("bad value length from server");
            }
            bytes = bytes * 10 + d;
        }
        if (bytes > maxItemSize + 1024L * 1024) {
            throw new CorruptedFrameException("value length from server beyond bound");
        }
        return (lf + 1 - start) + (int) bytes + 2;
    }

    private static boolean startsWith(ByteBuf in, int i, String prefix) {
        if (in.writerIndex() - i < prefix.length()) {
            return false;
        }
        for (int k = 0; k < prefix.length(); k++) {
            if (in.getByte(i + k) != prefix.charAt(k)) {
                return false;
            }
        }
        return true;
    }

    private void releasePartial() {
        if (values != null) {
            for (ServerReply.Value v : values) {
                v.block().release();
            }
            values = null;
        }
    }

    @Override
    protected void handlerRemoved0(ChannelHandlerContext ctx) {
        releasePartial();
    }
}
