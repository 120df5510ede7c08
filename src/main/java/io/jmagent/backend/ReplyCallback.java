package io.jmagent.backend;

import io.jmagent.protocol.ServerReply;

/** Receives the outcome of one request sent to a server. Called on the connection's event loop. */
public interface ReplyCallback {

    /** The server answered; the callee owns {@code reply} and must release it. */
    void onReply(ServerReply reply);

    /** No answer will come: {@code reason} is short and fit for a {@code SERVER_ERROR} line. */
    void onFailure(String reason);
}
