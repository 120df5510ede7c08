package io.jmagent.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.util.List;

/**
 * Decodes memcached's binary protocol (protocol_binary.h: a 24-byte header, then extras, key and
 * value) into {@link BinaryRequest}s, with memcached's checks: the magic must be 0x80 (otherwise
 * the connection closes), a body shorter than its extras and key is "Unknown command" and close,
 * extras/key/body lengths must fit the opcode and a key is at most 250 bytes (otherwise "Invalid
 * arguments" and close). Nothing is buffered beyond one header, one key and one value within
 * {@code maxItemSize}: a larger storage or SASL value is swallowed unread (the request marked
 * {@code tooLarge}); the body of an unknown command is swallowed whatever its length; any other
 * body that large is invalid.
 */
public final class BinaryRequestDecoder extends ByteToMessageDecoder {

    public static final int HEADER_LENGTH = 24;
    public static final int REQUEST_MAGIC = 0x80;

    private enum State {
        HEADER,
        BODY,
        SWALLOW,
        CLOSED
    }

    private final int maxItemSize;
    private State state = State.HEADER;
    private BinaryOpcode opcode;
    private int rawOpcode;
    private int keyLength;
    private int extrasLength;
    private long bodyLength;
    private int opaque;
    private long cas;
    private long swallowRemaining;
    /** The longest key accepted: memcached's 250, less a tenant's key prefix. */
    private int keyLimit = TextRequestDecoder.MAX_KEY_LENGTH;

    public BinaryRequestDecoder(int maxItemSize) {
        this.maxItemSize = maxItemSize;
    }

    /**
     * Keys longer than {@code max} (at most 250) are refused from now on, as memcached refuses a
     * key over 250 bytes (Invalid arguments, then the connection closes): for a tenant whose key
     * prefix takes the rest.
     */
    public void limitKeys(int max) {
        keyLimit = Math.min(max, TextRequestDecoder.MAX_KEY_LENGTH);
    }

    /** Stops decoding: everything after this point is discarded (quit, or a fatal error). */
    public void stop() {
        state = State.CLOSED;
    }

    /** True while part of a request has arrived and the rest has not. */
    public boolean hasPartialRequest() {
        return state == State.BODY || state == State.SWALLOW || (state == State.HEADER && actualReadableBytes() > 0);
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        // not "while readable": a request without a body is complete with its header. One request
        // per call, so that the session has seen it (a quit, say) before the next is decoded.
        while ((in.isReadable() || state == State.BODY) && out.isEmpty()) {
            switch (state) {
                case HEADER -> {
                    if (in.readableBytes() < HEADER_LENGTH) {
                        return;
                    }
                    if (!readHeader(in, out)) {
                        return;
                    }
                }
                case BODY -> {
                    if (!readBody(in, out)) {
                        return;
                    }
                }
                case SWALLOW -> {
                    int n = (int) Math.min(in.readableBytes(), swallowRemaining);
                    in.skipBytes(n);
                    swallowRemaining -= n;
                    if (swallowRemaining == 0) {
                        state = State.HEADER;
                    }
                }
                case CLOSED -> {
                    in.skipBytes(in.readableBytes());
                    return;
                }
            }
        }
    }

    /** Reads one header; false when the stream must stop (bad magic, invalid request). */
    private boolean readHeader(ByteBuf in, List<Object> out) {
        int start = in.readerIndex();
        int magic = in.getUnsignedByte(start);
        rawOpcode = in.getUnsignedByte(start + 1);
        keyLength = in.getUnsignedShort(start + 2);
        extrasLength = in.getUnsignedByte(start + 4);
        bodyLength = in.getUnsignedInt(start + 8);
        opaque = in.getInt(start + 12);
        cas = in.getLong(start + 16);
        in.skipBytes(HEADER_LENGTH);
        if (magic != REQUEST_MAGIC) {
            // memcached drops a connection that sends anything but a request header
            stop();
            out.add(BinaryRequest.badMagicRequest());
            return false;
        }
        opcode = BinaryOpcode.of(rawOpcode);
        // proto_bin.c (dispatch_bin_command) checks in this order: lengths that do not add up, the
        // key length, then the opcode and its own shape
        if ((long) keyLength + extrasLength > bodyLength) {
            stop();
            out.add(BinaryRequest.closing(rawOpcode, opaque, BinaryResponses.UNKNOWN_COMMAND));
            return false;
        }
        if (keyLength > keyLimit) {
            stop();
            out.add(BinaryRequest.closing(rawOpcode, opaque, BinaryResponses.INVALID_ARGUMENTS));
            return false;
        }
        if (opcode == null) {
            // "Unknown command", and the body is skipped unread however long it is
            out.add(new BinaryRequest(null, rawOpcode, opaque, cas, new byte[0], 0, 0, 0, 0, null, 0, false));
            swallowRemaining = bodyLength;
            state = swallowRemaining > 0 ? State.SWALLOW : State.HEADER;
            return true;
        }
        long valueLength = bodyLength - extrasLength - keyLength;
        boolean oversizedValue = valueLength > maxItemSize;
        if (!opcode.accepts(extrasLength, keyLength, bodyLength)
                || (oversizedValue && !(opcode.isStore() || opcode.isConcat() || opcode.isSasl()))) {
            stop();
            out.add(BinaryRequest.closing(rawOpcode, opaque, BinaryResponses.INVALID_ARGUMENTS));
            return false;
        }
        state = State.BODY;
        return true;
    }

    private boolean readBody(ByteBuf in, List<Object> out) {
        long valueLength = bodyLength - extrasLength - keyLength;
        boolean oversized = valueLength > maxItemSize;
        long needed = oversized ? extrasLength + keyLength : bodyLength;
        if (in.readableBytes() < needed) {
            return false;
        }
        int start = in.readerIndex();
        int flags = 0;
        int exptime = 0;
        long delta = 0;
        long initial = 0;
        if (opcode.isStore()) {
            flags = in.getInt(start);
            exptime = in.getInt(start + 4);
        } else if (opcode.isArithmetic()) {
            delta = in.getLong(start);
            initial = in.getLong(start + 8);
            exptime = in.getInt(start + 16);
        } else if (opcode.isGat()
                || opcode == BinaryOpcode.TOUCH
                || ((opcode == BinaryOpcode.FLUSH || opcode == BinaryOpcode.FLUSHQ) && extrasLength == 4)) {
            exptime = in.getInt(start);
        }
        byte[] key = new byte[keyLength];
        in.getBytes(start + extrasLength, key);
        if (oversized) {
            in.skipBytes(extrasLength + keyLength);
            swallowRemaining = valueLength;
            state = State.SWALLOW;
            out.add(new BinaryRequest(opcode, rawOpcode, opaque, cas, key, flags, exptime, 0, 0, null, 0, true));
            return true;
        }
        ByteBuf value = valueLength > 0 || opcode.isStore() || opcode.isConcat()
                ? in.retainedSlice(start + extrasLength + keyLength, (int) valueLength)
                : null;
        in.skipBytes((int) bodyLength);
        state = State.HEADER;
        out.add(new BinaryRequest(
                opcode, rawOpcode, opaque, cas, key, flags, exptime, delta, initial, value, 0, false));
        return true;
    }
}
