package io.jmagent.routing;

import io.netty.buffer.ByteBuf;

/**
 * Where the reply to one client request goes, in the client's protocol. Exactly one of the two
 * methods is called, once, on the client's event loop.
 */
public interface ReplySink {

    /** The reply's bytes; the sink takes ownership. */
    void reply(ByteBuf bytes);

    /** A sink for noreply requests: whatever comes back is dropped. */
    ReplySink DISCARD = ByteBuf::release;
}
