package io.jmagent.backend;

import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.JdkSslContext;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;
import java.io.IOException;
import java.net.Socket;
import java.nio.file.Path;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;

/**
 * How the proxy speaks TLS to a pool's servers: one context for the pipelined connections (the
 * OpenSSL engine where it loads) and one of the JDK's for the health checker's blocking probes,
 * both from the same files. Each connection checks the server's certificate against the CA and
 * the host as written in {@code -s}/{@code -b} (HTTPS's rules: a DNS name, or an IP address among
 * the certificate's subject alternative names), and presents the client certificate if there is one.
 */
public final class ServerTlsContext {

    private static final String[] PROTOCOLS = {"TLSv1.3", "TLSv1.2"};

    private final SslContext connections;
    private final JdkSslContext probes;

    private ServerTlsContext(SslContext connections, JdkSslContext probes) {
        this.connections = connections;
        this.probes = probes;
    }

    /**
     * The context that trusts the CA certificates in {@code ca} (null: the JDK's trusted CAs) and
     * presents {@code certificate} with {@code key} (null: none); an IllegalArgumentException
     * naming the file if they make none.
     */
    public static ServerTlsContext of(Path ca, Path certificate, Path key) {
        return new ServerTlsContext(
                build(ca, certificate, key, OpenSsl.isAvailable() ? SslProvider.OPENSSL : SslProvider.JDK),
                (JdkSslContext) build(ca, certificate, key, SslProvider.JDK));
    }

    /** A handler for a new connection to the server at {@code host} (as written) and {@code port}. */
    public SslHandler newHandler(ByteBufAllocator alloc, String host, int port) {
        SslHandler handler = connections.newHandler(alloc, host, port);
        checkHostName(handler.engine());
        return handler;
    }

    /** {@code connected}, a plain socket to {@code host} and {@code port}, made TLS, the handshake done. */
    public Socket wrap(Socket connected, String host, int port) throws IOException {
        SSLSocket s = (SSLSocket) probes.context().getSocketFactory().createSocket(connected, host, port, true);
        SSLParameters p = s.getSSLParameters();
        p.setEndpointIdentificationAlgorithm("HTTPS");
        p.setProtocols(PROTOCOLS);
        s.setSSLParameters(p);
        s.startHandshake();
        return s;
    }

    private static void checkHostName(SSLEngine engine) {
        SSLParameters p = engine.getSSLParameters();
        p.setEndpointIdentificationAlgorithm("HTTPS");
        engine.setSSLParameters(p);
    }

    private static SslContext build(Path ca, Path certificate, Path key, SslProvider provider) {
        SslContextBuilder b =
                SslContextBuilder.forClient().sslProvider(provider).protocols(PROTOCOLS);
        try {
            if (ca != null) {
                b.trustManager(ca.toFile());
            }
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("server CA " + ca + ": " + reason(e), e);
        }
        try {
            if (certificate != null) {
                b.keyManager(certificate.toFile(), key.toFile());
            }
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(
                    "client certificate " + certificate + " or key " + key + ": " + reason(e), e);
        }
        try {
            return b.build();
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException(
                    "TLS to the servers"
                            + (ca == null ? "" : ", CA " + ca)
                            + (certificate == null ? "" : ", certificate " + certificate + ", key " + key)
                            + ": " + reason(e),
                    e);
        }
    }

    /** The innermost message: Netty wraps the one that says what is wrong with the file. */
    private static String reason(Throwable e) {
        Throwable inner = e;
        while (inner.getCause() != null && inner.getCause() != inner) {
            inner = inner.getCause();
        }
        return inner.getMessage() == null ? inner.getClass().getSimpleName() : inner.getMessage();
    }
}
