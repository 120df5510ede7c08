package io.jmagent.routing;

import io.jmagent.backend.ReplyCallback;
import io.jmagent.protocol.RetrievalRequest;
import io.jmagent.protocol.ServerReply;
import io.jmagent.protocol.TextReplies;
import io.jmagent.protocol.TextRequestDecoder;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import java.util.ArrayList;
import java.util.List;

/**
 * A get/gets/gat/gats over keys that may live on several servers: the keys are grouped by server,
 * each group is sent as one command to its server, all groups at once, and the hits are merged
 * back in the client's key order (as one memcached would return them), closed by one END.
 * memcached lets only get/gets lines outgrow {@value TextRequestDecoder#MAX_COMMAND_LINE} bytes
 * (it drops the connection otherwise), so a gat/gats group that would be longer is cut into
 * several commands.
 * If any group fails, the client gets that failure as a {@code SERVER_ERROR} and no values.
 * Lives on the client's event loop.
 */
final class SplitRetrieval {

    private final RetrievalRequest request;
    private final ReplySink sink;
    /** For each client key, the group (one command to one server) it went to. */
    private final int[] groupOfKey;
    private final List<List<byte[]>> groupKeys = new ArrayList<>();
    private final ServerReply.Values[] results;
    private int remaining;
    private String failure;
    private ByteBuf errorLine;

    private SplitRetrieval(RetrievalRequest request, KetamaRing ring, int servers, ReplySink sink) {
        this.request = request;
        this.sink = sink;
        List<byte[]> keys = request.keys();
        groupOfKey = new int[keys.size()];
        int[] groupOfServer = new int[servers];
        java.util.Arrays.fill(groupOfServer, -1);
        List<Integer> serverOfGroup = new ArrayList<>();
        List<Integer> lineLengths = new ArrayList<>();
        int lineLimit = request.kind().touching() ? TextRequestDecoder.MAX_COMMAND_LINE : Integer.MAX_VALUE;
        for (int i = 0; i < keys.size(); i++) {
            byte[] key = keys.get(i);
            int server = ring.serverFor(key);
            int g = groupOfServer[server];
            if (g < 0 || lineLengths.get(g) + 1 + key.length > lineLimit) {
                g = groupKeys.size();
                groupOfServer[server] = g;
                groupKeys.add(new ArrayList<>());
                serverOfGroup.add(server);
                lineLengths.add(TextEncoder.retrievalLineLength(request, List.of()));
            }
            groupOfKey[i] = g;
            groupKeys.get(g).add(key);
            lineLengths.set(g, lineLengths.get(g) + 1 + key.length);
        }
        this.servers = serverOfGroup;
        results = new ServerReply.Values[groupKeys.size()];
        remaining = groupKeys.size();
    }

    private final List<Integer> servers;

    static void start(RetrievalRequest request, KetamaRing ring, Router.RouteContext ctx, ReplySink sink) {
        SplitRetrieval split = new SplitRetrieval(request, ring, ctx.pool().serverCount(), sink);
        for (int g = 0; g < split.groupKeys.size(); g++) {
            int group = g;
            ByteBuf encoded = TextEncoder.retrieval(ctx.alloc(), request, split.groupKeys.get(g));
            ctx.pool().connection(split.servers.get(g), ctx.sessionId()).send(encoded, true, new ReplyCallback() {
                @Override
                public void onReply(ServerReply reply) {
                    split.onGroupReply(group, reply);
                }

                @Override
                public void onFailure(String reason) {
                    split.onGroupFailure(reason);
                }
            });
        }
    }

    private void onGroupReply(int group, ServerReply reply) {
        if (reply instanceof ServerReply.Values values) {
            results[group] = values;
        } else if (errorLine == null && failure == null) {
            errorLine = ((ServerReply.Line) reply).line();
        } else {
            reply.release();
        }
        groupDone();
    }

    private void onGroupFailure(String reason) {
        if (failure == null && errorLine == null) {
            failure = reason;
        }
        groupDone();
    }

    private void groupDone() {
        if (--remaining > 0) {
            return;
        }
        if (errorLine != null || failure != null) {
            releaseResults();
            sink.reply(errorLine != null ? errorLine : Unpooled.wrappedBuffer(TextReplies.serverError(failure)));
            return;
        }
        sink.reply(merge());
    }

    /** The hits in client key order, then END; the blocks move into the merged buffer. */
    private ByteBuf merge() {
        List<byte[]> keys = request.keys();
        int[] cursor = new int[results.length];
        List<ByteBuf> parts = new ArrayList<>();
        for (int i = 0; i < keys.size(); i++) {
            int g = groupOfKey[i];
            List<ServerReply.Value> hits = results[g].values();
            if (cursor[g] < hits.size() && hits.get(cursor[g]).keyEquals(keys.get(i))) {
                parts.add(hits.get(cursor[g]).block());
                cursor[g]++;
            }
        }
        // hits no key claimed (a server answering keys out of order) are dropped, not leaked
        for (int g = 0; g < results.length; g++) {
            List<ServerReply.Value> hits = results[g].values();
            for (int j = cursor[g]; j < hits.size(); j++) {
                hits.get(j).block().release();
            }
        }
        parts.add(Unpooled.wrappedBuffer(TextReplies.END));
        if (parts.size() == 1) {
            return parts.get(0);
        }
        CompositeByteBuf merged = Unpooled.compositeBuffer(parts.size());
        merged.addComponents(true, parts);
        return merged;
    }

    private void releaseResults() {
        for (ServerReply.Values v : results) {
            if (v != null) {
                v.release();
            }
        }
    }
}
