package io.jmagent.loadgen;

import java.net.InetSocketAddress;

/**
 * One target as {@code --target} names it: {@code NAME=HOST:PORT} for plain memcached text, or
 * {@code NAME=tls://HOST:PORT} for the same over TLS (the host also the name the certificate is
 * checked against).
 */
record Target(String name, String host, int port, boolean tls) {

    private static final String TLS_SCHEME = "tls://";

    /** The target {@code spec} names; an IllegalArgumentException saying what is wrong with it. */
    static Target parse(String spec) {
        int eq = spec.indexOf('=');
        if (eq <= 0) {
            throw new IllegalArgumentException("expected NAME=HOST:PORT or NAME=tls://HOST:PORT, got " + spec);
        }
        String address = spec.substring(eq + 1);
        boolean tls = address.startsWith(TLS_SCHEME);
        if (tls) {
            address = address.substring(TLS_SCHEME.length());
        }
        int colon = address.lastIndexOf(':');
        if (colon <= 0 || address.contains("://")) {
            throw new IllegalArgumentException("expected NAME=HOST:PORT or NAME=tls://HOST:PORT, got " + spec);
        }
        int port;
        try {
            port = Integer.parseInt(address.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("not a port in " + spec, e);
        }
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("not a port in " + spec);
        }
        return new Target(spec.substring(0, eq), address.substring(0, colon), port, tls);
    }

    InetSocketAddress address() {
        return new InetSocketAddress(host, port);
    }
}
