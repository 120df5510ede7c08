package io.jmagent.replica;

import io.jmagent.protocol.Request;
import io.jmagent.protocol.TextRequestDecoder;
import io.jmagent.routing.ReplySink;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * One client session of the model: its commands are decoded by the real {@link TextRequestDecoder}
 * (text and meta) and routed by the real router; its replies reach it in the order it sent the
 * commands, as a session writes them, and that moment is the command's acknowledgement.
 */
final class ModelClient {

    final int id;
    private final ModelFarm farm;
    private final LongSupplier clock;
    private final Consumer<Op> acknowledged;
    private final EmbeddedChannel decoder = new EmbeddedChannel(new TextRequestDecoder(1024 * 1024, 64 * 1024));
    private final ArrayDeque<Op> waiting = new ArrayDeque<>();
    private final Map<Op, String> early = new HashMap<>();
    /** The cas unique last seen per key by gets (cas tokens for later cas commands). */
    final Map<String, Long> casSeen = new HashMap<>();

    ModelClient(int id, ModelFarm farm, LongSupplier clock, Consumer<Op> acknowledged) {
        this.id = id;
        this.farm = farm;
        this.clock = clock;
        this.acknowledged = acknowledged;
    }

    int outstanding() {
        return waiting.size();
    }

    /** Sends {@code op}'s command through the proxy. */
    void send(Op op) {
        decoder.writeInbound(Unpooled.copiedBuffer(op.text, StandardCharsets.ISO_8859_1));
        Request request = decoder.readInbound();
        if (request == null || !decoder.inboundMessages().isEmpty()) {
            throw new IllegalStateException("not exactly one request: " + op.text);
        }
        waiting.add(op);
        ReplySink sink = bytes -> {
            String text;
            try {
                text = bytes.toString(StandardCharsets.ISO_8859_1);
            } finally {
                bytes.release();
            }
            early.put(op, text);
            release();
        };
        farm.router.route(request, farm.context(id), sink);
    }

    /** Hands the client every reply whose turn has come. */
    private void release() {
        while (!waiting.isEmpty() && early.containsKey(waiting.peek())) {
            Op op = waiting.poll();
            op.reply = early.remove(op);
            op.ack = clock.getAsLong();
            if (op.reply.startsWith("VALUE ") && op.text.startsWith("gets")) {
                String[] header =
                        op.reply.substring(0, op.reply.indexOf("\r\n")).split(" ");
                casSeen.put(header[1], Long.parseUnsignedLong(header[4]));
            }
            acknowledged.accept(op);
        }
    }

    void close() {
        decoder.finishAndReleaseAll();
    }
}
