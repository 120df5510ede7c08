package io.jmagent.metrics;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/** The proxy's own counters, shared by every event loop (lock-free adders). */
public final class ProxyStats {

    private final long startMillis = System.currentTimeMillis();
    private final AtomicLong currConnections = new AtomicLong();
    private final LongAdder totalConnections = new LongAdder();
    private final LongAdder rejectedConnections = new LongAdder();

    /** Counts a new client; returns false (and counts a rejection) when it would pass {@code max}. */
    public boolean tryOpenConnection(int max) {
        long now = currConnections.incrementAndGet();
        if (now > max) {
            currConnections.decrementAndGet();
            rejectedConnections.increment();
            return false;
        }
        totalConnections.increment();
        return true;
    }

    public void connectionClosed() {
        currConnections.decrementAndGet();
    }

    public long currConnections() {
        return currConnections.get();
    }

    public long totalConnections() {
        return totalConnections.sum();
    }

    public long rejectedConnections() {
        return rejectedConnections.sum();
    }

    public long uptimeSeconds() {
        return (System.currentTimeMillis() - startMillis) / 1000;
    }
}
