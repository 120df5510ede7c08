package io.jmagent.backend;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.channel.PendingWriteQueue;
import io.netty.util.ByteProcessor;
import java.nio.charset.StandardCharsets;

/**
 * The first thing on a connection to a server that may want a login: asks its {@code version},
 * holding back every request written meanwhile, and reads the answers itself. A server that
 * answers {@code VERSION} wants no login, and is not sent the credentials (a memcached without
 * {@code -Y} would store them as an item anyone could read); one that answers
 * {@code CLIENT_ERROR unauthenticated} is sent the {@link ServerLogin}. On {@code STORED} (or no
 * login needed) the held requests go, {@link #ADMITTED} is fired down the pipeline and this handler
 * leaves it; on anything else the connection fails with {@link LoginRefused} (its requests fail as
 * on any broken connection), so that no request is ever sent unauthenticated, whose answers
 * memcached would not frame.
 */
final class ServerAuthenticator extends ChannelDuplexHandler {

    /** A server's first line is short; more without a line end is no answer to a login. */
    private static final int MAX_ANSWER = 1024;

    private static final byte[] VERSION = "version\r\n".getBytes(StandardCharsets.US_ASCII);

    /** The user event fired down the pipeline once the server let the connection in (or wanted no login). */
    static final Object ADMITTED = Admitted.INSTANCE;

    private enum Admitted {
        INSTANCE
    }

    private final ServerLogin login;
    private PendingWriteQueue held;
    private ByteBuf answer;
    /** The version was answered "unauthenticated" and the login sent: the next line answers it. */
    private boolean loginSent;

    ServerAuthenticator(ServerLogin login) {
        this.login = login;
    }

    /** The server did not accept the login. */
    static final class LoginRefused extends RuntimeException {
        private static final long serialVersionUID = 1L;

        LoginRefused(String message) {
            super(message);
        }
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        held = new PendingWriteQueue(ctx);
        answer = ctx.alloc().buffer(64);
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        ctx.writeAndFlush(Unpooled.wrappedBuffer(VERSION));
        super.channelActive(ctx);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        held.add(msg, promise);
    }

    @Override
    public void flush(ChannelHandlerContext ctx) {
        // nothing leaves before the login is answered; the login itself was flushed when written
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf in = (ByteBuf) msg;
        try {
            answer.writeBytes(in);
        } finally {
            in.release();
        }
        int lf = answer.forEachByte(ByteProcessor.FIND_LF);
        if (lf < 0) {
            if (answer.readableBytes() > MAX_ANSWER) {
                ctx.fireExceptionCaught(new LoginRefused("no answer to the proxy's login"));
                ctx.close();
            }
            return;
        }
        String line = answer.toString(answer.readerIndex(), lf - answer.readerIndex(), StandardCharsets.US_ASCII)
                .stripTrailing();
        answer.readerIndex(lf + 1);
        if (!loginSent && line.equals(ServerLogin.UNAUTHENTICATED)) {
            loginSent = true;
            ctx.writeAndFlush(Unpooled.wrappedBuffer(login.request()));
            answer.discardReadBytes();
            return;
        }
        boolean admitted = loginSent ? line.equals(ServerLogin.ACCEPTED) : line.startsWith("VERSION ");
        if (!admitted) {
            ctx.fireExceptionCaught(new LoginRefused("login as '" + login.user() + "' refused: " + line));
            ctx.close();
            return;
        }
        held.removeAndWriteAll();
        ctx.flush();
        ByteBuf rest = answer.isReadable() ? answer.retainedSlice() : null;
        ctx.fireUserEventTriggered(ADMITTED);
        ctx.pipeline().remove(this);
        if (rest != null) {
            ctx.fireChannelRead(rest);
        }
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        held.removeAndFailAll(new LoginRefused("the connection closed before the login was answered"));
        answer.release();
    }
}
