package io.jmagent.testing;

import io.jmagent.backend.NettyTransport;

/**
 * The transport the integration tests run the proxy on: {@code --transport}'s name in the system
 * property {@code jmagent.test.transport}, {@code auto} when unset. The build runs the integration
 * tests twice, on auto (io_uring where the kernel allows it) and on epoll (see pom.xml).
 */
public final class TestTransport {

    private TestTransport() {}

    public static NettyTransport chosen() {
        return NettyTransport.named(name());
    }

    /** The name to pass as {@code --transport} to a jmagent started as a process. */
    public static String name() {
        return System.getProperty("jmagent.test.transport", "auto");
    }
}
