package io.jmagent.loadgen;

import io.netty.channel.EventLoop;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * One timed run over a set of connections that share one event loop: a warm-up, then the
 * measuring window, then a drain in which no new request goes out and the last replies are
 * awaited, up to {@code drainNanos}; whatever is still unanswered then counts as waiting until
 * that moment. How requests go out is the subclass's: on a schedule ({@link OpenLoopRun}) or one
 * per reply ({@link ClosedLoopRun}). Everything but {@link #start} runs on the event loop.
 */
abstract class LoadRun {

    protected final EventLoop loop;
    protected final List<LoadConnection> connections;
    protected final Workload workload;
    protected final SplittableRandom random = new SplittableRandom(42);
    protected final long startNanos;
    /** The measuring window, {@code [windowStartNanos, windowEndNanos)}: after the warm-up, before the drain. */
    protected final long windowStartNanos;

    protected final long windowEndNanos;
    private final String target;
    private final long offeredRate;
    private final RunRecorder recorder;
    private final long drainNanos;
    private final CompletableFuture<RunResult> result = new CompletableFuture<>();
    private boolean sending = true;

    LoadRun(
            String target,
            long offeredRate,
            EventLoop loop,
            List<LoadConnection> connections,
            Workload workload,
            long startNanos,
            long warmupNanos,
            long measureNanos,
            long drainNanos) {
        this.target = target;
        this.offeredRate = offeredRate;
        this.loop = loop;
        this.connections = connections;
        this.workload = workload;
        this.startNanos = startNanos;
        this.windowStartNanos = startNanos + warmupNanos;
        this.windowEndNanos = windowStartNanos + measureNanos;
        this.recorder = new RunRecorder(windowStartNanos, windowEndNanos);
        this.drainNanos = drainNanos;
    }

    /** Starts the run (from any thread); the future completes once it is over. */
    CompletableFuture<RunResult> start() {
        loop.execute(() -> {
            for (LoadConnection c : connections) {
                c.attach(this);
            }
            loop.schedule(this::stopSending, windowEndNanos - System.nanoTime(), TimeUnit.NANOSECONDS);
            begin();
        });
        return result;
    }

    /** Sends the first requests. */
    protected abstract void begin();

    /** After a reply, while requests still go out. */
    protected abstract void afterReply(LoadConnection connection, long now);

    protected final boolean sending() {
        return sending;
    }

    final void answered(LoadConnection connection, long intendedStart, long now, Reply reply) {
        recorder.answered(intendedStart, now, reply);
        if (sending) {
            afterReply(connection, now);
        } else if (connection.idle()) {
            finishIfDrained();
        }
    }

    final void failed(Throwable cause) {
        result.completeExceptionally(cause);
    }

    private void stopSending() {
        sending = false;
        finishIfDrained();
        loop.schedule(this::giveUp, drainNanos, TimeUnit.NANOSECONDS);
    }

    private void finishIfDrained() {
        for (LoadConnection c : connections) {
            if (!c.idle()) {
                return;
            }
        }
        result.complete(recorder.result(target, offeredRate));
    }

    private void giveUp() {
        if (result.isDone()) {
            return;
        }
        long now = System.nanoTime();
        for (LoadConnection c : connections) {
            for (long intendedStart : c.abandon()) {
                recorder.unanswered(intendedStart, now);
            }
        }
        result.complete(recorder.result(target, offeredRate));
    }
}
