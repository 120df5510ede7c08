package io.jmagent.tenant;

import io.jmagent.config.TenantSpec;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * One tenant while the proxy runs: its settings in force (a reload may change them; a client
 * keeps the key prefix it logged in with), its connections and requests against its quotas, and
 * its counters for {@code stats tenants} and {@code /metrics}. Shared by every event loop.
 */
public final class Tenant {

    private final String name;
    private volatile TenantSpec spec;
    private volatile RequestRate rate;
    private final AtomicInteger connections = new AtomicInteger();
    private final LongAdder requests = new LongAdder();
    private final LongAdder throttled = new LongAdder();
    private final LongAdder logins = new LongAdder();
    private final LongAdder refusedConnections = new LongAdder();

    Tenant(TenantSpec spec) {
        this.name = spec.name();
        apply(spec);
    }

    /** New settings, from a reload; the counters and the connections go on. */
    void apply(TenantSpec next) {
        if (spec == null || spec.maxRequestsPerSecond() != next.maxRequestsPerSecond()) {
            rate = next.maxRequestsPerSecond() == 0 ? null : new RequestRate(next.maxRequestsPerSecond());
        }
        spec = next;
    }

    public String name() {
        return name;
    }

    public TenantSpec spec() {
        return spec;
    }

    /**
     * A client logged in as this tenant: true when it may stay (counted until {@link #disconnected}),
     * false when the tenant is at its connection quota (counted as refused).
     */
    public boolean connected() {
        int max = spec.maxConnections();
        while (true) {
            int n = connections.get();
            if (max > 0 && n >= max) {
                refusedConnections.increment();
                return false;
            }
            if (connections.compareAndSet(n, n + 1)) {
                logins.increment();
                return true;
            }
        }
    }

    /** A client {@link #connected} closed. */
    public void disconnected() {
        connections.decrementAndGet();
    }

    /** One request of this tenant's: true when within its rate (counted), false when refused (counted as throttled). */
    public boolean admit() {
        RequestRate r = rate;
        if (r != null && !r.admit(System.nanoTime())) {
            throttled.increment();
            return false;
        }
        requests.increment();
        return true;
    }

    public int connections() {
        return connections.get();
    }

    public long requests() {
        return requests.sum();
    }

    public long throttled() {
        return throttled.sum();
    }

    public long logins() {
        return logins.sum();
    }

    public long refusedConnections() {
        return refusedConnections.sum();
    }
}
