package io.jmagent.frontend;

import io.jmagent.protocol.BinaryRequestDecoder;
import io.jmagent.protocol.TextRequestDecoder;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.util.List;
import java.util.function.Supplier;

/**
 * Picks a connection's protocol from its first byte, as memcached does: 0x80 (the binary request
 * magic) is the binary protocol, anything else is text (which also carries the meta commands).
 * It then puts that protocol's decoder and session in its own place and leaves the pipeline,
 * handing them the bytes it has read.
 */
final class ProtocolSniffer extends ByteToMessageDecoder {

    private final int maxItemSize;
    private final int maxRetrievalLine;
    private final Supplier<TextSession> textSession;
    private final Supplier<BinarySession> binarySession;

    ProtocolSniffer(int maxItemSize, int maxRetrievalLine, Supplier<TextSession> textSession,
            Supplier<BinarySession> binarySession) {
        this.maxItemSize = maxItemSize;
        this.maxRetrievalLine = maxRetrievalLine;
        this.textSession = textSession;
        this.binarySession = binarySession;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (!in.isReadable()) {
            return;
        }
        String name = ctx.name();
        if (in.getUnsignedByte(in.readerIndex()) == BinaryRequestDecoder.REQUEST_MAGIC) {
            ctx.pipeline().addAfter(name, "binary-session", binarySession.get());
            ctx.pipeline().addAfter(name, "binary-decoder", new BinaryRequestDecoder(maxItemSize));
        } else {
            ctx.pipeline().addAfter(name, "text-session", textSession.get());
            ctx.pipeline().addAfter(name, "text-decoder", new TextRequestDecoder(maxItemSize, maxRetrievalLine));
        }
        ctx.pipeline().remove(this);
    }
}
