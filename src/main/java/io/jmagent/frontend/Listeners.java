package io.jmagent.frontend;

import io.jmagent.backend.NettyTransport;
import io.jmagent.config.ProxyConfig;
import io.jmagent.config.ProxySetup;
import io.jmagent.tls.ClientTlsContext;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.AdaptiveRecvByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.unix.DomainSocketAddress;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Binds one pool's listening sockets, TCP (plain and TLS) and unix domain (the latter on the
 * io_uring and epoll transports only), on the pool's event loops; every client accepted gets {@code clientInit}. Used from the
 * thread that starts or reloads the pool, never an event loop: binding waits.
 */
final class Listeners {

    private static final Logger log = LoggerFactory.getLogger(Listeners.class);
    private static final WriteBufferWaterMark CLIENT_WATER_MARK = new WriteBufferWaterMark(256 * 1024, 1024 * 1024);
    /**
     * Netty's default for a socket (an adaptive guess, at most 16 reads per wake-up), one for every
     * client instead of one each: the allocator only holds settings, each channel's guesses live in
     * its own handle.
     */
    private static final RecvByteBufAllocator CLIENT_READS = new AdaptiveRecvByteBufAllocator().maxMessagesPerRead(16);

    private final NettyTransport transport;
    private final EventLoopGroup bossGroup;
    private final EventLoopGroup workerGroup;
    private final ChannelHandler clientInit;
    private final String pool;
    private final String logPrefix;

    /** {@code pool}: the name of the pool whose listeners these are, for its log lines and {@link ListenFailure}s. */
    Listeners(
            NettyTransport transport,
            EventLoopGroup bossGroup,
            EventLoopGroup workerGroup,
            ChannelHandler clientInit,
            String pool) {
        this.transport = transport;
        this.bossGroup = bossGroup;
        this.workerGroup = workerGroup;
        this.clientInit = clientInit;
        this.pool = pool;
        this.logPrefix = pool.equals(ProxySetup.DEFAULT_POOL) ? "" : "pool " + pool + ": ";
    }

    /** Listens on {@code c}'s TCP address and port; a {@link ListenFailure} if it cannot. */
    Channel bindTcp(ProxyConfig c) throws InterruptedException {
        Channel ch = bind(c.listenAddress(), c.port(), clientInit, ListenFailure.Listener.TCP);
        log.info(
                "{}listening on {} ({} transport, {} event loops) for {}",
                logPrefix,
                ch.localAddress(),
                transport.label(),
                c.threads(),
                c.servers());
        return ch;
    }

    /**
     * Listens for TLS clients on {@code c}'s TCP address and its TLS port, each client first through
     * {@code tlsInit} (its TLS handler, then what every client gets); a {@link ListenFailure} if it cannot.
     */
    Channel bindTls(ProxyConfig c, ChannelHandler tlsInit) throws InterruptedException {
        Channel ch = bind(c.listenAddress(), c.tls().port(), tlsInit, ListenFailure.Listener.TLS);
        log.info(
                "{}listening for TLS on {} ({}; {}; client certificates {})",
                logPrefix,
                ch.localAddress(),
                ClientTlsContext.engine(),
                String.join(", ", c.tls().protocols()),
                c.tls().clientCa() == null
                        ? "not asked for"
                        : "required, from " + c.tls().clientCa());
        return ch;
    }

    private Channel bind(String address, int port, ChannelHandler init, ListenFailure.Listener kind)
            throws InterruptedException {
        ServerBootstrap b = new ServerBootstrap()
                .group(bossGroup, workerGroup)
                .channel(transport.serverChannel())
                .option(ChannelOption.SO_BACKLOG, 1024)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, CLIENT_WATER_MARK)
                .childOption(ChannelOption.RCVBUF_ALLOCATOR, CLIENT_READS)
                .childHandler(init);
        try {
            return b.bind(new InetSocketAddress(address, port)).sync().channel();
        } catch (InterruptedException e) {
            throw e;
        } catch (Exception e) { // a bind failure is an IOException that Netty's sync() rethrows unchecked
            throw new ListenFailure(pool, kind, ProxySetup.hostPort(address, port), e);
        }
    }

    /** Listens on the unix domain socket {@code path}, replacing a file left there; a {@link ListenFailure} if it cannot. */
    Channel bindUnix(Path path) throws InterruptedException {
        String where = "unix socket " + path;
        if (transport.domainServerChannel() == null) {
            throw new ListenFailure(
                    pool, ListenFailure.Listener.UNIX_SOCKET, where, NettyTransport.NIO_HAS_NO_UNIX_SOCKETS, null);
        }
        try {
            Files.deleteIfExists(path);
        } catch (IOException e) {
            throw new ListenFailure(
                    pool,
                    ListenFailure.Listener.UNIX_SOCKET,
                    where,
                    "cannot replace the file there: " + e.getMessage(),
                    e);
        }
        ServerBootstrap b = new ServerBootstrap()
                .group(bossGroup, workerGroup)
                .channel(transport.domainServerChannel())
                .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, CLIENT_WATER_MARK)
                .childOption(ChannelOption.RCVBUF_ALLOCATOR, CLIENT_READS)
                .childHandler(clientInit);
        Channel ch;
        try {
            ch = b.bind(new DomainSocketAddress(path.toFile())).sync().channel();
        } catch (InterruptedException e) {
            throw e;
        } catch (Exception e) {
            throw new ListenFailure(pool, ListenFailure.Listener.UNIX_SOCKET, where, e);
        }
        log.info("{}listening on unix socket {}", logPrefix, path);
        return ch;
    }

    /** Closes a listener (null: none) and waits until it is closed; its clients stay. */
    static void close(Channel listener) {
        if (listener != null) {
            listener.close().awaitUninterruptibly();
        }
    }
}
