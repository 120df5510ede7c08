package io.jmagent.frontend;

import java.nio.channels.UnresolvedAddressException;
import java.util.regex.Pattern;

/**
 * A listener that could not be opened: which one (a pool's TCP port or unix socket, or the HTTP
 * endpoint), where, and the system's reason in its own words, without Netty's wrapping:
 * {@code cannot listen on 127.0.0.1:11211: Address already in use}. The command line turns it
 * into one line naming the flag or the config file's key.
 */
public final class ListenFailure extends RuntimeException {

    private static final long serialVersionUID = 1L;
    /** Netty's native transports say {@code bind(..) failed with error(-98): Address already in use}. */
    private static final Pattern NATIVE_PREFIX = Pattern.compile("^\\w+\\(\\.\\.\\) failed with error\\(-?\\d+\\): ");

    /** Which listener failed. */
    public enum Listener {
        TCP,
        TLS,
        UNIX_SOCKET,
        HTTP
    }

    private final String pool;
    private final Listener listener;

    /** {@code pool}: the pool whose listener it is; null for the process's HTTP endpoint. */
    ListenFailure(String pool, Listener listener, String address, String reason, Throwable cause) {
        super("cannot listen on " + address + ": " + reason, cause);
        this.pool = pool;
        this.listener = listener;
    }

    ListenFailure(String pool, Listener listener, String address, Throwable cause) {
        this(pool, listener, address, reason(cause), cause);
    }

    /** The pool whose listener failed; null for the HTTP endpoint. */
    public String pool() {
        return pool;
    }

    public Listener listener() {
        return listener;
    }

    private static String reason(Throwable cause) {
        if (cause instanceof UnresolvedAddressException) {
            return "cannot resolve the host";
        }
        String message = cause.getMessage();
        if (message == null || message.isBlank()) {
            return cause.getClass().getSimpleName();
        }
        String reason = NATIVE_PREFIX.matcher(message).replaceFirst("");
        if (reason.equals("Cannot assign requested address")) {
            reason += " (not an address of this machine)";
        }
        return reason;
    }
}
