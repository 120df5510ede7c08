package io.jmagent.config;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads one value of a config file as the type its key wants (a number, a duration, a size, a
 * mapping...), or says in a {@link ConfigException} which key holds what instead.
 */
final class ConfigValues {

    private static final Pattern DURATION = Pattern.compile("(\\d+)\\s*(ms|s)");

    private final String source;

    ConfigValues(String source) {
        this.source = source;
    }

    void resolvable(String host, String key) throws ConfigException {
        try {
            InetAddress.getByName(host);
        } catch (UnknownHostException e) {
            throw error(key, "cannot resolve host '" + host + "'");
        }
    }

    Map<?, ?> mapping(Object node, String key) throws ConfigException {
        if (node instanceof Map<?, ?> m) {
            return m;
        }
        throw error(key, "expected a mapping of key: value, got " + describe(node));
    }

    String string(Object node, String key) throws ConfigException {
        if (node instanceof String s) {
            return s;
        }
        throw error(key, "expected a string, got " + describe(node) + " (quote it)");
    }

    int integer(Object node, String key) throws ConfigException {
        if (node instanceof Integer i) {
            return i;
        }
        throw error(key, "expected a whole number, got " + describe(node));
    }

    int positiveInt(Object node, String key) throws ConfigException {
        int v = integer(node, key);
        if (v <= 0) {
            throw error(key, "must be positive, got " + v);
        }
        return v;
    }

    boolean bool(Object node, String key) throws ConfigException {
        if (node instanceof Boolean b) {
            return b;
        }
        throw error(key, "expected true or false, got " + describe(node));
    }

    /** Milliseconds as a number, or a number with ms or s; positive. */
    Duration duration(Object node, String key) throws ConfigException {
        Duration d = duration(node, key, false);
        if (d.isZero() || d.isNegative()) {
            throw error(key, "must be positive, got " + node);
        }
        return d;
    }

    /** Seconds as a number (the unit of the flag of the same name), or a number with ms or s; zero allowed. */
    Duration seconds(Object node, String key) throws ConfigException {
        Duration d = duration(node, key, true);
        if (d.isNegative()) {
            throw error(key, "must not be negative, got " + node);
        }
        return d;
    }

    private Duration duration(Object node, String key, boolean bareSeconds) throws ConfigException {
        String bare = bareSeconds ? "seconds" : "milliseconds";
        Duration d;
        if (node instanceof Integer n) {
            d = bareSeconds ? Duration.ofSeconds(n) : Duration.ofMillis(n);
        } else if (node instanceof String s) {
            Matcher m = DURATION.matcher(s.trim());
            if (!m.matches()) {
                throw error(key, "not a duration: '" + s + "' (" + bare + ", or like 250ms or 2s)");
            }
            long n = Long.parseLong(m.group(1));
            d = m.group(2).equals("s") ? Duration.ofSeconds(n) : Duration.ofMillis(n);
        } else {
            throw error(key, "expected " + bare + ", got " + describe(node));
        }
        return d;
    }

    /** Bytes as a number, or a number with k or m. */
    int size(Object node, String key) throws ConfigException {
        try {
            if (node instanceof Integer i) {
                return ByteSize.parse(Integer.toString(i));
            }
            if (node instanceof String s) {
                return ByteSize.parse(s);
            }
        } catch (IllegalArgumentException e) {
            throw error(key, e.getMessage());
        }
        throw error(key, "expected a size (bytes, or like 64k or 1m), got " + describe(node));
    }

    private static String describe(Object node) {
        if (node == null) {
            return "nothing";
        }
        if (node instanceof Map) {
            return "a mapping";
        }
        if (node instanceof List) {
            return "a list";
        }
        if (node instanceof String s) {
            return "'" + s + "'";
        }
        return node.toString();
    }

    private ConfigException error(String key, String problem) {
        return new ConfigException(source, key, problem);
    }
}
