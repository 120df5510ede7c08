package io.jmagent.protocol;

import static io.jmagent.protocol.TextLineCommands.BAD_FORMAT;
import static io.jmagent.protocol.TextLineCommands.ERROR;
import static io.jmagent.protocol.TextLineCommands.reply;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.util.ByteProcessor;
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
 *
 * <p>This class frames requests (lines, data blocks, the storage and ms commands that announce
 * them) and dispatches on the command name; {@link TextLineCommands} reads the commands a line says
 * all of, {@link MetaLineParser} the meta commands' keys and flags. State belongs to one channel's
 * event loop.
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

    /** protocol.txt: "mn" answers MN once everything before it has been answered. */
    private static final LocalReply MN = LocalReply.of("MN");

    private static final LocalReply BAD_DATA_CHUNK = LocalReply.of("CLIENT_ERROR bad data chunk");
    private static final LocalReply LINE_TOO_LONG = LocalReply.closing("CLIENT_ERROR line too long");
    /** Closes the connection without a word, as memcached's conn_closing does. */
    private static final LocalReply CLOSE = new LocalReply(new byte[0], true);

    private enum State {
        LINE,
        DATA,
        SWALLOW,
        CLOSED
    }

    private final int maxItemSize;
    private final int maxRetrievalLine;
    private final CommandTokens tokens = new CommandTokens();
    /** Made at the first meta command: a client that never sends one holds none. */
    private MetaLineParser metaLine;

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
    /** What memcached answers that meta set for its flags before reading its data block; null when it reads it. */
    private LocalReply pendingMetaRefusal;
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

    /**
     * Keys longer than {@code max} (at most {@value #MAX_KEY_LENGTH}) are refused from now on, as
     * memcached refuses a key over 250 bytes: for a tenant whose key prefix takes the rest.
     */
    public void limitKeys(int max) {
        tokens.keyLimit = Math.min(max, MAX_KEY_LENGTH);
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
            boolean multiget = isMultiget(in, start);
            if (readable >= READ_BUFFER_SIZE && !multiget) {
                close(in, out, CLOSE);
            } else if (multiget && readable > Math.max(MAX_COMMAND_LINE, maxRetrievalLine)) {
                close(in, out, LINE_TOO_LONG);
            }
            // past MAX_COMMAND_LINE, judged once the client paused (channelReadComplete)
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

    /**
     * The end of a read burst. memcached closes a connection whose unparsed bytes, after a read,
     * hold more than {@value #MAX_COMMAND_LINE} without a newline and do not begin a multiget
     * (try_read_command_ascii). Its reads take what the socket holds, up to 16 KB; the proxy's may
     * be smaller, so the rule is applied once the client has paused, not to one read: a 9 KB line
     * sent in one write is a line, as memcached sees it. Not while reading is paused, when more may
     * be waiting.
     */
    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) throws Exception {
        ByteBuf in = internalBuffer();
        if (state == State.LINE
                && ctx.channel().config().isAutoRead()
                && in.readableBytes() > MAX_COMMAND_LINE
                && in.indexOf(in.readerIndex(), in.writerIndex(), (byte) '\n') < 0
                && !isMultiget(in, in.readerIndex())) {
            in.skipBytes(in.readableBytes());
            state = State.CLOSED;
            ctx.fireChannelRead(CLOSE);
        }
        super.channelReadComplete(ctx);
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
        return i - start <= MAX_MULTIGET_INDENT
                && (CommandTokens.startsWith(in, i, end, "get ") || CommandTokens.startsWith(in, i, end, "gets "));
    }

    /** Returns the request for the line in {@link #tokens}, or null when nothing is to be answered. */
    private Request parseCommand(ByteBuf in) {
        int n = tokens.count;
        if (n == 0) {
            return ERROR;
        }
        if (tokens.is(in, 0, "get") || tokens.is(in, 0, "bget")) {
            // bget: memcached still takes the long-gone "binary get" as a get
            return n >= 2 ? TextLineCommands.retrieval(in, tokens, RetrievalRequest.Kind.GET) : ERROR;
        } else if (tokens.is(in, 0, "gets")) {
            return n >= 2 ? TextLineCommands.retrieval(in, tokens, RetrievalRequest.Kind.GETS) : ERROR;
        } else if (tokens.is(in, 0, "gat")) {
            return n >= 2 ? TextLineCommands.retrieval(in, tokens, RetrievalRequest.Kind.GAT) : ERROR;
        } else if (tokens.is(in, 0, "gats")) {
            return n >= 2 ? TextLineCommands.retrieval(in, tokens, RetrievalRequest.Kind.GATS) : ERROR;
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
            return n >= 2 && n <= 4 ? TextLineCommands.delete(in, tokens) : ERROR;
        } else if (tokens.is(in, 0, "incr")) {
            return n == 3 || n == 4 ? TextLineCommands.arithmetic(in, tokens, true) : ERROR;
        } else if (tokens.is(in, 0, "decr")) {
            return n == 3 || n == 4 ? TextLineCommands.arithmetic(in, tokens, false) : ERROR;
        } else if (tokens.is(in, 0, "touch")) {
            return n == 3 || n == 4 ? TextLineCommands.touch(in, tokens) : ERROR;
        } else if (tokens.is(in, 0, "flush_all")) {
            return n <= 3 ? TextLineCommands.flushAll(in, tokens) : ERROR;
        } else if (tokens.is(in, 0, "verbosity")) {
            return n == 2 || n == 3 ? TextLineCommands.verbosity(in, tokens) : ERROR;
        } else if (tokens.is(in, 0, "version")) {
            return new VersionRequest();
        } else if (tokens.is(in, 0, "quit")) {
            state = State.CLOSED;
            return new QuitRequest();
        } else if (tokens.is(in, 0, "stats")) {
            return new StatsRequest(n == 1 ? "" : tokens.string(in, 1));
        } else if (tokens.is(in, 0, "mn")) {
            return MN;
        } else if (MetaLineParser.kind(in, tokens) != null) {
            return meta(in, MetaLineParser.kind(in, tokens));
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
        for (String name :
                new String[] {"shutdown", "slabs", "lru_crawler", "lru", "cache_memlimit", "watch", "extstore"}) {
            if (tokens.is(in, 0, name)) {
                return true;
            }
        }
        return false;
    }

    private Request storage(ByteBuf in, StoreRequest.Kind kind) {
        boolean noreply = tokens.noreplyMaybe(in);
        if (tokens.keyTooLong(1)) {
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

    /** A meta command: its key and flags read by {@link MetaLineParser}, its line passed on; an ms frames a value. */
    private Request meta(ByteBuf in, MetaRequest.Kind kind) {
        if (metaLine == null) {
            metaLine = new MetaLineParser(tokens);
        }
        LocalReply malformed = metaLine.read(in, kind);
        if (malformed != null) {
            return malformed;
        }
        if (kind != MetaRequest.Kind.SET) {
            return metaLine.request(copyLine(in));
        }
        int length = metaLine.dataLength(in);
        if (length < 0) {
            return BAD_FORMAT;
        }
        LocalReply refusal = MetaSetRefusal.of(in, tokens);
        if (length > maxItemSize) {
            swallowRemaining = (long) length + 2;
            state = State.SWALLOW;
            return refusal != null ? refusal : metaLine.oversized();
        }
        pendingMeta = metaLine.request(copyLine(in));
        pendingMetaRefusal = refusal;
        pendingLength = length;
        state = State.DATA;
        return null;
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
                // meta commands report errors even when quiet; memcached judges the flags before the chunk
                out.add(pendingMetaRefusal != null ? pendingMetaRefusal : BAD_DATA_CHUNK);
                return true;
            }
            ByteBuf value = in.retainedSlice(start, pendingLength);
            in.skipBytes(pendingLength + 2);
            out.add(new MetaRequest(
                    m.kind(),
                    m.key(),
                    m.keyToken(),
                    m.base64(),
                    m.quiet(),
                    m.plain(),
                    m.counter(),
                    m.line(),
                    value,
                    m.mirrorLine()));
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
        out.add(new StoreRequest(
                pendingKind, pendingKey, pendingFlags, pendingExptime, pendingCas, pendingNoreply, value));
        pendingKey = null;
        return true;
    }

    @Override
    protected void handlerRemoved0(ChannelHandlerContext ctx) {
        pendingKey = null;
        if (pendingMeta != null) {
            pendingMeta.release();
            pendingMeta = null;
        }
    }
}
