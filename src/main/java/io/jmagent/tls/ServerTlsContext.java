package io.jmagent.tls;

import io.jmagent.config.ServerTls;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.JdkSslContext;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;
import java.io.IOException;
import java.net.Socket;
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

    /** The context {@code settings} describe; an IllegalArgumentException naming the file if they make none. */
    public static ServerTlsContext of(ServerTls settings) {
        return new ServerTlsContext(build(settings, OpenSsl.isAvailable() ? SslProvider.OPENSSL : SslProvider.JDK),
                (JdkSslContext) build(settings, SslProvider.JDK));
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

    private static SslContext build(ServerTls t, SslProvider provider) {
        SslContextBuilder b = SslContextBuilder.forClient().sslProvider(provider).protocols(PROTOCOLS);
        try {
            if (t.ca() != null) {
                b.trustManager(t.ca().toFile());
            }
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("server CA " + t.ca() + ": " + ClientTlsContext.reason(e), e);
        }
        try {
            if (t.certificate() != null) {
                b.keyManager(t.certificate().toFile(), t.key().toFile());
            }
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("client certificate " + t.certificate() + " or key " + t.key() + ": "
                    + ClientTlsContext.reason(e), e);
        }
        try {
            return b.build();
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException("TLS to the servers"
                    + (t.ca() == null ? "" : ", CA " + t.ca())
                    + (t.certificate() == null ? "" : ", certificate " + t.certificate() + ", key " + t.key())
                    + ": " + ClientTlsContext.reason(e), e);
        }
    }
}
