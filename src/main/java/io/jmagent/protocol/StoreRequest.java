package io.jmagent.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.util.ReferenceCounted;

/**
 * set, add, replace, append, prepend and cas. {@code value} is a retained slice of the client's
 * input (without the trailing CRLF); the request owns it until {@link #release()} or until it is
 * handed on. {@code flags} is memcached's 32-bit client flags word, kept as an unsigned int.
 */
public record StoreRequest(Kind kind, byte[] key, int flags, int exptime, long cas, boolean noreply, ByteBuf value)
        implements Request {

    public enum Kind {
        SET("set"),
        ADD("add"),
        REPLACE("replace"),
        APPEND("append"),
        PREPEND("prepend"),
        CAS("cas");

        private final String command;

        Kind(String command) {
            this.command = command;
        }

        public String command() {
            return command;
        }
    }

    public void release() {
        ReferenceCounted v = value;
        if (v.refCnt() > 0) {
            v.release();
        }
    }
}
