package io.jmagent.metrics;

import java.nio.charset.StandardCharsets;

/** The reply to {@code stats}: the proxy's figures under memcached's names (protocol.txt, "General-purpose statistics"). */
public final class StatsReport {

    public static final String VERSION = "0.1.0";

    private StatsReport() {
    }

    public static byte[] general(ProxyStats stats, int threads, int serversUp, int serversDown, long downEvents) {
        StringBuilder sb = new StringBuilder(256);
        stat(sb, "pid", ProcessHandle.current().pid());
        stat(sb, "uptime", stats.uptimeSeconds());
        stat(sb, "time", System.currentTimeMillis() / 1000);
        stat(sb, "version", "jmagent-" + VERSION);
        stat(sb, "pointer_size", 64);
        stat(sb, "threads", threads);
        stat(sb, "curr_connections", stats.currConnections());
        stat(sb, "total_connections", stats.totalConnections());
        stat(sb, "rejected_connections", stats.rejectedConnections());
        stat(sb, "backup_reads", stats.backupReads());
        stat(sb, "write_backs", stats.writeBacks());
        stat(sb, "mirror_failures", stats.mirrorFailures());
        stat(sb, "backup_deletes", stats.backupDeletes());
        stat(sb, "primary_failovers", stats.primaryFailovers());
        stat(sb, "servers_up", serversUp);
        stat(sb, "servers_down", serversDown);
        stat(sb, "server_down_events", downEvents);
        sb.append("END\r\n");
        return sb.toString().getBytes(StandardCharsets.US_ASCII);
    }

    private static void stat(StringBuilder sb, String name, Object value) {
        sb.append("STAT ").append(name).append(' ').append(value).append("\r\n");
    }
}
