package io.jmagent.backend;

import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.channel.uring.IoUring;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.channel.uring.IoUringServerDomainSocketChannel;
import io.netty.channel.uring.IoUringServerSocketChannel;
import io.netty.channel.uring.IoUringSocketChannel;
import java.util.Locale;

/**
 * The socket transport of every event loop: io_uring where the kernel allows it (one system call
 * submits a loop iteration's sends and re-armed receives together), else epoll, else NIO.
 * {@code --transport} picks one by name.
 */
public enum NettyTransport {
    IO_URING,
    EPOLL,
    NIO;

    /** Why {@code -f} fails on NIO, for the one line that refuses it. */
    public static final String NIO_HAS_NO_UNIX_SOCKETS =
            "the nio transport cannot serve a unix socket; use epoll or io_uring";

    /** What {@code --transport auto} picks here. */
    public static NettyTransport best() {
        if (IoUring.isAvailable()) {
            return IO_URING;
        }
        return Epoll.isAvailable() ? EPOLL : NIO;
    }

    /**
     * The transport named {@code name} ({@code auto}, {@code io_uring}, {@code epoll} or {@code nio}, any
     * case). Throws IllegalArgumentException for another name, or for a transport this host lacks,
     * saying why it lacks it.
     */
    public static NettyTransport named(String name) {
        String n = name.trim().toLowerCase(Locale.ROOT);
        if (n.equals("auto")) {
            return best();
        }
        NettyTransport t =
                switch (n) {
                    case "io_uring", "io-uring", "iouring" -> IO_URING;
                    case "epoll" -> EPOLL;
                    case "nio" -> NIO;
                    default ->
                        throw new IllegalArgumentException(
                                "--transport: '" + name + "' is not one of auto, io_uring, epoll, nio");
                };
        Throwable missing = t.unavailabilityCause();
        if (missing != null) {
            throw new IllegalArgumentException("--transport " + t.label() + " is not available here: " + missing);
        }
        return t;
    }

    /** Why this transport cannot run here, or null when it can. */
    public Throwable unavailabilityCause() {
        return switch (this) {
            case IO_URING -> IoUring.isAvailable() ? null : IoUring.unavailabilityCause();
            case EPOLL -> Epoll.isAvailable() ? null : Epoll.unavailabilityCause();
            case NIO -> null;
        };
    }

    /** The name {@code --transport} takes and the log shows. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    public MultiThreadIoEventLoopGroup newGroup(int threads) {
        IoHandlerFactory factory =
                switch (this) {
                    case IO_URING -> IoUringIoHandler.newFactory();
                    case EPOLL -> EpollIoHandler.newFactory();
                    case NIO -> NioIoHandler.newFactory();
                };
        return new MultiThreadIoEventLoopGroup(threads, factory);
    }

    public Class<? extends SocketChannel> socketChannel() {
        return switch (this) {
            case IO_URING -> IoUringSocketChannel.class;
            case EPOLL -> EpollSocketChannel.class;
            case NIO -> NioSocketChannel.class;
        };
    }

    public Class<? extends ServerChannel> serverChannel() {
        return switch (this) {
            case IO_URING -> IoUringServerSocketChannel.class;
            case EPOLL -> EpollServerSocketChannel.class;
            case NIO -> NioServerSocketChannel.class;
        };
    }

    /** The unix domain listening channel ({@code -f}); null on NIO, which has none here. */
    public Class<? extends ServerChannel> domainServerChannel() {
        return switch (this) {
            case IO_URING -> IoUringServerDomainSocketChannel.class;
            case EPOLL -> EpollServerDomainSocketChannel.class;
            case NIO -> null;
        };
    }
}
