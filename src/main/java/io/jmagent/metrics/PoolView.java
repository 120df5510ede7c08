package io.jmagent.metrics;

import io.jmagent.backend.Farm;
import io.jmagent.tenant.Tenant;
import java.util.List;

/**
 * What the HTTP endpoint reads of one running pool at one moment: its name, its counters (kept
 * across reloads) and the farms in force. Taken afresh for every scrape, since a reload swaps the
 * farms and may add or remove pools.
 *
 * @param backups   null without a backup farm
 * @param autoEject whether a down primary's keys are rehashed over the live ones
 * @param tenants   the pool's tenants, every one seen since start (empty without tenants)
 * @param routes    what the routes of the pool's table took (empty without routes)
 * @param shadow    what the pool's shadow did, or null without one
 */
public record PoolView(
        String name,
        ProxyStats stats,
        Farm primaries,
        Farm backups,
        boolean autoEject,
        List<Tenant> tenants,
        List<RouteCounter> routes,
        ShadowCounters shadow) {

    /** The primaries, then the backups if any. */
    public List<Farm> farms() {
        return backups == null ? List.of(primaries) : List.of(primaries, backups);
    }

    public FarmHealth health() {
        return new FarmHealth(primaries, backups, autoEject);
    }
}
