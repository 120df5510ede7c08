package io.jmagent.config;

import java.nio.charset.StandardCharsets;

/**
 * One line of a pool's route table (config file {@code routes:}): keys that start with
 * {@code prefix} go to pool {@code pool}'s servers instead of this pool's own. The longest
 * matching prefix wins; a key no prefix matches stays with the pool's own servers.
 */
public record RouteSpec(String prefix, String pool) {

    public RouteSpec {
        if (prefix.isEmpty() || prefix.length() > 250) {
            throw new IllegalArgumentException("a route's prefix is 1 to 250 bytes");
        }
        if (prefix.chars().anyMatch(c -> c <= ' ' || c >= 0x7f)) {
            throw new IllegalArgumentException(
                    "a route's prefix is printable ASCII without spaces, got '" + prefix + "'");
        }
    }

    public byte[] prefixBytes() {
        return prefix.getBytes(StandardCharsets.US_ASCII);
    }
}
