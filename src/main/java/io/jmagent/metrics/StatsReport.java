package io.jmagent.metrics;

import io.jmagent.backend.Farm;
import io.jmagent.backend.ServerHealth;
import io.jmagent.backend.ServerStats;
import io.jmagent.tenant.Tenant;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The replies to {@code stats} (the proxy's figures under memcached's names, protocol.txt
 * "General-purpose statistics", then the proxy's own) and to {@code stats servers} (one line per
 * server: its role, state, traffic and latency).
 */
public final class StatsReport {

    public static final String VERSION = "0.1.0";

    private StatsReport() {}

    /** The general statistics, in memcached's order of names, then the proxy's own, as name/value pairs. */
    public static Map<String, String> general(ProxyStats stats, int threads, int maxConnections, List<Farm> farms) {
        CommandStats c = stats.commands();
        Map<String, String> m = new LinkedHashMap<>();
        m.put("pid", Long.toString(ProcessHandle.current().pid()));
        m.put("uptime", Long.toString(stats.uptimeSeconds()));
        m.put("time", Long.toString(System.currentTimeMillis() / 1000));
        m.put("version", "jmagent-" + VERSION);
        m.put("pointer_size", "64");
        put(m, "max_connections", maxConnections);
        put(m, "curr_connections", stats.currConnections());
        put(m, "total_connections", stats.totalConnections());
        put(m, "rejected_connections", stats.rejectedConnections());
        put(m, "cmd_get", c.cmdGet());
        put(m, "cmd_set", c.cmdSet());
        put(m, "cmd_flush", c.cmdFlush());
        put(m, "cmd_touch", c.cmdTouch());
        put(m, "get_hits", c.getHits());
        put(m, "get_misses", c.getMisses());
        put(m, "delete_misses", c.deleteMisses());
        put(m, "delete_hits", c.deleteHits());
        put(m, "incr_misses", c.incrMisses());
        put(m, "incr_hits", c.incrHits());
        put(m, "decr_misses", c.decrMisses());
        put(m, "decr_hits", c.decrHits());
        put(m, "cas_misses", c.casMisses());
        put(m, "cas_hits", c.casHits());
        put(m, "cas_badval", c.casBadval());
        put(m, "touch_hits", c.touchHits());
        put(m, "touch_misses", c.touchMisses());
        put(m, "auth_cmds", stats.authCmds());
        put(m, "auth_errors", stats.authErrors());
        put(m, "bytes_read", stats.bytesRead());
        put(m, "bytes_written", stats.bytesWritten());
        put(m, "threads", threads);
        put(m, "idle_kicks", stats.idleKicks());
        put(m, "ssl_handshake_errors", stats.sslHandshakeErrors());
        int up = 0;
        int down = 0;
        long downEvents = 0;
        long backendRequests = 0;
        long backendErrors = 0;
        long backendTimeouts = 0;
        for (Farm farm : farms) {
            for (ServerHealth h : farm.health()) {
                if (h.state() == ServerHealth.State.UP) {
                    up++;
                } else {
                    down++;
                }
                downEvents += h.downTransitions();
                backendRequests += h.stats().requests();
                backendErrors += h.stats().errors();
                backendTimeouts += h.stats().timeouts();
            }
        }
        put(m, "requests_in_flight", stats.requestsInFlight());
        put(m, "backend_requests", backendRequests);
        put(m, "backend_errors", backendErrors);
        put(m, "backend_timeouts", backendTimeouts);
        put(m, "backup_reads", stats.backupReads());
        put(m, "write_backs", stats.writeBacks());
        put(m, "mirror_failures", stats.mirrorFailures());
        put(m, "backup_deletes", stats.backupDeletes());
        put(m, "primary_failovers", stats.primaryFailovers());
        put(m, "servers_up", up);
        put(m, "servers_down", down);
        put(m, "server_down_events", downEvents);
        m.put("ring_fingerprint", farms.get(0).fingerprint());
        if (farms.size() > 1) {
            m.put("backup_ring_fingerprint", farms.get(1).fingerprint());
        }
        put(m, "ring_changes", stats.ringChanges());
        put(m, "discovery_lookups", stats.discoveryLookups());
        put(m, "discovery_failures", stats.discoveryFailures());
        put(m, "former_copy_deletes", stats.formerCopyDeletes());
        return m;
    }

    /**
     * {@code stats servers}: one entry per server, primaries first, named by its address, its value
     * {@code role=R state=S inflight=N requests=N errors=N timeouts=N p50_us=N p99_us=N stale_keys=N
     * stale_overflow=0|1 mirrors_in_flight=N reads_held=0|1}; reads_held: skipped by reads after a
     * recent failure ({@code --shared-farm}).
     */
    public static Map<String, String> servers(List<Farm> farms) {
        Map<String, String> m = new LinkedHashMap<>();
        long now = System.nanoTime();
        for (Farm farm : farms) {
            for (ServerHealth h : farm.health()) {
                ServerStats s = h.stats();
                m.put(
                        h.server().toString(),
                        "role=" + farm.role() + " state=" + h.state()
                                + " inflight=" + Math.max(0, s.inflight()) + " requests=" + s.requests()
                                + " errors=" + s.errors() + " timeouts=" + s.timeouts()
                                + " p50_us=" + s.latency().percentile(0.5, now) + " p99_us="
                                + s.latency().percentile(0.99, now)
                                + " stale_keys=" + h.staleKeyCount() + " stale_overflow=" + (h.staleOverflow() ? 1 : 0)
                                + " mirrors_in_flight=" + h.mirrorsInFlight() + " reads_held="
                                + (h.readsHeld() ? 1 : 0));
            }
        }
        return m;
    }

    /**
     * One entry per tenant, for {@code stats tenants}: its connections now, logins, connections
     * refused at its limit, requests served and requests refused over its rate.
     */
    public static Map<String, String> tenants(List<Tenant> tenants) {
        Map<String, String> m = new LinkedHashMap<>();
        for (Tenant t : tenants) {
            m.put(
                    "tenant:" + t.name(),
                    "connections=" + t.connections() + " logins=" + t.logins() + " refused_connections="
                            + t.refusedConnections() + " requests=" + t.requests() + " throttled=" + t.throttled());
        }
        return m;
    }

    /**
     * One entry per route, for {@code stats routes}: its prefix, the pool it leads to and the
     * requests it took (the parts of a split multi-get each count); {@code route:default} for the
     * keys no prefix took. Empty without routes.
     */
    public static Map<String, String> routes(List<RouteCounter> routes) {
        Map<String, String> m = new LinkedHashMap<>();
        for (RouteCounter r : routes) {
            m.put(
                    "route:" + (r.route().isEmpty() ? "default" : r.route()),
                    "pool=" + r.target() + " requests=" + r.requests().getAsLong());
        }
        return m;
    }

    /** The shadow's counters, for {@code stats shadow}. */
    public static Map<String, String> shadow(ShadowCounters c) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("shadow_pool", c.target());
        m.put("shadow_requests", Long.toString(c.requests().getAsLong()));
        m.put("shadow_same", Long.toString(c.same().getAsLong()));
        m.put("shadow_different", Long.toString(c.different().getAsLong()));
        m.put("shadow_failed", Long.toString(c.failed().getAsLong()));
        m.put("shadow_skipped", Long.toString(c.skipped().getAsLong()));
        m.put("shadow_in_flight", Long.toString(c.inFlight().getAsLong()));
        return m;
    }

    /** The text protocol's rendering: "STAT name value" lines closed by END. */
    public static byte[] text(Map<String, String> stats) {
        StringBuilder sb = new StringBuilder(1024);
        stats.forEach((name, value) ->
                sb.append("STAT ").append(name).append(' ').append(value).append("\r\n"));
        sb.append("END\r\n");
        return sb.toString().getBytes(StandardCharsets.US_ASCII);
    }

    private static void put(Map<String, String> m, String name, long value) {
        m.put(name, Long.toString(value));
    }
}
