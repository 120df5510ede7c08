package io.jmagent.frontend;

import io.jmagent.metrics.ProxyStats;
import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Behind a TLS client's SSL handler: a failed handshake (a certificate refused, no protocol in
 * common, the handshake timeout passed, plain text on the TLS port) is counted in
 * {@code ssl_handshake_errors}, logged at debug with its reason and the client's address, and
 * closes that client: one client's bad handshake is never a WARN and never reaches another. SSL
 * errors after the handshake close the client the same way, uncounted.
 */
@Sharable
final class TlsHandshakeOutcome extends ChannelInboundHandlerAdapter {

    private static final Logger log = LoggerFactory.getLogger(TlsHandshakeOutcome.class);

    private final ProxyStats stats;

    TlsHandshakeOutcome(ProxyStats stats) {
        this.stats = stats;
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        if (evt instanceof SslHandshakeCompletionEvent done && !done.isSuccess()) {
            stats.sslHandshakeError();
            log.debug("TLS client {}: handshake failed: {}", ctx.channel().remoteAddress(), reason(done.cause()));
            ctx.close();
        }
        super.userEventTriggered(ctx, evt);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) throws Exception {
        if (isTls(cause)) {
            log.debug("TLS client {}: {}", ctx.channel().remoteAddress(), reason(cause));
            ctx.close();
            return;
        }
        super.exceptionCaught(ctx, cause);
    }

    private static boolean isTls(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof SSLException) {
                return true;
            }
            if (c.getCause() == c) {
                break;
            }
        }
        return false;
    }

    private static String reason(Throwable t) {
        Throwable inner = t;
        while (inner.getCause() != null && inner.getCause() != inner) {
            inner = inner.getCause();
        }
        return inner.getMessage() == null ? inner.getClass().getSimpleName() : inner.getMessage();
    }
}
