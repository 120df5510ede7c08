package io.jmagent.routing;

import io.jmagent.metrics.ProxyStats;
import io.jmagent.protocol.Request;
import io.netty.buffer.ByteBuf;

/**
 * The reply of one client request on its way back: counts the request out of flight and, for a
 * client's own command, counts the command by its reply (memcached's stats, see
 * {@link io.jmagent.metrics.CommandStats}), then hands the reply on. Retrievals count their keys
 * themselves ({@link Retrieval}), since their merged reply no longer says which key hit.
 */
final class CountedReply implements ReplySink {

    private final Request request;
    private final ProxyStats stats;
    private final boolean countCommand;
    private final ReplySink sink;

    CountedReply(Request request, ProxyStats stats, boolean countCommand, ReplySink sink) {
        this.request = request;
        this.stats = stats;
        this.countCommand = countCommand;
        this.sink = sink;
        stats.requestRouted();
    }

    @Override
    public void reply(ByteBuf bytes) {
        stats.requestAnswered();
        if (countCommand) {
            stats.commands().replied(request, bytes);
        }
        sink.reply(bytes);
    }
}
