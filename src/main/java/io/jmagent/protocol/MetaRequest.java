package io.jmagent.protocol;

import io.netty.buffer.ByteBuf;

/**
 * A meta command (mg, ms, md, ma, me) from protocol.txt's "Meta Commands". The proxy reads only
 * what it needs to route and frame it: the key ({@code key}, base64-decoded when the {@code b}
 * flag is set, for ketama; {@code keyToken} as written), the value of an ms, and whether the
 * {@code q} flag asks for quiet mode. The command line itself ({@code line}, with its CRLF) goes
 * to the server unchanged, so every flag is served by memcached as it would be directly.
 * {@code line} and {@code value} (ms only, without its CRLF; null otherwise) are owned by the
 * request until released or handed on.
 */
public record MetaRequest(Kind kind, byte[] key, String keyToken, boolean base64, boolean quiet,
        boolean plainSet, ByteBuf line, ByteBuf value) implements Request {

    public enum Kind { GET, SET, DELETE, ARITHMETIC, DEBUG }

    public boolean isWrite() {
        return kind == Kind.SET || kind == Kind.DELETE || kind == Kind.ARITHMETIC;
    }

    public void release() {
        if (line.refCnt() > 0) {
            line.release();
        }
        if (value != null && value.refCnt() > 0) {
            value.release();
        }
    }
}
