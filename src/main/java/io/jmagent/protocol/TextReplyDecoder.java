package io.jmagent.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.CorruptedFrameException;
import io.netty.util.ByteProcessor;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.function.Supplier;

/**
 * Frames a memcached server's replies. The shape of the next reply depends on the request it
 * answers, which the connection knows: {@code nextShape} gives it for the oldest unanswered
 * request, so exactly one reply is framed per {@link #decode} call. Lines and values are bounded;
 * a server that breaks the framing is a corrupted stream and its connection is closed.
 */
public final class TextReplyDecoder extends ByteToMessageDecoder {

    private static final int MAX_LINE = 2048 + TextRequestDecoder.MAX_KEY_LENGTH;

    private final Supplier<ReplyShape> nextShape;
    private final long maxValueLength;
    private List<ServerReply.Value> values;
    private final Tokens tokens = new Tokens();

    public TextReplyDecoder(Supplier<ReplyShape> nextShape, int maxItemSize) {
        this.nextShape = nextShape;
        // a server may hold values up to its own -I; accept some slack over the proxy's limit
        this.maxValueLength = maxItemSize + 1024L * 1024;
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
            ReplyShape shape = nextShape.get();
            if (shape == ReplyShape.META_UNTIL_MN) {
                int end = untilMn(in, start);
                if (end < 0) {
                    return;
                }
                // MN\r\n stays behind: the client gets what came before it
                out.add(new ServerReply.Line(in.retainedSlice(start, end - 4 - start)));
                in.readerIndex(end);
                return;
            }
            if (shape == ReplyShape.WHOLE_VALUES) {
                readWhole(in, start, lf, out);
                return;
            }
            if (shape == ReplyShape.LINE) {
                out.add(new ServerReply.Line(in.retainedSlice(start, lineEnd - start)));
                in.readerIndex(lineEnd);
                return;
            }
            if (shape == ReplyShape.VALUES ? startsWith(in, start, "VALUE ") : startsWith(in, start, "VA ")) {
                if (!readValue(in, start, lf, shape)) {
                    return;
                }
            } else if (shape == ReplyShape.VALUES
                    ? isLine(in, start, lineEnd, "END\r\n")
                    : isLine(in, start, lineEnd, "MN\r\n")) {
                List<ServerReply.Value> hits = values == null ? List.of() : values;
                values = null;
                in.readerIndex(lineEnd);
                out.add(new ServerReply.Values(hits));
                return;
            } else if (shape == ReplyShape.META_VALUES) {
                // a quiet meta get only speaks on a hit or an error; an error for one key is a miss
                in.readerIndex(lineEnd);
            } else {
                // an error line instead of (or in the middle of) a text retrieval: drop partial hits
                releasePartial();
                out.add(new ServerReply.Line(in.retainedSlice(start, lineEnd - start)));
                in.readerIndex(lineEnd);
                return;
            }
        }
    }

    /**
     * End (exclusive) of the meta reply starting at {@code start}: one line, or a VA line and its
     * data; -1 while incomplete.
     */
    private int metaFrameEnd(ByteBuf in, int start) {
        int lf = in.forEachByte(start, in.writerIndex() - start, ByteProcessor.FIND_LF);
        if (lf < 0) {
            if (in.writerIndex() - start > MAX_LINE) {
                throw new CorruptedFrameException("server reply line too long");
            }
            return -1;
        }
        if (!startsWith(in, start, "VA ")) {
            return lf + 1;
        }
        int lineEnd = lf > start && in.getByte(lf - 1) == '\r' ? lf - 1 : lf;
        Tokens t = tokens.split(in, start, lineEnd);
        if (t.count < 2) {
            throw new CorruptedFrameException("malformed value line from server");
        }
        long length = t.number(in, 1);
        if (length > maxValueLength) {
            throw new CorruptedFrameException("bad value length from server");
        }
        long end = lf + 1 + length + 2;
        if (end > in.writerIndex()) {
            return -1;
        }
        if (in.getByte((int) end - 2) != '\r' || in.getByte((int) end - 1) != '\n') {
            throw new CorruptedFrameException("server value not terminated by CRLF");
        }
        return (int) end;
    }

    /**
     * End (exclusive) of the "MN\r\n" that closes one meta command's reply starting at {@code start};
     * -1 while incomplete. At most one reply (a line, or a VA line and its data) may come before
     * it: a second one is not this command's, and the stream is no longer trusted.
     */
    private int untilMn(ByteBuf in, int start) {
        int end = metaFrameEnd(in, start);
        if (end < 0 || isLine(in, start, end, "MN\r\n")) {
            return end;
        }
        int lf = in.forEachByte(end, in.writerIndex() - end, ByteProcessor.FIND_LF);
        if (lf < 0) {
            if (in.writerIndex() - end > MAX_LINE) {
                throw new CorruptedFrameException("server reply line too long");
            }
            return -1;
        }
        if (!isLine(in, end, lf + 1, "MN\r\n")) {
            throw new ReplyFramingException("more than one reply to one meta command");
        }
        return lf + 1;
    }

    /**
     * Frames a whole text retrieval reply, VALUE blocks through END, as one line-like reply once
     * all of it is in; nothing is consumed before. An error line ends the reply and is framed
     * alone (hits before it are dropped, as {@link ReplyShape#VALUES} drops them).
     */
    private void readWhole(ByteBuf in, int start, int firstLf, List<Object> out) {
        int pos = start;
        int lf = firstLf;
        while (true) {
            if (pos != start) {
                lf = in.forEachByte(pos, in.writerIndex() - pos, ByteProcessor.FIND_LF);
                if (lf < 0) {
                    if (in.writerIndex() - pos > MAX_LINE) {
                        throw new CorruptedFrameException("server reply line too long");
                    }
                    return;
                }
            }
            if (startsWith(in, pos, "VALUE ")) {
                int end = valueBlockEnd(in, pos, lf, ReplyShape.VALUES);
                if (end < 0) {
                    return;
                }
                pos = end;
                continue;
            }
            int from = isLine(in, pos, lf + 1, "END\r\n") ? start : pos;
            out.add(new ServerReply.Line(in.retainedSlice(from, lf + 1 - from)));
            in.readerIndex(lf + 1);
            return;
        }
    }

    /**
     * End (exclusive) of the VALUE or VA block whose header line starts at {@code start} and ends
     * at {@code lf}; -1 while incomplete. Leaves the header's tokens in {@link #tokens}.
     */
    private int valueBlockEnd(ByteBuf in, int start, int lf, ReplyShape shape) {
        int lineEnd = lf > start && in.getByte(lf - 1) == '\r' ? lf - 1 : lf;
        Tokens t = tokens.split(in, start, lineEnd);
        int lengthToken = shape == ReplyShape.META_VALUES ? 1 : 3;
        if (t.count <= lengthToken) {
            throw new CorruptedFrameException("malformed value line from server");
        }
        long length = t.number(in, lengthToken);
        if (length < 0 || length > maxValueLength) {
            throw new CorruptedFrameException("bad value length from server");
        }
        long end = lf + 1 + length + 2;
        if (end > in.writerIndex()) {
            return -1;
        }
        if (in.getByte((int) end - 2) != '\r' || in.getByte((int) end - 1) != '\n') {
            throw new CorruptedFrameException("server value not terminated by CRLF");
        }
        return (int) end;
    }

    /** Reads one VALUE or VA block if it is complete; false when more bytes are needed. */
    private boolean readValue(ByteBuf in, int start, int lf, ReplyShape shape) {
        int end = valueBlockEnd(in, start, lf, shape);
        if (end < 0) {
            return false;
        }
        if (values == null) {
            values = new ArrayList<>();
        }
        Tokens t = tokens;
        if (shape == ReplyShape.VALUES) {
            values.add(ServerReply.Value.textBlock(in.retainedSlice(start, end - start), 6, t.ends[1] - t.starts[1]));
        } else {
            int dataStart = lf + 1;
            values.add(metaValue(in, t, dataStart, end - 2 - dataStart));
        }
        in.readerIndex(end);
        return true;
    }

    /**
     * "VA size k<key> f<flags> t<ttl> c<cas>": the flags we asked for, in any order; with a {@code b}
     * flag the key came base64-encoded (asked for with {@code b}: a key the text protocol cannot carry).
     */
    private static ServerReply.Value metaValue(ByteBuf in, Tokens t, int dataStart, int length) {
        byte[] key = null;
        boolean base64 = false;
        int flags = 0;
        int ttl = -1;
        long cas = 0;
        for (int i = 2; i < t.count; i++) {
            int s = t.starts[i];
            byte flag = in.getByte(s);
            switch (flag) {
                case 'k' -> {
                    key = new byte[t.ends[i] - s - 1];
                    in.getBytes(s + 1, key);
                }
                case 'f' -> flags = (int) t.unsignedFrom(in, i, 1);
                case 't' -> ttl = (int) t.signedFrom(in, i, 1);
                case 'c' -> cas = t.unsignedFrom(in, i, 1);
                case 'b' -> base64 = true;
                default -> {
                    // flags we did not ask for are ignored
                }
            }
        }
        if (key == null) {
            throw new CorruptedFrameException("meta hit without its key");
        }
        if (base64) {
            try {
                key = Base64.getDecoder().decode(key);
            } catch (IllegalArgumentException e) {
                throw new CorruptedFrameException("meta hit with a key that is not base64");
            }
        }
        return ServerReply.Value.meta(in.retainedSlice(dataStart, length), key, flags, ttl, cas);
    }

    private static boolean isLine(ByteBuf in, int start, int lineEnd, String line) {
        return lineEnd - start == line.length() && startsWith(in, start, line);
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
            values.forEach(ServerReply.Value::release);
            values = null;
        }
    }

    @Override
    protected void handlerRemoved0(ChannelHandlerContext ctx) {
        releasePartial();
    }

    /** Space-separated tokens of one reply line (at most 16 are looked at). */
    private static final class Tokens {
        final int[] starts = new int[16];
        final int[] ends = new int[16];
        int count;

        /** Splits [from, to) into this (reused) instance; returns it. */
        Tokens split(ByteBuf in, int from, int to) {
            count = 0;
            int s = from;
            while (s < to && count < 16) {
                int space = in.forEachByte(s, to - s, ByteProcessor.FIND_ASCII_SPACE);
                int e = space < 0 ? to : space;
                if (e > s) {
                    starts[count] = s;
                    ends[count] = e;
                    count++;
                }
                s = e + 1;
            }
            return this;
        }

        long number(ByteBuf in, int i) {
            return unsignedFrom(in, i, 0);
        }

        long unsignedFrom(ByteBuf in, int i, int skip) {
            long v = 0;
            int from = starts[i] + skip;
            if (from >= ends[i]) {
                throw new CorruptedFrameException("empty number from server");
            }
            for (int p = from; p < ends[i]; p++) {
                int d = in.getByte(p) - '0';
                if (d < 0 || d > 9 || v > (Long.MAX_VALUE - 9) / 10) {
                    throw new CorruptedFrameException("bad number from server");
                }
                v = v * 10 + d;
            }
            return v;
        }

        long signedFrom(ByteBuf in, int i, int skip) {
            if (starts[i] + skip < ends[i] && in.getByte(starts[i] + skip) == '-') {
                return -unsignedFrom(in, i, skip + 1);
            }
            return unsignedFrom(in, i, skip);
        }
    }
}
