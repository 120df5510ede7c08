package io.jmagent.frontend;

import io.jmagent.auth.AuthFile;
import io.jmagent.config.ProxyConfig;
import io.jmagent.protocol.BinaryRequestDecoder;
import io.jmagent.protocol.TextRequestDecoder;
import io.jmagent.tenant.Tenants;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;

/**
 * Picks a connection's protocol from its first byte, as memcached does: 0x80 (the binary request
 * magic) is the binary protocol, anything else is text (which also carries the meta commands).
 * It then puts that protocol's decoder and session in its own place, leaves the pipeline and
 * hands them the bytes it read. It keeps nothing per connection, so one serves every client
 * admitted under the same settings and auth file: a client that never sends costs no sniffer.
 */
@ChannelHandler.Sharable
final class ProtocolSniffer extends ChannelInboundHandlerAdapter {

    private final SessionSetup setup;

    ProtocolSniffer(SessionSetup setup) {
        this.setup = setup;
    }

    /** True when this sniffer sets clients up with {@code c}, {@code a} and {@code t} (routes and shadow are read per request). */
    boolean serves(ProxyConfig c, AuthFile a, Tenants t) {
        return setup.config() == c && setup.auth() == a && setup.tenants() == t;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof ByteBuf in) || !in.isReadable()) {
            ReferenceCountUtil.release(msg); // nothing to pick a protocol from
            return;
        }
        String name = ctx.name();
        // the decoder first, so that a session that knows its tenant at once (a client certificate)
        // finds it to limit the keys
        if (in.getUnsignedByte(in.readerIndex()) == BinaryRequestDecoder.REQUEST_MAGIC) {
            ctx.pipeline()
                    .addAfter(
                            name,
                            "binary-decoder",
                            new BinaryRequestDecoder(setup.config().maxItemSize()));
            ctx.pipeline().addAfter("binary-decoder", "binary-session", new BinarySession(setup));
        } else {
            ctx.pipeline()
                    .addAfter(
                            name,
                            "text-decoder",
                            new TextRequestDecoder(
                                    setup.config().maxItemSize(), setup.config().maxRetrievalLine()));
            ctx.pipeline().addAfter("text-decoder", "text-session", new TextSession(setup));
        }
        ctx.pipeline().remove(this);
        ctx.fireChannelRead(in);
    }
}
