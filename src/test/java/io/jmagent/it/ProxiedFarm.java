package io.jmagent.it;

import io.jmagent.config.ProxyConfig;
import io.jmagent.testing.MemcachedProcess;
import io.jmagent.testing.RunningProxy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * A few real memcached servers with jmagent in front of them; {@link #close()} stops them all.
 * The proxy's server timeout is {@link #PATIENT_TIMEOUT} unless a test sets its own: tests that are
 * not about timeouts must not fail because a loaded machine running Netty's paranoid leak detector
 * is slow, which a 1 s deadline can mistake for a hung server.
 */
final class ProxiedFarm implements AutoCloseable {

    static final Duration PATIENT_TIMEOUT = Duration.ofSeconds(5);

    private final List<MemcachedProcess> servers = new ArrayList<>();
    private RunningProxy proxy;

    private ProxiedFarm() {}

    static ProxiedFarm start(int serverCount) {
        return start(serverCount, c -> c);
    }

    static ProxiedFarm start(int serverCount, UnaryOperator<ProxyConfig> tweak) {
        ProxiedFarm farm = new ProxiedFarm();
        try {
            for (int i = 0; i < serverCount; i++) {
                farm.servers.add(MemcachedProcess.start());
            }
            farm.proxy = RunningProxy.over(
                    farm.servers,
                    List.of(),
                    c -> tweak.apply(ConfigCopy.timeout(PATIENT_TIMEOUT).apply(c)));
            return farm;
        } catch (RuntimeException e) {
            farm.close();
            throw e;
        }
    }

    List<MemcachedProcess> servers() {
        return servers;
    }

    MemcachedProcess server(int i) {
        return servers.get(i);
    }

    RunningProxy proxy() {
        return proxy;
    }

    int port() {
        return proxy.port();
    }

    @Override
    public void close() {
        try {
            if (proxy != null) {
                proxy.close();
            }
        } finally {
            for (MemcachedProcess m : servers) {
                m.close();
            }
        }
    }
}
