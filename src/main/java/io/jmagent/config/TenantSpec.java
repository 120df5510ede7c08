package io.jmagent.config;

import java.nio.charset.StandardCharsets;
import java.util.Set;

/**
 * One tenant of a pool, as the config file's {@code tenants:} names it: who it is (users of the
 * pool's auth file, subjects of client certificates), the key prefix its keys get on the servers,
 * and its quotas. A tenant with an empty prefix sees the whole key space (an operator's tenant).
 *
 * @param name                  the tenant's name, in stats and metrics
 * @param prefix                added before every key its clients send, taken off every key they get back
 * @param users                 auth-file users who are this tenant
 * @param certificates          client-certificate subjects (RFC 2253, as {@code openssl x509 -noout
 *                              -subject -nameopt RFC2253} prints them) who are this tenant
 * @param maxConnections        its clients connected at once; 0 = no limit
 * @param maxRequestsPerSecond  its requests per second over all its clients; 0 = no limit
 */
public record TenantSpec(
        String name,
        String prefix,
        Set<String> users,
        Set<String> certificates,
        int maxConnections,
        int maxRequestsPerSecond) {

    /** Longest key prefix: a key of memcached's 250 bytes keeps at least 50 of its own. */
    public static final int MAX_PREFIX_LENGTH = 200;

    public TenantSpec {
        users = Set.copyOf(users);
        certificates = Set.copyOf(certificates);
        if (prefix.length() > MAX_PREFIX_LENGTH) {
            throw new IllegalArgumentException("a key prefix is at most " + MAX_PREFIX_LENGTH + " bytes");
        }
        if (prefix.chars().anyMatch(c -> c <= ' ' || c >= 0x7f)) {
            throw new IllegalArgumentException("a key prefix is printable ASCII without spaces, got '" + prefix + "'");
        }
        if (users.isEmpty() && certificates.isEmpty()) {
            throw new IllegalArgumentException("names nobody: give users or certificates");
        }
        if (maxConnections < 0 || maxRequestsPerSecond < 0) {
            throw new IllegalArgumentException("quotas are 0 (none) or more");
        }
    }

    public byte[] prefixBytes() {
        return prefix.getBytes(StandardCharsets.US_ASCII);
    }
}
