package io.jmagent.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.util.ByteProcessor;
import java.util.ArrayList;
import java.util.List;

/**
 * Decodes memcached's text protocol (protocol.txt) from a client into {@link Request}s, answering
 * every malformed request exactly as memcached 1.6's proto_text.c does: the same token counts,
 * the same error lines, the same handling of {@code noreply}, and the same resynchronisation (a
 * bad command line does not swallow its data block; an oversized value is swallowed unread).
 *
 * <p>Bounds: as in memcached's try_read_command_ascii, a command line may not grow past
 * {@value #MAX_COMMAND_LINE} bytes without a newline, nor be longer than memcached's 16 KB read
 * buffer, unless it is a get/gets multiget; past that the connection is closed without a reply,
 * as memcached closes it. A multiget line may reach {@code maxRetrievalLine} (memcached has no
 * bound); past it the connection is answered {@code CLIENT_ERROR line too long} and closed. A
 * value is buffered only when it fits {@code maxItemSize}.
 */
public final class TextRequestDecoder extends ByteToMessageDecoder {

    /** memcached: a line without a newline in its first 2048 bytes must be a multiget. */
    public static final int MAX_COMMAND_LINE = 2048;
    /** memcached reads a connection into a 16 KB buffer (READ_BUFFER_SIZE); only a multiget line may outgrow it. */
    private static final int READ_BUFFER_SIZE = 16384;
    /** memcached takes a long line for a multiget only after at most 100 leading spaces. */
    private static final int MAX_MULTIGET_INDENT = 100;
    /** protocol.txt: "the length limit of a key is set at 250 characters". */
    public static final int MAX_KEY_LENGTH = 250;
    /** memcached tokenizes at most this many tokens minus one; the rest of the line is one remainder. */
    private static final int MAX_TOKENS = 24;

    private static final LocalReply ERROR = new LocalReply(TextReplies.ERROR, false);
    private static final LocalReply BAD_FORMAT = new LocalReply(TextReplies.BAD_FORMAT, false);
    private static final LocalReply END = new LocalReply(TextReplies.END, false);
    /** protocol.txt: "mn" answers MN once everything before it has been answered. */
    private static final LocalReply MN = LocalReply.of("MN");
    private static final LocalReply BAD_DATA_CHUNK = LocalReply.of("CLIENT_ERROR bad data chunk");
    private static final LocalReply INVALID_EXPTIME = LocalReply.of("CLIENT_ERROR invalid exptime argument");
    private static final LocalReply INVALID_DELTA = LocalReply.of("CLIENT_ERROR invalid numeric delta argument");
    private static final LocalReply DELETE_USAGE =
            LocalReply.of("CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]");
    private static final LocalReply LINE_TOO_LONG = LocalReply.closing("CLIENT_ERROR line too long");
    /** Closes the connection without a word, as memcached's conn_closing does. */
    private static final LocalReply CLOSE = new LocalReply(new byte[0], true);

    private enum State { LINE, DATA, SWALLOW, CLOSED }

    private final int maxItemSize;
    private final int maxRetrievalLine;
    private final Tokens tokens = new Tokens();

    private State state = State.LINE;
    /** The storage command whose data block is being read (state DATA). */
    private StoreRequest.Kind pendingKind;
    private byte[] pendingKey;
    private int pendingFlags;
    private int pendingExptime;
    private long pendingCas;
    private boolean pendingNoreply;
    private int pendingLength;
    /** The meta set whose data block is being read (state DATA), or null for a text storage command. */
    private MetaRequest pendingMeta;
    /** Bounds of the current command line, without its line ending. */
    private int lineStart;
    private int lineEnd;
    /** Bytes still to discard (state SWALLOW). */
    private long swallowRemaining;

    public TextRequestDecoder(int maxItemSize, int maxRetrievalLine) {
        this.maxItemSize = maxItemSize;
        this.maxRetrievalLine = maxRetrievalLine;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        while (in.isReadable()) {
            switch (state) {
                case LINE -> {
                    if (!decodeLine(in, out)) {
                        return;
                    }
                }
                case DATA -> {
                    if (!decodeData(in, out)) {
                        return;
                    }
                }
                case SWALLOW -> {
                    int n = (int) Math.min(in.readableBytes(), swallowRemaining);
                    in.skipBytes(n);
                    swallowRemaining -= n;
                    if (swallowRemaining == 0) {
                        state = State.LINE;
                    }
                }
                case CLOSED -> {
                    in.skipBytes(in.readableBytes());
                    return;
                }
            }
        }
    }

    /** Stops decoding: everything after this point is discarded (quit, or a closing error). */
    public void stop() {
        state = State.CLOSED;
    }

    /** True while part of a request has arrived and the rest has not. */
    public boolean hasPartialRequest() {
        return state == State.DATA || state == State.SWALLOW || (state == State.LINE && actualReadableBytes() > 0);
    }

    private boolean decodeLine(ByteBuf in, List<Object> out) {
        int start = in.readerIndex();
        int lf = in.forEachByte(start, in.readableBytes(), ByteProcessor.FIND_LF);
        if (lf < 0) {
            int readable = in.readableBytes();
            if (readable > MAX_COMMAND_LINE && !isMultiget(in, start)) {
                close(in, out, CLOSE);
            } else if (readable > Math.max(MAX_COMMAND_LINE, maxRetrievalLine)) {
                close(in, out, LINE_TOO_LONG);
            }
            return false;
        }
        if (lf - start >= READ_BUFFER_SIZE && !isMultiget(in, start)) {
            close(in, out, CLOSE);
            return false;
        }
        int end = lf;
        if (end > start && in.getByte(end - 1) == '\r') {
            end--;
        }
        int lineLength = end - start;
        // memcached tokenizes the line as a C string: a NUL byte ends it, the rest is ignored
        int nul = in.indexOf(start, end, (byte) 0);
        if (nul >= 0) {
            end = nul;
        }
        if (lineLength > MAX_COMMAND_LINE && lineLength > maxRetrievalLine) {
            close(in, out, LINE_TOO_LONG);
            return false;
        }
        tokens.split(in, start, end);
        lineStart = start;
        lineEnd = end;
        in.readerIndex(lf + 1);
        Request request = parseCommand(in);
        if (request != null) {
            out.add(request);
        }
        return true;
    }

    /** Discards everything the client sent and answers {@code reply}, which closes the connection. */
    private void close(ByteBuf in, List<Object> out, LocalReply reply) {
        in.skipBytes(in.readableBytes());
        state = State.CLOSED;
        out.add(reply);
    }

    /** memcached's test for a line allowed to run long: "get " or "gets " after at most 100 spaces. */
    private static boolean isMultiget(ByteBuf in, int start) {
        int i = start;
        int end = in.writerIndex();
        while (i < end && in.getByte(i) == ' ') {
            i++;
        }
        return i - start <= MAX_MULTIGET_INDENT && (startsWith(in, i, end, "get ") || startsWith(in, i, end, "gets "));
    }

    private static boolean startsWith(ByteBuf in, int i, int end, String prefix) {
        if (end - i < prefix.length()) {
            return false;
        }
        for (int k = 0; k < prefix.length(); k++) {
            if (in.getByte(i + k) != prefix.charAt(k)) {
                return false;
            }
        }
        return true;
    }

    /** Returns the request for the line in {@link #tokens}, or null when nothing is to be answered. */
    private Request parseCommand(ByteBuf in) {
        int n = tokens.count;
        if (n == 0) {
            return ERROR;
        }
        if (tokens.is(in, 0, "get") || tokens.is(in, 0, "bget")) {
            // bget: memcached still takes the long-gone "binary get" as a get
            return n >= 2 ? retrieval(in, RetrievalRequest.Kind.GET) : ERROR;
        } else if (tokens.is(in, 0, "gets")) {
            return n >= 2 ? retrieval(in, RetrievalRequest.Kind.GETS) : ERROR;
        } else if (tokens.is(in, 0, "gat")) {
            return n >= 2 ? retrieval(in, RetrievalRequest.Kind.GAT) : ERROR;
        } else if (tokens.is(in, 0, "gats")) {
            return n >= 2 ? retrieval(in, RetrievalRequest.Kind.GATS) : ERROR;
        } else if (tokens.is(in, 0, "set")) {
            return n == 5 || n == 6 ? storage(in, StoreRequest.Kind.SET) : ERROR;
        } else if (tokens.is(in, 0, "add")) {
            return n == 5 || n == 6 ? storage(in, StoreRequest.Kind.ADD) : ERROR;
        } else if (tokens.is(in, 0, "replace")) {
            return n == 5 || n == 6 ? storage(in, StoreRequest.Kind.REPLACE) : ERROR;
        } else if (tokens.is(in, 0, "append")) {
            return n == 5 || n == 6 ? storage(in, StoreRequest.Kind.APPEND) : ERROR;
        } else if (tokens.is(in, 0, "prepend")) {
            return n == 5 || n == 6 ? storage(in, StoreRequest.Kind.PREPEND) : ERROR;
        } else if (tokens.is(in, 0, "cas")) {
            return n == 6 || n == 7 ? storage(in, StoreRequest.Kind.CAS) : ERROR;
        } else if (tokens.is(in, 0, "delete")) {
            return n >= 2 && n <= 4 ? delete(in) : ERROR;
        } else if (tokens.is(in, 0, "incr")) {
            return n == 3 || n == 4 ? arithmetic(in, true) : ERROR;
        } else if (tokens.is(in, 0, "decr")) {
            return n == 3 || n == 4 ? arithmetic(in, false) : ERROR;
        } else if (tokens.is(in, 0, "touch")) {
            return n == 3 || n == 4 ? touch(in) : ERROR;
        } else if (tokens.is(in, 0, "flush_all")) {
            return n <= 3 ? flushAll(in) : ERROR;
        } else if (tokens.is(in, 0, "verbosity")) {
            return n == 2 || n == 3 ? verbosity(in) : ERROR;
        } else if (tokens.is(in, 0, "version")) {
            return new VersionRequest();
        } else if (tokens.is(in, 0, "quit")) {
            state = State.CLOSED;
            return new QuitRequest();
        } else if (tokens.is(in, 0, "stats")) {
            return new StatsRequest(n == 1 ? "" : tokens.string(in, 1));
        } else if (tokens.is(in, 0, "mn")) {
            return MN;
        } else if (metaKind(in) != null) {
            return meta(in, metaKind(in));
        } else if (isUnservedCommand(in)) {
            return LocalReply.of("SERVER_ERROR " + tokens.string(in, 0) + " not supported by jmagent");
        }
        return unknownCommand(in);
    }

    /**
     * memcached answers an unknown command ERROR, but drops the connection when the line's last
     * token (of the first 23 it tokenizes) starts with "HTTP/". Only names that reach the end of
     * its dispatch get that test: those starting with g, s, a, c, i, d or t, and two-letter names
     * starting with m, are answered ERROR inside their own branch (proto_text.c).
     */
    private Request unknownCommand(ByteBuf in) {
        if (tokens.length(0) < 2) {
            return ERROR;
        }
        byte first = in.getByte(tokens.starts[0]);
        boolean ownBranch = "gsacidt".indexOf(first) >= 0 || (first == 'm' && tokens.length(0) == 2);
        int last = Math.min(tokens.count, MAX_TOKENS - 1) - 1;
        if (!ownBranch && tokens.startsWith(in, last, "HTTP/")) {
            state = State.CLOSED;
            return CLOSE;
        }
        return ERROR;
    }

    /**
     * memcached commands a proxy must not fan out (server administration) or does not speak yet.
     * misbehave and debugtime exist only in debug builds: a released memcached answers them ERROR.
     */
    private boolean isUnservedCommand(ByteBuf in) {
        for (String name : new String[] {"shutdown", "slabs", "lru_crawler", "lru", "cache_memlimit", "watch",
                "extstore"}) {
            if (tokens.is(in, 0, name)) {
                return true;
            }
        }
        return false;
    }

    private Request retrieval(ByteBuf in, RetrievalRequest.Kind kind) {
        int first = 1;
        int exptime = 0;
        if (kind.touching()) {
            Integer e = tokens.int32(in, 1);
            if (e == null) {
                return INVALID_EXPTIME;
            }
            exptime = e;
            first = 2;
        }
        if (first >= tokens.count) {
            return END; // "gat 10" with no key: memcached answers an empty result
        }
        List<byte[]> keys = new ArrayList<>(tokens.count - first);
        for (int i = first; i < tokens.count; i++) {
            if (tokens.length(i) > MAX_KEY_LENGTH) {
                return BAD_FORMAT;
            }
            keys.add(tokens.bytes(in, i));
        }
        return new RetrievalRequest(kind, exptime, keys);
    }

    private Request storage(ByteBuf in, StoreRequest.Kind kind) {
        boolean noreply = noreplyMaybe(in);
        if (tokens.length(1) > MAX_KEY_LENGTH) {
            return reply(BAD_FORMAT, noreply);
        }
        Integer flags = tokens.uint32(in, 2);
        Integer exptime = tokens.int32(in, 3);
        Integer length = tokens.int32(in, 4);
        if (flags == null || exptime == null || length == null) {
            return reply(BAD_FORMAT, noreply);
        }
        long cas = 0;
        if (kind == StoreRequest.Kind.CAS) {
            Long c = tokens.uint64(in, 5);
            if (c == null) {
                return reply(BAD_FORMAT, noreply);
            }
            cas = c;
        }
        if (length < 0 || length > Integer.MAX_VALUE - 2) {
            return reply(BAD_FORMAT, noreply);
        }
        byte[] key = tokens.bytes(in, 1);
        if (length > maxItemSize) {
            swallowRemaining = (long) length + 2;
            state = State.SWALLOW;
            return new OversizedStoreRequest(kind, key, noreply);
        }
        pendingKind = kind;
        pendingKey = key;
        pendingFlags = flags;
        pendingExptime = exptime;
        pendingCas = cas;
        pendingNoreply = noreply;
        pendingLength = length;
        state = State.DATA;
        return null;
    }

    private MetaRequest.Kind metaKind(ByteBuf in) {
        if (tokens.length(0) != 2 || in.getByte(tokens.starts[0]) != 'm') {
            return null;
        }
        return switch (in.getByte(tokens.starts[0] + 1)) {
            case 'g' -> MetaRequest.Kind.GET;
            case 's' -> MetaRequest.Kind.SET;
            case 'd' -> MetaRequest.Kind.DELETE;
            case 'a' -> MetaRequest.Kind.ARITHMETIC;
            case 'e' -> MetaRequest.Kind.DEBUG;
            default -> null;
        };
    }

    /**
     * A meta command: checked only as far as routing and framing need (a key of at most 250
     * bytes; for ms a data length); its flags are the server's to judge, so the line goes to the
     * server as it came. protocol.txt: "b" means the key is base64, "q" asks for quiet mode.
     */
    private Request meta(ByteBuf in, MetaRequest.Kind kind) {
        if (tokens.count < 2) {
            return ERROR;
        }
        if (tokens.length(1) > MAX_KEY_LENGTH) {
            return BAD_FORMAT;
        }
        boolean base64 = false;
        boolean quiet = false;
        boolean plainSet = true;
        boolean touch = false;
        boolean cas = false;
        boolean invalidate = false;
        byte mode = 0;
        for (int i = kind == MetaRequest.Kind.SET ? 3 : 2; i < tokens.count; i++) {
            byte flag = in.getByte(tokens.starts[i]);
            if (tokens.length(i) == 1 && flag == 'b') {
                base64 = true;
            } else if (tokens.length(i) == 1 && flag == 'q') {
                quiet = true;
            } else if (flag == 'C' || flag == 'I'
                    || (flag == 'M' && tokens.length(i) > 1 && (in.getByte(tokens.starts[i] + 1) | 0x20) != 's')) {
                plainSet = false; // compare-and-swap, invalidation, or a mode other than set
            }
            touch |= flag == 'T';
            cas |= flag == 'C';
            invalidate |= flag == 'I';
            if (flag == 'M' && tokens.length(i) > 1) {
                mode = in.getByte(tokens.starts[i] + 1);
            }
        }
        MetaRequest.Counter counter = counter(kind, touch, cas, invalidate, mode);
        String keyToken = tokens.string(in, 1);
        byte[] key = tokens.bytes(in, 1);
        if (base64) {
            try {
                key = java.util.Base64.getDecoder().decode(key);
            } catch (IllegalArgumentException e) {
                // not base64: the server will say so; route on the token as written
            }
        }
        if (kind != MetaRequest.Kind.SET) {
            return new MetaRequest(kind, key, keyToken, base64, quiet, false, counter, copyLine(in), null);
        }
        Integer length = tokens.count >= 3 ? tokens.int32(in, 2) : null;
        if (length == null || length < 0 || length > Integer.MAX_VALUE - 2) {
            return BAD_FORMAT;
        }
        if (length > maxItemSize) {
            swallowRemaining = (long) length + 2;
            state = State.SWALLOW;
            return new OversizedStoreRequest(plainSet ? StoreRequest.Kind.SET : StoreRequest.Kind.APPEND, key, false);
        }
        pendingMeta = new MetaRequest(kind, key, keyToken, base64, quiet, plainSet, counter, copyLine(in), null);
        pendingLength = length;
        state = State.DATA;
        return null;
    }

    /**
     * Which counters the reply moves, as memcached 1.6's proto_text.c decides: a cas is counted
     * only on a set or a replace (modes S, R or none; add, append and prepend ignore it there);
     * an ma decrements in modes D and -.
     */
    private static MetaRequest.Counter counter(MetaRequest.Kind kind, boolean touch, boolean cas, boolean invalidate,
            byte mode) {
        return switch (kind) {
            case GET -> touch ? MetaRequest.Counter.GET_TOUCHING : MetaRequest.Counter.GET;
            case SET -> cas && (mode == 0 || mode == 'S' || mode == 'R')
                    ? MetaRequest.Counter.SET_CAS : MetaRequest.Counter.SET;
            case DELETE -> invalidate ? MetaRequest.Counter.DELETE_INVALIDATING : MetaRequest.Counter.DELETE;
            case ARITHMETIC -> mode == 'D' || mode == '-' ? MetaRequest.Counter.DECR : MetaRequest.Counter.INCR;
            case DEBUG -> MetaRequest.Counter.NONE;
        };
    }

    /** The current command line with a CRLF, as the server must see it. */
    private ByteBuf copyLine(ByteBuf in) {
        int length = lineEnd - lineStart;
        ByteBuf line = in.alloc().buffer(length + 2);
        line.writeBytes(in, lineStart, length).writeByte('\r').writeByte('\n');
        return line;
    }

    private boolean decodeData(ByteBuf in, List<Object> out) {
        if (in.readableBytes() < pendingLength + 2) {
            return false;
        }
        int start = in.readerIndex();
        state = State.LINE;
        if (pendingMeta != null) {
            MetaRequest m = pendingMeta;
            pendingMeta = null;
            if (in.getByte(start + pendingLength) != '\r' || in.getByte(start + pendingLength + 1) != '\n') {
                in.skipBytes(pendingLength + 2);
                m.release();
                out.add(BAD_DATA_CHUNK); // meta commands report errors even when quiet
                return true;
            }
            ByteBuf value = in.retainedSlice(start, pendingLength);
            in.skipBytes(pendingLength + 2);
            out.add(new MetaRequest(m.kind(), m.key(), m.keyToken(), m.base64(), m.quiet(), m.plainSet(), m.counter(),
                    m.line(), value));
            return true;
        }
        if (in.getByte(start + pendingLength) != '\r' || in.getByte(start + pendingLength + 1) != '\n') {
            in.skipBytes(pendingLength + 2);
            if (!pendingNoreply) {
                out.add(BAD_DATA_CHUNK);
            }
            return true;
        }
        ByteBuf value = in.retainedSlice(start, pendingLength);
        in.skipBytes(pendingLength + 2);
        out.add(new StoreRequest(pendingKind, pendingKey, pendingFlags, pendingExptime, pendingCas,
                pendingNoreply, value));
        pendingKey = null;
        return true;
    }

    private Request delete(ByteBuf in) {
        int n = tokens.count;
        boolean noreply = false;
        if (n > 2) {
            boolean holdIsZero = tokens.is(in, 2, "0");
            noreply = noreplyMaybe(in);
            boolean valid = (n == 3 && (holdIsZero || noreply)) || (n == 4 && holdIsZero && noreply);
            if (!valid) {
                return reply(DELETE_USAGE, noreply);
            }
        }
        if (tokens.length(1) > MAX_KEY_LENGTH) {
            return reply(BAD_FORMAT, noreply);
        }
        return new DeleteRequest(tokens.bytes(in, 1), noreply);
    }

    private Request arithmetic(ByteBuf in, boolean increment) {
        boolean noreply = noreplyMaybe(in);
        if (tokens.length(1) > MAX_KEY_LENGTH) {
            return reply(BAD_FORMAT, noreply);
        }
        Long delta = tokens.uint64(in, 2);
        if (delta == null) {
            return reply(INVALID_DELTA, noreply);
        }
        return new ArithmeticRequest(increment, tokens.bytes(in, 1), delta, noreply);
    }

    private Request touch(ByteBuf in) {
        boolean noreply = noreplyMaybe(in);
        if (tokens.length(1) > MAX_KEY_LENGTH) {
            return reply(BAD_FORMAT, noreply);
        }
        Integer exptime = tokens.int32(in, 2);
        if (exptime == null) {
            return reply(INVALID_EXPTIME, noreply);
        }
        return new TouchRequest(tokens.bytes(in, 1), exptime, noreply);
    }

    private Request flushAll(ByteBuf in) {
        boolean noreply = noreplyMaybe(in);
        Integer delay = null;
        if (tokens.count != (noreply ? 2 : 1)) {
            delay = tokens.int32(in, 1);
            if (delay == null) {
                return reply(INVALID_EXPTIME, noreply);
            }
        }
        return new FlushAllRequest(delay, noreply);
    }

    private Request verbosity(ByteBuf in) {
        boolean noreply = noreplyMaybe(in);
        Integer level = tokens.uint32(in, 1);
        if (level == null) {
            return reply(BAD_FORMAT, noreply);
        }
        return new VerbosityRequest(level, noreply);
    }

    /** memcached's set_noreply_maybe: the last token alone decides. */
    private boolean noreplyMaybe(ByteBuf in) {
        return tokens.is(in, tokens.count - 1, "noreply");
    }

    private static Request reply(LocalReply reply, boolean noreply) {
        return noreply ? null : reply;
    }

    @Override
    protected void handlerRemoved0(ChannelHandlerContext ctx) {
        pendingKey = null;
        if (pendingMeta != null) {
            pendingMeta.release();
            pendingMeta = null;
        }
    }

    /** Token boundaries of the current line, split on spaces only, as memcached's tokenize_command. */
    private static final class Tokens {
        private int[] starts = new int[16];
        private int[] ends = new int[16];
        private int count;

        void split(ByteBuf in, int from, int to) {
            count = 0;
            int s = from;
            while (s < to) {
                int space = in.forEachByte(s, to - s, ByteProcessor.FIND_ASCII_SPACE);
                int e = space < 0 ? to : space;
                if (e > s) {
                    add(s, e);
                }
                s = e + 1;
            }
        }

        private void add(int s, int e) {
            if (count == starts.length) {
                starts = java.util.Arrays.copyOf(starts, count * 2);
                ends = java.util.Arrays.copyOf(ends, count * 2);
            }
            starts[count] = s;
            ends[count] = e;
            count++;
        }

        int length(int i) {
            return ends[i] - starts[i];
        }

        boolean is(ByteBuf in, int i, String word) {
            return length(i) == word.length() && startsWith(in, i, word);
        }

        boolean startsWith(ByteBuf in, int i, String prefix) {
            return TextRequestDecoder.startsWith(in, starts[i], ends[i], prefix);
        }

        byte[] bytes(ByteBuf in, int i) {
            byte[] b = new byte[length(i)];
            in.getBytes(starts[i], b);
            return b;
        }

        String string(ByteBuf in, int i) {
            return in.toString(starts[i], length(i), java.nio.charset.StandardCharsets.ISO_8859_1);
        }

        Integer int32(ByteBuf in, int i) {
            return TextNumbers.parseInt32Truncating(in, starts[i], ends[i]);
        }

        Integer uint32(ByteBuf in, int i) {
            return TextNumbers.parseUnsigned32Truncating(in, starts[i], ends[i]);
        }

        Long uint64(ByteBuf in, int i) {
            return TextNumbers.parseUnsigned64(in, starts[i], ends[i]);
        }
    }
}
