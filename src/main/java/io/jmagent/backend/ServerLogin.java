package io.jmagent.backend;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The user and password the proxy authenticates with to servers started with memcached's
 * {@code -Y}: on every new connection, the probes' included, it first sends memcached's ASCII
 * authentication (a {@code set} whose value is {@code user password}) and uses the connection
 * only once the server answered {@code STORED}.
 */
public record ServerLogin(String user, String password) {

    public ServerLogin {
        if (user.isEmpty() || password.isEmpty() || (user + password).chars().anyMatch(c -> c <= ' ')) {
            throw new IllegalArgumentException("a user and a password without spaces");
        }
    }

    /** The first {@code user:password} of {@code lines} (blank lines and # comments skipped), read from {@code file}. */
    public static ServerLogin parse(List<String> lines, String file) {
        for (String line : lines) {
            String l = line.strip();
            if (l.isEmpty() || l.startsWith("#")) {
                continue;
            }
            int colon = l.indexOf(':');
            try {
                if (colon <= 0) {
                    throw new IllegalArgumentException("expected user:password");
                }
                return new ServerLogin(l.substring(0, colon), l.substring(colon + 1));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
            }
        }
        throw new IllegalArgumentException(file + ": no user:password line");
    }

    /** memcached's ASCII authentication request. */
    public byte[] request() {
        String token = user + " " + password;
        return ("set auth 0 0 " + token.getBytes(StandardCharsets.UTF_8).length + "\r\n" + token + "\r\n")
                .getBytes(StandardCharsets.UTF_8);
    }

    /** What a server that accepted the login answers. */
    public static final String ACCEPTED = "STORED";
    /** What a server that wants a login answers anything else. */
    public static final String UNAUTHENTICATED = "CLIENT_ERROR unauthenticated";

    @Override
    public String toString() {
        return "ServerLogin[" + user + "]"; // never the password
    }
}
