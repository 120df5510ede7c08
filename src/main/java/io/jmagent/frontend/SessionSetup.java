package io.jmagent.frontend;

import io.jmagent.auth.AuthFile;
import io.jmagent.config.ProxyConfig;
import io.jmagent.metrics.ProxyStats;
import io.jmagent.routing.PrefixRoutes;
import io.jmagent.routing.Router;
import io.jmagent.routing.Shadow;
import io.jmagent.tenant.Tenants;
import java.util.function.Supplier;

/**
 * What a pool gives each client session it admits, whatever its protocol: the settings and
 * counters, the router in force, who may come in (auth file, tenants; null: anyone), and the
 * route table and shadow in force (read at every request, so that a reload reaches clients already in).
 */
record SessionSetup(
        ProxyConfig config,
        ProxyStats stats,
        Supplier<Router> routers,
        AuthFile auth,
        Tenants tenants,
        Supplier<PrefixRoutes> routes,
        Supplier<Shadow> shadow) {}
