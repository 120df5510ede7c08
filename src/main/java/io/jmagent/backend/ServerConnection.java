package io.jmagent.backend;

import io.jmagent.protocol.ReplyShape;
import io.netty.buffer.ByteBuf;

/**
 * A pipelined connection to one server as routes see it: requests go out in the order they are
 * sent and each gets exactly one answer, in that order. {@link BackendConnection} is the real one;
 * tests put a scripted server behind it.
 */
public interface ServerConnection {

    /**
     * Sends one encoded request; {@code callback} gets exactly one answer. Takes ownership of
     * {@code request}. {@code shape} says how the reply is framed.
     */
    void send(ByteBuf request, ReplyShape shape, ReplyCallback callback);
}
