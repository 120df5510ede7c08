package io.jmagent.frontend;

import io.jmagent.config.ProxyConfig;
import io.jmagent.metrics.ProxyStats;
import io.jmagent.metrics.StatsReport;
import io.jmagent.protocol.CutShortRetrievalRequest;
import io.jmagent.protocol.LocalReply;
import io.jmagent.protocol.MetaRequest;
import io.jmagent.protocol.QuitRequest;
import io.jmagent.protocol.Request;
import io.jmagent.protocol.StatsRequest;
import io.jmagent.protocol.StoreRequest;
import io.jmagent.protocol.TextReplies;
import io.jmagent.protocol.TextRequestDecoder;
import io.jmagent.protocol.VersionRequest;
import io.jmagent.routing.Router;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import java.util.function.Supplier;

/** A client speaking memcached's text protocol: requests from {@link TextRequestDecoder}, text replies. */
final class TextSession extends ClientSession {

    private static final byte[] VERSION_LINE = TextReplies.bytes("VERSION " + VERSION + "\r\n");

    TextSession(ProxyConfig config, ProxyStats stats, Supplier<Router> routers) {
        super(config, stats, routers);
    }

    @Override
    protected void stopDecoding() {
        TextRequestDecoder decoder = ctx.pipeline().get(TextRequestDecoder.class);
        if (decoder != null) {
            decoder.stop();
        }
    }

    @Override
    protected boolean hasPartialRequest() {
        TextRequestDecoder decoder = ctx.pipeline().get(TextRequestDecoder.class);
        return decoder != null && decoder.hasPartialRequest();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        Request request = (Request) msg;
        if (closing()) {
            if (request instanceof StoreRequest s) {
                s.release();
            } else if (request instanceof MetaRequest m) {
                m.release();
            }
            return;
        }
        if (request instanceof LocalReply r) {
            if (r.closeAfter()) {
                answerAndClose(Unpooled.wrappedBuffer(r.bytes()));
            } else {
                answer(Unpooled.wrappedBuffer(r.bytes()));
            }
        } else if (request instanceof CutShortRetrievalRequest r) {
            Slot slot = newSlot();
            route(r.fetched(), fetched -> {
                fetched.release();
                slot.reply(Unpooled.wrappedBuffer(TextReplies.BAD_FORMAT));
            });
        } else if (request instanceof QuitRequest) {
            answerAndClose(Unpooled.EMPTY_BUFFER);
        } else if (request instanceof VersionRequest) {
            answer(Unpooled.wrappedBuffer(VERSION_LINE));
        } else if (request instanceof StatsRequest r) {
            answer(Unpooled.wrappedBuffer(r.group().isEmpty() ? StatsReport.text(generalStats())
                    : isServersGroup(r.group()) ? StatsReport.text(serverStats())
                    : TextReplies.serverError("stats " + r.group() + " not supported by jmagent")));
        } else if (request.noreply()) {
            route(request, null);
        } else {
            route(request, newSlot());
        }
    }
}
