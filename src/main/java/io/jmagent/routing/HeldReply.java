package io.jmagent.routing;

import io.netty.buffer.ByteBuf;

/**
 * A write's reply held until every copy the write changes has answered ({@code --shared-farm}).
 * Another proxy over the same farm cannot see this proxy's writes in flight, so a read it starts
 * once the client has its answer must find the write on either copy: a mirror still on its way
 * to the backup would let that proxy read the backup's older value (or write it back to a primary
 * that missed the key). On the client's event loop, as the sink it wraps.
 */
final class HeldReply implements ReplySink {

    private final ReplySink sink;
    private ByteBuf held;
    private boolean settled;

    private HeldReply(ReplySink sink) {
        this.sink = sink;
    }

    /** {@code sink} itself where writes are answered as soon as their answer is known. */
    static ReplySink of(Router router, ReplySink sink) {
        return router.answersAfterEveryCopy() ? held(sink) : sink;
    }

    /** A sink that holds the reply for {@code sink} until {@link #settled}. */
    static ReplySink held(ReplySink sink) {
        return new HeldReply(sink);
    }

    /** The write settled: the reply, held or still to come, goes to the client now. */
    static void settled(ReplySink sink) {
        if (sink instanceof HeldReply h) {
            h.settled = true;
            if (h.held != null) {
                ByteBuf b = h.held;
                h.held = null;
                h.sink.reply(b);
            }
        }
    }

    @Override
    public void reply(ByteBuf bytes) {
        if (settled) {
            sink.reply(bytes);
        } else {
            held = bytes;
        }
    }
}
