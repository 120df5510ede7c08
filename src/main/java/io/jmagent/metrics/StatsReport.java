package io.jmagent.metrics;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/** The reply to {@code stats}: the proxy's figures under memcached's names (protocol.txt, "General-purpose statistics"). */
public final class StatsReport {

    public static final String VERSION = "0.1.0";

    private StatsReport() {
    }

    /** The general statistics, in memcached's order of names, as name/value pairs. */
    public static Map<String, String> general(ProxyStats stats, int threads, int serversUp, int serversDown,
            long downEvents) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("pid", Long.toString(ProcessHandle.current().pid()));
        m.put("uptime", Long.toString(stats.uptimeSeconds()));
        m.put("time", Long.toString(System.currentTimeMillis() / 1000));
        m.put("version", "jmagent-" + VERSION);
        m.put("pointer_size", "64");
        m.put("threads", Integer.toString(threads));
        m.put("curr_connections", Long.toString(stats.currConnections()));
        m.put("total_connections", Long.toString(stats.totalConnections()));
        m.put("rejected_connections", Long.toString(stats.rejectedConnections()));
        m.put("backup_reads", Long.toString(stats.backupReads()));
        m.put("write_backs", Long.toString(stats.writeBacks()));
        m.put("mirror_failures", Long.toString(stats.mirrorFailures()));
        m.put("backup_deletes", Long.toString(stats.backupDeletes()));
        m.put("primary_failovers", Long.toString(stats.primaryFailovers()));
        m.put("servers_up", Integer.toString(serversUp));
        m.put("servers_down", Integer.toString(serversDown));
        m.put("server_down_events", Long.toString(downEvents));
        return m;
    }

    /** The text protocol's rendering: "STAT name value" lines closed by END. */
    public static byte[] text(Map<String, String> stats) {
        StringBuilder sb = new StringBuilder(512);
        stats.forEach((name, value) -> stat(sb, name, value));
        sb.append("END\r\n");
        return sb.toString().getBytes(StandardCharsets.US_ASCII);
    }

    private static void stat(StringBuilder sb, String name, Object value) {
        sb.append("STAT ").append(name).append(' ').append(value).append("\r\n");
    }
}
