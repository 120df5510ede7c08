package io.jmagent.backend;

import io.jmagent.protocol.ReplyShape;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The requests one {@link BackendConnection} has accepted and not yet answered, oldest first:
 * those written to the server, whose replies come back in the same order, and those held while
 * the connection opens. Each {@link Call} keeps its reply shape, its callback and its deadline.
 * Owned by the connection's event loop: every method runs on that loop.
 */
final class PendingCalls {

    private static final Logger log = LoggerFactory.getLogger(PendingCalls.class);

    /** Written to the server, awaiting its reply, oldest first. */
    private final ArrayDeque<Call> inflight = new ArrayDeque<>();
    /** Accepted while connecting, to be written once connected. */
    private final ArrayDeque<Call> waiting = new ArrayDeque<>();

    /** Writes {@code call}'s request to {@code channel}, unflushed, and awaits its reply. */
    void write(Call call, Channel channel) {
        inflight.add(call);
        channel.write(call.takeRequest(), channel.voidPromise());
    }

    /** Holds {@code call} until the connection opens. */
    void hold(Call call) {
        waiting.add(call);
    }

    /** The connection opened: writes every held call, in order, unflushed. */
    void writeHeld(Channel channel) {
        Call call;
        while ((call = waiting.poll()) != null) {
            write(call, channel);
        }
    }

    int size() {
        return inflight.size() + waiting.size();
    }

    boolean isEmpty() {
        return inflight.isEmpty() && waiting.isEmpty();
    }

    /** The call whose deadline comes first, or null if none is pending. */
    Call oldest() {
        Call head = inflight.peek();
        return head != null ? head : waiting.peek();
    }

    /** How the next reply from the server is framed. */
    ReplyShape headShape() {
        Call head = inflight.peek();
        return head == null ? ReplyShape.LINE : head.shape;
    }

    /**
     * The server answered: removes and returns the call it answered, or null if none was awaiting
     * a reply. The next call now waits on the server alone, so its deadline is at least
     * {@code timeoutNanos} from now.
     */
    Call answered(long timeoutNanos) {
        Call call = inflight.poll();
        if (call == null) {
            return null;
        }
        Call next = inflight.peek();
        if (next != null) {
            next.deadlineNotBefore(System.nanoTime() + timeoutNanos);
        }
        return call;
    }

    /** Forgets every pending call, then fails each with {@code reason}, oldest first. */
    void failAll(String reason, ServerStats stats) {
        if (isEmpty()) {
            return;
        }
        List<Call> failed = new ArrayList<>(size());
        failed.addAll(inflight);
        failed.addAll(waiting);
        inflight.clear();
        waiting.clear();
        for (Call c : failed) {
            stats.failed();
            c.releaseRequest();
            try {
                c.callback.onFailure(reason);
            } catch (RuntimeException e) {
                // one broken callback must not leave the calls after it unanswered
                log.error("a failed call's callback threw", e);
            }
        }
    }

    /** One request on its way: the encoded bytes until written, then only the callback. */
    static final class Call {
        private ByteBuf request;
        final ReplyShape shape;
        final ReplyCallback callback;
        final long sentNanos;
        long deadlineNanos;

        Call(ByteBuf request, ReplyShape shape, ReplyCallback callback, long sentNanos, long deadlineNanos) {
            this.request = request;
            this.shape = shape;
            this.callback = callback;
            this.sentNanos = sentNanos;
            this.deadlineNanos = deadlineNanos;
        }

        void deadlineNotBefore(long nanos) {
            if (nanos - deadlineNanos > 0) {
                deadlineNanos = nanos;
            }
        }

        ByteBuf takeRequest() {
            ByteBuf r = request;
            request = null;
            return r;
        }

        void releaseRequest() {
            if (request != null) {
                request.release();
                request = null;
            }
        }
    }
}
