package io.jmagent.replica;

import io.jmagent.backend.ReplyCallback;
import io.jmagent.backend.ServerConnection;
import io.jmagent.backend.ServerHealth;
import io.jmagent.protocol.ReplyShape;
import io.jmagent.protocol.ServerReply;
import io.jmagent.protocol.TextReplyDecoder;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;

/**
 * One pipelined connection from the proxy to a {@link FakeServer}, driven by the explorer: the
 * requests sent and not yet executed ({@code inbox}), the replies executed and not yet delivered
 * ({@code outbox}), and the callbacks waiting for them, all FIFO. The server executes the head of
 * the inbox when the explorer says so, and the head of the outbox is delivered, decoded by the real
 * {@link TextReplyDecoder}, when it says so. Failures count toward the server's health as
 * {@code BackendConnection}'s do. A timeout abandons the socket: the replies are lost, but the
 * requests still in the server's buffer stay there ({@link FakeServer}'s orphans) and may run later.
 */
final class FakeConnection implements ServerConnection {

    private record Call(ReplyShape shape, ReplyCallback callback) {}

    final String name;
    final FakeServer server;
    private final ServerHealth health;
    private final ArrayDeque<Call> calls = new ArrayDeque<>();
    private final ArrayDeque<String> inbox = new ArrayDeque<>();
    private final ArrayDeque<String> outbox = new ArrayDeque<>();
    private final EmbeddedChannel decoder;

    FakeConnection(String name, FakeServer server, ServerHealth health) {
        this.name = name;
        this.server = server;
        this.health = health;
        this.decoder =
                new EmbeddedChannel(new TextReplyDecoder(() -> calls.peek().shape(), 1024 * 1024));
    }

    /** -Dmodel.trace=true: every request sent and run, printed (for reading one schedule). */
    private static final boolean TRACE = Boolean.getBoolean("model.trace");

    @Override
    public void send(ByteBuf request, ReplyShape shape, ReplyCallback callback) {
        String text;
        try {
            text = request.toString(StandardCharsets.ISO_8859_1);
        } finally {
            request.release();
        }
        if (!server.alive()) {
            // refused: fails at once, as a connection in its backoff does
            health.recordFailure("backend " + name + " unavailable");
            callback.onFailure("backend " + name + " unavailable");
            return;
        }
        calls.add(new Call(shape, callback));
        inbox.add(text);
        if (TRACE) {
            System.out.println("  >> " + name + ": " + text.replace("\r\n", "\\r\\n"));
        }
    }

    boolean canExecute() {
        return !inbox.isEmpty() && server.available();
    }

    boolean canDeliver() {
        return !outbox.isEmpty();
    }

    boolean hasPending() {
        return !calls.isEmpty();
    }

    /** The server runs the oldest request it has not run yet. */
    void execute() {
        String req = inbox.poll();
        outbox.add(server.execute(req));
        if (TRACE) {
            System.out.println("  ## " + name + " ran " + req.replace("\r\n", "\\r\\n") + " -> "
                    + outbox.peekLast().replace("\r\n", "\\r\\n"));
        }
    }

    /** The oldest executed reply reaches the proxy. */
    void deliver() {
        ByteBuf bytes = Unpooled.copiedBuffer(outbox.poll(), StandardCharsets.ISO_8859_1);
        decoder.writeInbound(bytes);
        ServerReply reply = decoder.readInbound();
        if (reply == null || decoder.inboundMessages().size() > 0) {
            throw new IllegalStateException(name + ": a reply did not frame as exactly one "
                    + calls.peek().shape());
        }
        Call call = calls.poll();
        health.recordSuccess();
        call.callback().onReply(reply);
    }

    /**
     * The oldest request's deadline passed: the socket is abandoned and every call fails; requests
     * the server has not run yet stay in its buffer and may still run.
     */
    void timeOut() {
        server.orphans.addAll(inbox);
        inbox.clear();
        failAll("backend " + name + " timeout");
    }

    /** The server died: nothing sent will be answered. */
    void lost() {
        inbox.clear();
        failAll("backend " + name + " connection lost");
    }

    private void failAll(String reason) {
        outbox.clear();
        if (calls.isEmpty()) {
            return;
        }
        ArrayDeque<Call> failing = new ArrayDeque<>(calls);
        calls.clear();
        for (Call c : failing) {
            c.callback().onFailure(reason);
        }
        health.recordFailure(reason);
    }

    /** At the end of a run: fails what is left and frees the decoder. */
    void close() {
        inbox.clear();
        failAll("model closed");
        decoder.finishAndReleaseAll();
    }

    @Override
    public String toString() {
        return name + " calls=" + calls.size() + " inbox=" + inbox + " outbox=" + outbox;
    }
}
