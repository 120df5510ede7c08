package io.jmagent.metrics;

import io.jmagent.backend.Farm;
import io.jmagent.backend.ServerHealth;
import io.jmagent.backend.ServerStats;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.FunctionTimer;
import io.micrometer.core.instrument.Gauge;
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
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.ToDoubleFunction;

/**
 * The proxy's figures for {@code /metrics}, in Prometheus' text format through Micrometer: every
 * counter of {@code stats} as {@code jmagent_<name>_total} and every gauge as {@code jmagent_<name>},
 * per server ({@code server}, {@code role} labels) its requests, errors, timeouts, requests in
 * flight, whether it is up, and its latency (count and sum, and the recent p50 and p99), the JVM's
 * memory, GC, threads and CPU, and the memory held by Netty's buffer allocator. Meters read the
 * proxy's own lock-free counters when scraped; nothing is recorded twice.
 */
public final class PrometheusMetrics implements AutoCloseable {

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final JvmGcMetrics gcMetrics = new JvmGcMetrics();

    public PrometheusMetrics(ProxyStats stats, List<Farm> farms, ByteBufAllocator allocator) {
        bindProxy(stats);
        for (Farm farm : farms) {
            for (ServerHealth h : farm.health()) {
                bindServer(h, Tags.of("server", h.server().toString(), "role", farm.role()));
            }
        }
        new JvmMemoryMetrics().bindTo(registry);
        gcMetrics.bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        bindAllocator(allocator);
    }

    private void bindProxy(ProxyStats s) {
        CommandStats c = s.commands();
        gauge("curr_connections", s, ProxyStats::currConnections);
        gauge("requests_in_flight", s, ProxyStats::requestsInFlight);
        counter("total_connections", s, ProxyStats::totalConnections);
        counter("rejected_connections", s, ProxyStats::rejectedConnections);
        counter("cmd_get", c, CommandStats::cmdGet);
        counter("cmd_set", c, CommandStats::cmdSet);
        counter("cmd_flush", c, CommandStats::cmdFlush);
        counter("cmd_touch", c, CommandStats::cmdTouch);
        counter("get_hits", c, CommandStats::getHits);
        counter("get_misses", c, CommandStats::getMisses);
        counter("delete_hits", c, CommandStats::deleteHits);
        counter("delete_misses", c, CommandStats::deleteMisses);
        counter("incr_hits", c, CommandStats::incrHits);
        counter("incr_misses", c, CommandStats::incrMisses);
        counter("decr_hits", c, CommandStats::decrHits);
        counter("decr_misses", c, CommandStats::decrMisses);
        counter("cas_hits", c, CommandStats::casHits);
        counter("cas_misses", c, CommandStats::casMisses);
        counter("cas_badval", c, CommandStats::casBadval);
        counter("touch_hits", c, CommandStats::touchHits);
        counter("touch_misses", c, CommandStats::touchMisses);
        counter("bytes_read", s, ProxyStats::bytesRead);
        counter("bytes_written", s, ProxyStats::bytesWritten);
        counter("idle_kicks", s, ProxyStats::idleKicks);
        counter("backup_reads", s, ProxyStats::backupReads);
        counter("write_backs", s, ProxyStats::writeBacks);
        counter("mirror_failures", s, ProxyStats::mirrorFailures);
        counter("backup_deletes", s, ProxyStats::backupDeletes);
        counter("primary_failovers", s, ProxyStats::primaryFailovers);
    }

    private void bindServer(ServerHealth h, Tags tags) {
        ServerStats s = h.stats();
        FunctionCounter.builder("jmagent.server.requests", s, ServerStats::requests).tags(tags)
                .description("Requests the server answered").register(registry);
        FunctionCounter.builder("jmagent.server.errors", s, ServerStats::errors).tags(tags)
                .description("Requests that got no answer: refused, connection lost, deadline passed")
                .register(registry);
        FunctionCounter.builder("jmagent.server.timeouts", s, ServerStats::timeouts).tags(tags)
                .description("Requests that passed their deadline").register(registry);
        FunctionCounter.builder("jmagent.server.down.events", h, ServerHealth::downTransitions).tags(tags)
                .description("Times the server was marked down").register(registry);
        Gauge.builder("jmagent.server.inflight", s, ServerStats::inflight).tags(tags)
                .description("Requests sent to the server and not answered yet").register(registry);
        Gauge.builder("jmagent.server.up", h, x -> x.state() == ServerHealth.State.UP ? 1 : 0).tags(tags)
                .description("1 while the server is UP; 0 while DOWN or RECOVERING").register(registry);
        FunctionTimer.builder("jmagent.server.latency", s, ServerStats::requests, ServerStats::latencyNanos,
                TimeUnit.NANOSECONDS).tags(tags).description("Time from request sent to reply").register(registry);
        for (double q : new double[] {0.5, 0.99}) {
            TimeGauge.builder("jmagent.server.latency.percentile", s, TimeUnit.MICROSECONDS,
                            x -> x.latency().percentile(q)).tags(tags).tag("quantile", Double.toString(q))
                    .description("Reply latency percentile over the last one to two minutes").register(registry);
        }
    }

    private void bindAllocator(ByteBufAllocator allocator) {
        if (!(allocator instanceof ByteBufAllocatorMetricProvider provider)) {
            return;
        }
        ByteBufAllocatorMetric m = provider.metric();
        String name = allocator.getClass().getSimpleName();
        Gauge.builder("netty.allocator.memory.used", m, ByteBufAllocatorMetric::usedDirectMemory)
                .tags("allocator", name, "memory", "direct").baseUnit("bytes")
                .description("Direct memory held by Netty's buffer allocator").register(registry);
        Gauge.builder("netty.allocator.memory.used", m, ByteBufAllocatorMetric::usedHeapMemory)
                .tags("allocator", name, "memory", "heap").baseUnit("bytes")
                .description("Heap memory held by Netty's buffer allocator").register(registry);
    }

    private <T> void counter(String name, T obj, ToDoubleFunction<T> f) {
        FunctionCounter.builder("jmagent." + name, obj, f).description("stats: " + name).register(registry);
    }

    private <T> void gauge(String name, T obj, ToDoubleFunction<T> f) {
        Gauge.builder("jmagent." + name, obj, f).description("stats: " + name).register(registry);
    }

    /** Every meter in Prometheus' text exposition format 0.0.4. */
    public String scrape() {
        return registry.scrape();
    }

    @Override
    public void close() {
        gcMetrics.close();
        registry.close();
    }
}
