package io.jmagent.loadgen;

import io.netty.channel.EventLoop;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Requests at a fixed rate, whatever the replies do: request {@code n} is meant to start at
 * {@link OpenLoopSchedule#intendedStart} and goes out on connection {@code n mod connections}
 * (pipelined behind whatever that connection still awaits). The pacer wakes at the next intended
 * start and sends every request due by then, so a late wake-up sends a burst; each request's
 * latency counts from its intended start either way.
 */
final class OpenLoopRun extends LoadRun {

    private final OpenLoopSchedule schedule;
    private final long lastRequest;
    private final Runnable paceTask = this::pace;
    private long sent;

    OpenLoopRun(
            String target,
            long rate,
            EventLoop loop,
            List<LoadConnection> connections,
            Workload workload,
            long startNanos,
            long warmupNanos,
            long measureNanos,
            long drainNanos) {
        super(target, rate, loop, connections, workload, startNanos, warmupNanos, measureNanos, drainNanos);
        this.schedule = new OpenLoopSchedule(startNanos, rate);
        this.lastRequest = schedule.dueBy(windowEndNanos - 1);
    }

    @Override
    protected void begin() {
        pace();
    }

    @Override
    protected void afterReply(LoadConnection connection, long now) {
        // requests go out on the schedule, not on replies
    }

    private void pace() {
        if (!sending()) {
            return;
        }
        long due = Math.min(schedule.dueBy(System.nanoTime()), lastRequest);
        int n = connections.size();
        long first = sent;
        for (; sent < due; sent++) {
            connections.get((int) (sent % n)).send(workload.next(random), schedule.intendedStart(sent));
        }
        for (long i = first; i < due && i < first + n; i++) {
            connections.get((int) (i % n)).flush();
        }
        if (sent < lastRequest) {
            loop.schedule(paceTask, schedule.intendedStart(sent) - System.nanoTime(), TimeUnit.NANOSECONDS);
        }
    }
}
