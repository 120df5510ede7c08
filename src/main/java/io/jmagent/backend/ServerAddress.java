package io.jmagent.backend;

import java.net.InetSocketAddress;

/**
 * A memcached server as given on the command line ({@code host:port[:weight]}). {@code host} is
 * kept exactly as written: ketama names its points after it, so "127.0.0.1" and "localhost"
 * place keys differently, as they do in libmemcached.
 */
public record ServerAddress(String host, int port, int weight) {

    public static final int DEFAULT_PORT = 11211;

    public ServerAddress {
        if (host == null || host.isEmpty()) {
            throw new IllegalArgumentException("empty host");
        }
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("port out of range: " + port);
        }
        if (weight < 1) {
            throw new IllegalArgumentException("weight must be positive: " + weight);
        }
    }

    /** Parses {@code host[:port[:weight]]}; an IPv6 host goes in brackets ({@code [::1]:11211}). */
    public static ServerAddress parse(String spec) {
        String s = spec.trim();
        String host;
        String rest;
        if (s.startsWith("[")) {
            int close = s.indexOf(']');
            if (close < 0) {
                throw new IllegalArgumentException("bad server address '" + spec + "'");
            }
            host = s.substring(1, close);
            rest = s.substring(close + 1);
            if (!rest.isEmpty() && !rest.startsWith(":")) {
                throw new IllegalArgumentException("bad server address '" + spec + "'");
            }
            rest = rest.isEmpty() ? "" : rest.substring(1);
        } else {
            int colon = s.indexOf(':');
            host = colon < 0 ? s : s.substring(0, colon);
            rest = colon < 0 ? "" : s.substring(colon + 1);
        }
        int port = DEFAULT_PORT;
        int weight = 1;
        try {
            if (!rest.isEmpty()) {
                String[] parts = rest.split(":", -1);
                if (parts.length > 2) {
                    throw new IllegalArgumentException("expected host[:port[:weight]]");
                }
                port = Integer.parseInt(parts[0]);
                if (parts.length == 2) {
                    weight = Integer.parseInt(parts[1]);
                }
            }
            return new ServerAddress(host, port, weight);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("bad server address '" + spec + "': not a number");
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("bad server address '" + spec + "': " + e.getMessage());
        }
    }

    public InetSocketAddress socketAddress() {
        return InetSocketAddress.createUnresolved(host, port);
    }

    @Override
    public String toString() {
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
    }
}
