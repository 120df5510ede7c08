package io.jmagent.protocol;

import io.netty.handler.codec.CorruptedFrameException;

/**
 * A server's reply does not fit the request it would be matched to: more came before the MN that
 * closes one meta command than that command can answer. The bytes are not shifted onto the next
 * request; the connection that carried them is no longer trusted and is closed. Thrown by
 * {@link TextReplyDecoder}; it says nothing about the server's health (a client's odd command can
 * cause it), so it does not count toward marking the server down.
 */
public final class ReplyFramingException extends CorruptedFrameException {

    public ReplyFramingException(String message) {
        super(message);
    }
}
