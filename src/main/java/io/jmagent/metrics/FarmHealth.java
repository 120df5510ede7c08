package io.jmagent.metrics;

import io.jmagent.backend.Farm;
import io.jmagent.backend.ServerHealth;
import java.util.ArrayList;
import java.util.List;

/**
 * Whether every key has somewhere to go, for {@code /health}: true while no primary is DOWN, or
 * while the down primaries' keys are served elsewhere: by the backup farm (every backup UP, and
 * readable: its stale keys did not overflow), or, without one and with auto-eject, by the
 * primaries still alive.
 */
public final class FarmHealth {

    private final Farm primaries;
    private final Farm backups;
    private final boolean autoEject;

    /** {@code backups} is null without a backup farm. */
    public FarmHealth(Farm primaries, Farm backups, boolean autoEject) {
        this.primaries = primaries;
        this.backups = backups;
        this.autoEject = autoEject;
    }

    public boolean everyKeyServed() {
        boolean anyDown = false;
        boolean anyAlive = false;
        for (ServerHealth h : primaries.health()) {
            if (h.state() == ServerHealth.State.DOWN) {
                anyDown = true;
            } else {
                anyAlive = true;
            }
        }
        if (!anyDown) {
            return true;
        }
        if (backups != null) {
            return backups.health().stream().allMatch(h -> h.state() == ServerHealth.State.UP && !h.staleOverflow());
        }
        return autoEject && anyAlive;
    }

    /** {@code {"healthy":true,"servers":[{"server":"host:port","role":"primary","state":"UP"},...]}}. */
    public String json() {
        return "{\"healthy\":" + everyKeyServed() + ",\"servers\":" + serversJson() + "}\n";
    }

    /**
     * {@code /health} of a process of several pools: healthy while every pool has somewhere to go
     * for every key; {@code {"healthy":true,"pools":[{"pool":"web","healthy":true,"servers":[...]},...]}}.
     */
    public static String json(List<PoolView> pools) {
        StringBuilder sb = new StringBuilder(256);
        sb.append("{\"healthy\":").append(everyKeyServed(pools)).append(",\"pools\":[");
        for (int i = 0; i < pools.size(); i++) {
            FarmHealth h = pools.get(i).health();
            sb.append(i == 0 ? "" : ",")
                    .append("{\"pool\":\"")
                    .append(escape(pools.get(i).name()))
                    .append("\",\"healthy\":")
                    .append(h.everyKeyServed())
                    .append(",\"servers\":")
                    .append(h.serversJson())
                    .append('}');
        }
        return sb.append("]}\n").toString();
    }

    /** True while no pool has a key with nowhere to go. */
    public static boolean everyKeyServed(List<PoolView> pools) {
        return pools.stream().allMatch(p -> p.health().everyKeyServed());
    }

    private String serversJson() {
        List<Farm> farms = new ArrayList<>();
        farms.add(primaries);
        if (backups != null) {
            farms.add(backups);
        }
        StringBuilder sb = new StringBuilder(256);
        sb.append('[');
        boolean first = true;
        for (Farm farm : farms) {
            for (ServerHealth h : farm.health()) {
                if (!first) {
                    sb.append(',');
                }
                first = false;
                sb.append("{\"server\":\"")
                        .append(escape(h.server().toString()))
                        .append("\",\"role\":\"")
                        .append(farm.role())
                        .append("\",\"state\":\"")
                        .append(h.state())
                        .append("\"}");
            }
        }
        return sb.append(']').toString();
    }

    private static String escape(String s) {
        return s.replace("\\", "\\\\").replace("\"", "\\\"");
    }
}
