package io.jmagent.metrics;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP endpoint ({@code --http-port}), one per process, on the proxy's event loops:
 * {@code GET /metrics} answers the Prometheus text format, {@code GET /health} answers 200 while
 * every key of every pool has somewhere to go and 503 otherwise, with each pool's servers and their
 * states as JSON. One per HTTP connection.
 */
public final class HttpEndpoint extends SimpleChannelInboundHandler<FullHttpRequest> {

    private static final Logger log = LoggerFactory.getLogger(HttpEndpoint.class);
    private static final String PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";

    private final PrometheusMetrics metrics;
    private final Supplier<List<PoolView>> pools;

    /** {@code pools} gives the pools running at the moment of each request. */
    public HttpEndpoint(PrometheusMetrics metrics, Supplier<List<PoolView>> pools) {
        this.metrics = metrics;
        this.pools = pools;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
        if (!request.decoderResult().isSuccess()) {
            send(ctx, request, HttpResponseStatus.BAD_REQUEST, "text/plain; charset=utf-8", "bad request\n", false);
            return;
        }
        boolean head = request.method().equals(HttpMethod.HEAD);
        if (!head && !request.method().equals(HttpMethod.GET)) {
            send(
                    ctx,
                    request,
                    HttpResponseStatus.METHOD_NOT_ALLOWED,
                    "text/plain; charset=utf-8",
                    "only GET and HEAD\n",
                    head);
            return;
        }
        switch (new QueryStringDecoder(request.uri()).path()) {
            case "/metrics" -> send(ctx, request, HttpResponseStatus.OK, PROMETHEUS_TEXT, metrics.scrape(), head);
            case "/health" -> {
                List<PoolView> now = pools.get();
                send(
                        ctx,
                        request,
                        FarmHealth.everyKeyServed(now) ? HttpResponseStatus.OK : HttpResponseStatus.SERVICE_UNAVAILABLE,
                        "application/json",
                        FarmHealth.json(now),
                        head);
            }
            default ->
                send(
                        ctx,
                        request,
                        HttpResponseStatus.NOT_FOUND,
                        "text/plain; charset=utf-8",
                        "not found: try /metrics or /health\n",
                        head);
        }
    }

    private static void send(
            ChannelHandlerContext ctx,
            FullHttpRequest request,
            HttpResponseStatus status,
            String contentType,
            String body,
            boolean head) {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        ByteBuf content = head ? Unpooled.EMPTY_BUFFER : Unpooled.wrappedBuffer(bytes);
        FullHttpResponse response = new DefaultFullHttpResponse(request.protocolVersion(), status, content);
        response.headers().set(HttpHeaderNames.CONTENT_TYPE, contentType);
        response.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, bytes.length);
        boolean keepAlive =
                HttpUtil.isKeepAlive(request) && request.decoderResult().isSuccess();
        if (keepAlive) {
            if (!request.protocolVersion().isKeepAliveDefault()) {
                response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
            }
            ctx.writeAndFlush(response, ctx.voidPromise());
        } else {
            response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("HTTP connection {} failed: {}", ctx.channel().remoteAddress(), cause.toString());
        ctx.close();
    }
}
