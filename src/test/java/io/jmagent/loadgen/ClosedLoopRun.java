package io.jmagent.loadgen;

import io.netty.channel.EventLoop;
import java.util.List;

/**
 * As many requests as the target answers: each connection keeps {@code depth} requests in
 * flight and sends the next as soon as one is answered (as memcaslap does with one request per
 * connection). Latencies count from the moment each request went out, so they are the
 * coordinated-omission kind; what this run is for is the rate, the target's maximum.
 */
final class ClosedLoopRun extends LoadRun {

    private final int depth;

    ClosedLoopRun(
            String target,
            int depth,
            EventLoop loop,
            List<LoadConnection> connections,
            Workload workload,
            long startNanos,
            long warmupNanos,
            long measureNanos,
            long drainNanos) {
        super(target, 0, loop, connections, workload, startNanos, warmupNanos, measureNanos, drainNanos);
        this.depth = depth;
    }

    @Override
    protected void begin() {
        long now = System.nanoTime();
        for (LoadConnection c : connections) {
            for (int i = 0; i < depth; i++) {
                c.send(workload.next(random), now);
            }
            c.flush();
        }
    }

    @Override
    protected void afterReply(LoadConnection connection, long now) {
        // flushed when the read burst ends (LoadConnection.channelReadComplete)
        connection.send(workload.next(random), now);
    }
}
