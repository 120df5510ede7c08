package io.jmagent.backend;

/** The connections one event loop holds to every server of a farm, as routes see them. */
public interface ServerConnections {

    /** The connection to server {@code server} that the session {@code sessionId} uses. */
    ServerConnection connection(int server, long sessionId);
}
