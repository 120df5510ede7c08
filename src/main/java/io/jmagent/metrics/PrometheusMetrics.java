package io.jmagent.metrics;

import io.jmagent.backend.Farm;
import io.jmagent.backend.ServerHealth;
import io.jmagent.backend.ServerStats;
import io.jmagent.tenant.Tenant;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.FunctionTimer;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.TimeGauge;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufAllocatorMetric;
import io.netty.buffer.ByteBufAllocatorMetricProvider;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import java.util.function.ToDoubleFunction;

/**
 * The process's figures for {@code /metrics}, in Prometheus' text format through Micrometer: per pool
 * ({@code pool} label) every counter of {@code stats} as {@code jmagent_<name>_total} and every
 * gauge as {@code jmagent_<name>}; per server ({@code pool}, {@code role}, {@code server} labels) its
 * requests, errors, timeouts, requests in flight, whether it is up, its stale keys, and its
 * latency (count and sum, and the recent p50 and p99); the JVM's memory, GC, threads and CPU, and
 * the memory held by Netty's buffer allocator. Meters read the proxy's own lock-free counters when
 * scraped; nothing is recorded twice. Each scrape first brings the meters in line with the pools
 * running then (a reload may add or remove pools and servers): series of what is gone are removed,
 * new ones registered.
 */
public final class PrometheusMetrics implements AutoCloseable {

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final JvmGcMetrics gcMetrics = new JvmGcMetrics();
    private final Supplier<List<PoolView>> pools;
    /** The meters registered per pool and per server (key: pool, role, server), and what they read. */
    private final Map<List<String>, Bound> bound = new HashMap<>();

    private record Bound(Object source, List<Meter> meters) {}

    /** {@code pools} gives the pools running at the moment of each scrape. */
    public PrometheusMetrics(Supplier<List<PoolView>> pools, ByteBufAllocator allocator) {
        this.pools = pools;
        new JvmMemoryMetrics().bindTo(registry);
        gcMetrics.bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        bindAllocator(allocator);
    }

    /** Registers the meters of the pools and servers running now, and removes those of what is gone. */
    private void sync() {
        Map<List<String>, Object> now = new HashMap<>();
        Map<List<String>, Supplier<List<Meter>>> binders = new HashMap<>();
        for (PoolView p : pools.get()) {
            List<String> poolKey = List.of(p.name());
            now.put(poolKey, p.stats());
            binders.put(poolKey, () -> bindProxy(p.stats(), Tags.of("pool", p.name())));
            if (p.shadow() != null) {
                List<String> shadowKey = List.of(p.name(), "shadow");
                now.put(shadowKey, p.shadow());
                binders.put(
                        shadowKey,
                        () -> bindShadow(
                                p.shadow(),
                                Tags.of("pool", p.name(), "target", p.shadow().target())));
            }
            if (!p.routes().isEmpty()) {
                List<String> routesKey = List.of(p.name(), "routes");
                now.put(routesKey, p.routes());
                binders.put(routesKey, () -> bindRoutes(p.routes(), p.name()));
            }
            for (Tenant t : p.tenants()) {
                List<String> tenantKey = List.of(p.name(), "tenant", t.name());
                now.put(tenantKey, t);
                binders.put(tenantKey, () -> bindTenant(t, Tags.of("pool", p.name(), "tenant", t.name())));
            }
            for (Farm farm : p.farms()) {
                List<String> ringKey = List.of(p.name(), farm.role(), "ring");
                now.put(ringKey, farm);
                binders.put(
                        ringKey,
                        () -> List.of(Gauge.builder("jmagent.ring.info", () -> 1)
                                .tags(Tags.of("pool", p.name(), "role", farm.role(), "fingerprint", farm.fingerprint()))
                                .description("the ring in force: its fingerprint (stats ring_fingerprint) as a label")
                                .register(registry)));
                for (ServerHealth h : farm.health()) {
                    List<String> key = List.of(p.name(), farm.role(), h.server().toString());
                    now.put(key, h);
                    binders.put(
                            key,
                            () -> bindServer(
                                    h,
                                    Tags.of(
                                            "pool",
                                            p.name(),
                                            "role",
                                            farm.role(),
                                            "server",
                                            h.server().toString())));
                }
            }
        }
        bound.entrySet().removeIf(e -> {
            boolean gone = now.get(e.getKey()) != e.getValue().source();
            if (gone) {
                e.getValue().meters().forEach(registry::remove);
            }
            return gone;
        });
        now.forEach((key, source) -> {
            if (!bound.containsKey(key)) {
                bound.put(key, new Bound(source, binders.get(key).get()));
            }
        });
    }

    private List<Meter> bindShadow(ShadowCounters c, Tags tags) {
        return List.of(
                FunctionCounter.builder("jmagent.shadow.requests", c.requests(), LongSupplier::getAsLong)
                        .tags(tags)
                        .description("requests also sent to the shadow pool")
                        .register(registry),
                FunctionCounter.builder("jmagent.shadow.same", c.same(), LongSupplier::getAsLong)
                        .tags(tags)
                        .description("shadowed requests the shadow answered as the pool did")
                        .register(registry),
                FunctionCounter.builder("jmagent.shadow.different", c.different(), LongSupplier::getAsLong)
                        .tags(tags)
                        .description("shadowed requests the shadow answered otherwise")
                        .register(registry),
                FunctionCounter.builder("jmagent.shadow.failed", c.failed(), LongSupplier::getAsLong)
                        .tags(tags)
                        .description("shadowed requests the shadow failed")
                        .register(registry),
                FunctionCounter.builder("jmagent.shadow.skipped", c.skipped(), LongSupplier::getAsLong)
                        .tags(tags)
                        .description("requests not shadowed: max-in-flight were on their way")
                        .register(registry),
                Gauge.builder("jmagent.shadow.in.flight", c.inFlight(), LongSupplier::getAsLong)
                        .tags(tags)
                        .description("shadow requests on their way")
                        .register(registry));
    }

    private List<Meter> bindRoutes(List<RouteCounter> routes, String pool) {
        List<Meter> m = new ArrayList<>();
        for (RouteCounter r : routes) {
            m.add(FunctionCounter.builder("jmagent.route.requests", r.requests(), LongSupplier::getAsLong)
                    .tags(Tags.of("pool", pool, "route", r.route(), "target", r.target()))
                    .description("requests a route of the pool's table took (route \"\": keys no prefix took)")
                    .register(registry));
        }
        return m;
    }

    private List<Meter> bindTenant(Tenant t, Tags tags) {
        return List.of(
                Gauge.builder("jmagent.tenant.connections", t, Tenant::connections)
                        .tags(tags)
                        .description("the tenant's clients connected now")
                        .register(registry),
                FunctionCounter.builder("jmagent.tenant.logins", t, Tenant::logins)
                        .tags(tags)
                        .description("clients let in as the tenant")
                        .register(registry),
                FunctionCounter.builder("jmagent.tenant.refused.connections", t, Tenant::refusedConnections)
                        .tags(tags)
                        .description("clients refused: the tenant was at its connection limit")
                        .register(registry),
                FunctionCounter.builder("jmagent.tenant.requests", t, Tenant::requests)
                        .tags(tags)
                        .description("the tenant's requests served")
                        .register(registry),
                FunctionCounter.builder("jmagent.tenant.throttled", t, Tenant::throttled)
                        .tags(tags)
                        .description("the tenant's requests refused over its request rate")
                        .register(registry));
    }

    private List<Meter> bindProxy(ProxyStats s, Tags tags) {
        CommandStats c = s.commands();
        List<Meter> m = new ArrayList<>();
        m.add(gauge("curr_connections", s, ProxyStats::currConnections, tags));
        m.add(gauge("requests_in_flight", s, ProxyStats::requestsInFlight, tags));
        m.add(counter("total_connections", s, ProxyStats::totalConnections, tags));
        m.add(counter("rejected_connections", s, ProxyStats::rejectedConnections, tags));
        m.add(counter("cmd_get", c, CommandStats::cmdGet, tags));
        m.add(counter("cmd_set", c, CommandStats::cmdSet, tags));
        m.add(counter("cmd_flush", c, CommandStats::cmdFlush, tags));
        m.add(counter("cmd_touch", c, CommandStats::cmdTouch, tags));
        m.add(counter("get_hits", c, CommandStats::getHits, tags));
        m.add(counter("get_misses", c, CommandStats::getMisses, tags));
        m.add(counter("delete_hits", c, CommandStats::deleteHits, tags));
        m.add(counter("delete_misses", c, CommandStats::deleteMisses, tags));
        m.add(counter("incr_hits", c, CommandStats::incrHits, tags));
        m.add(counter("incr_misses", c, CommandStats::incrMisses, tags));
        m.add(counter("decr_hits", c, CommandStats::decrHits, tags));
        m.add(counter("decr_misses", c, CommandStats::decrMisses, tags));
        m.add(counter("cas_hits", c, CommandStats::casHits, tags));
        m.add(counter("cas_misses", c, CommandStats::casMisses, tags));
        m.add(counter("cas_badval", c, CommandStats::casBadval, tags));
        m.add(counter("touch_hits", c, CommandStats::touchHits, tags));
        m.add(counter("touch_misses", c, CommandStats::touchMisses, tags));
        m.add(counter("bytes_read", s, ProxyStats::bytesRead, tags));
        m.add(counter("bytes_written", s, ProxyStats::bytesWritten, tags));
        m.add(counter("idle_kicks", s, ProxyStats::idleKicks, tags));
        m.add(counter("ring_changes", s, ProxyStats::ringChanges, tags));
        m.add(counter("discovery_lookups", s, ProxyStats::discoveryLookups, tags));
        m.add(counter("discovery_failures", s, ProxyStats::discoveryFailures, tags));
        m.add(counter("former_copy_deletes", s, ProxyStats::formerCopyDeletes, tags));
        m.add(counter("ssl_handshake_errors", s, ProxyStats::sslHandshakeErrors, tags));
        m.add(counter("auth_cmds", s, ProxyStats::authCmds, tags));
        m.add(counter("auth_errors", s, ProxyStats::authErrors, tags));
        m.add(counter("backup_reads", s, ProxyStats::backupReads, tags));
        m.add(counter("write_backs", s, ProxyStats::writeBacks, tags));
        m.add(counter("mirror_failures", s, ProxyStats::mirrorFailures, tags));
        m.add(counter("backup_deletes", s, ProxyStats::backupDeletes, tags));
        m.add(counter("primary_failovers", s, ProxyStats::primaryFailovers, tags));
        return m;
    }

    private List<Meter> bindServer(ServerHealth h, Tags tags) {
        ServerStats s = h.stats();
        List<Meter> m = new ArrayList<>();
        m.add(FunctionCounter.builder("jmagent.server.requests", s, ServerStats::requests)
                .tags(tags)
                .description("Requests the server answered")
                .register(registry));
        m.add(FunctionCounter.builder("jmagent.server.errors", s, ServerStats::errors)
                .tags(tags)
                .description("Requests that got no answer: refused, connection lost, deadline passed")
                .register(registry));
        m.add(FunctionCounter.builder("jmagent.server.timeouts", s, ServerStats::timeouts)
                .tags(tags)
                .description("Requests that passed their deadline")
                .register(registry));
        m.add(FunctionCounter.builder("jmagent.server.down.events", h, ServerHealth::downTransitions)
                .tags(tags)
                .description("Times the server was marked down")
                .register(registry));
        m.add(Gauge.builder("jmagent.server.inflight", s, ServerStats::inflight)
                .tags(tags)
                .description("Requests sent to the server and not answered yet")
                .register(registry));
        m.add(Gauge.builder("jmagent.server.up", h, x -> x.state() == ServerHealth.State.UP ? 1 : 0)
                .tags(tags)
                .description("1 while the server is UP; 0 while DOWN or RECOVERING")
                .register(registry));
        m.add(Gauge.builder("jmagent.server.stale.keys", h, ServerHealth::staleKeyCount)
                .tags(tags)
                .description("Keys whose latest write may not be on the server, not read from it until deleted there")
                .register(registry));
        m.add(Gauge.builder("jmagent.server.stale.overflow", h, x -> x.staleOverflow() ? 1 : 0)
                .tags(tags)
                .description("1 while more keys were stale than --max-stale-keys: no key is read from the server")
                .register(registry));
        m.add(Gauge.builder("jmagent.server.mirrors.in.flight", h, ServerHealth::mirrorsInFlight)
                .tags(tags)
                .description("Keys with a write on its way to this backup (or awaiting its primary's answer): "
                        + "not read from it by other connections meanwhile")
                .register(registry));
        m.add(FunctionTimer.builder(
                        "jmagent.server.latency",
                        s,
                        ServerStats::requests,
                        ServerStats::latencyNanos,
                        TimeUnit.NANOSECONDS)
                .tags(tags)
                .description("Time from request sent to reply")
                .register(registry));
        for (double q : new double[] {0.5, 0.99}) {
            m.add(TimeGauge.builder("jmagent.server.latency.percentile", s, TimeUnit.MICROSECONDS, x -> x.latency()
                            .percentile(q))
                    .tags(tags)
                    .tag("quantile", Double.toString(q))
                    .description("Reply latency percentile over the last one to two minutes")
                    .register(registry));
        }
        return m;
    }

    private void bindAllocator(ByteBufAllocator allocator) {
        if (!(allocator instanceof ByteBufAllocatorMetricProvider provider)) {
            return;
        }
        ByteBufAllocatorMetric m = provider.metric();
        String name = allocator.getClass().getSimpleName();
        Gauge.builder("netty.allocator.memory.used", m, ByteBufAllocatorMetric::usedDirectMemory)
                .tags("allocator", name, "memory", "direct")
                .baseUnit("bytes")
                .description("Direct memory held by Netty's buffer allocator")
                .register(registry);
        Gauge.builder("netty.allocator.memory.used", m, ByteBufAllocatorMetric::usedHeapMemory)
                .tags("allocator", name, "memory", "heap")
                .baseUnit("bytes")
                .description("Heap memory held by Netty's buffer allocator")
                .register(registry);
    }

    private <T> Meter counter(String name, T obj, ToDoubleFunction<T> f, Tags tags) {
        return FunctionCounter.builder("jmagent." + name, obj, f)
                .tags(tags)
                .description("stats: " + name)
                .register(registry);
    }

    private <T> Meter gauge(String name, T obj, ToDoubleFunction<T> f, Tags tags) {
        return Gauge.builder("jmagent." + name, obj, f)
                .tags(tags)
                .description("stats: " + name)
                .register(registry);
    }

    /** Every meter of the pools running now in Prometheus' text exposition format 0.0.4. */
    public synchronized String scrape() {
        sync();
        return registry.scrape();
    }

    @Override
    public synchronized void close() {
        gcMetrics.close();
        registry.close();
    }
}
