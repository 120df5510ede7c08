package io.jmagent.tenant;

import io.jmagent.config.TenantSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A pool's tenants: who is which tenant (an auth-file user, a client certificate's subject), kept
 * across reloads by name so that counters and connection counts go on. With tenants, a client
 * that is none of them is not let in. Shared by every event loop; {@link #update} is the reload's.
 */
public final class Tenants {

    private final Map<String, Tenant> byName = new ConcurrentHashMap<>();
    private volatile Map<String, Tenant> byUser = Map.of();
    private volatile Map<String, Tenant> byCertificate = Map.of();

    public Tenants(List<TenantSpec> specs) {
        update(specs);
    }

    /**
     * The tenants of a reloaded config: same-named ones take the new settings and keep their
     * counters; a tenant no longer named lets no one new in (its clients stay, as the auth file's
     * clients do when their user goes).
     */
    public synchronized void update(List<TenantSpec> specs) {
        Map<String, Tenant> users = new ConcurrentHashMap<>();
        Map<String, Tenant> certificates = new ConcurrentHashMap<>();
        for (TenantSpec s : specs) {
            Tenant t = byName.computeIfAbsent(s.name(), n -> new Tenant(s));
            t.apply(s);
            s.users().forEach(u -> users.put(u, t));
            s.certificates().forEach(c -> certificates.put(c, t));
        }
        byUser = Map.copyOf(users);
        byCertificate = Map.copyOf(certificates);
    }

    /** The tenant auth-file user {@code user} is, or null. */
    public Tenant ofUser(String user) {
        return byUser.get(user);
    }

    /** The tenant a client certificate with subject {@code subject} (RFC 2253) is, or null. */
    public Tenant ofCertificate(String subject) {
        return byCertificate.get(subject);
    }

    /** Every tenant seen since start, in name order. */
    public List<Tenant> all() {
        List<Tenant> all = new ArrayList<>(byName.values());
        all.sort((a, b) -> a.name().compareTo(b.name()));
        return all;
    }
}
