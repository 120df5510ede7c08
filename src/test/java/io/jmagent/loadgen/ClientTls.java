package io.jmagent.loadgen;

import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.JdkSslContext;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import java.io.IOException;
import java.net.Socket;
import java.nio.file.Path;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;

/**
 * The generator's side of TLS to {@code tls://} targets: a context for the measured connections
 * (the OpenSSL engine where it loads, so the generator spends as little as it can on TLS) and one
 * of the JDK's for the blocking socket that fills the key space. Either trusts the CA certificates
 * of a PEM file and checks the target's certificate against the host as written (HTTPS's rules),
 * or, only when asked for, trusts any certificate.
 */
final class ClientTls {

    private static final String[] PROTOCOLS = {"TLSv1.3", "TLSv1.2"};

    private final SslContext connections;
    private final JdkSslContext fill;
    private final boolean checkHost;

    private ClientTls(SslContext connections, JdkSslContext fill, boolean checkHost) {
        this.connections = connections;
        this.fill = fill;
        this.checkHost = checkHost;
    }

    /** Trusts the CA certificates in {@code ca} and checks each target's host name. */
    static ClientTls trusting(Path ca) throws SSLException {
        return new ClientTls(build(ca, engine()), (JdkSslContext) build(ca, SslProvider.JDK), true);
    }

    /** Trusts every certificate: for a target whose certificate cannot be checked, and only then. */
    static ClientTls insecure() throws SSLException {
        return new ClientTls(build(null, engine()), (JdkSslContext) build(null, SslProvider.JDK), false);
    }

    /** Which engine the measured connections use: OpenSSL (BoringSSL) or JDK. */
    String engineName() {
        return connections instanceof JdkSslContext ? "JDK" : "OpenSSL";
    }

    /** A handler for a new measured connection to {@code target}; its handshake starts once connected. */
    SslHandler newHandler(ByteBufAllocator alloc, Target target) {
        SslHandler handler = connections.newHandler(alloc, target.host(), target.port());
        if (checkHost) {
            SSLParameters p = handler.engine().getSSLParameters();
            p.setEndpointIdentificationAlgorithm("HTTPS");
            handler.engine().setSSLParameters(p);
        }
        return handler;
    }

    /** {@code connected}, a plain socket to {@code target}, made TLS, the handshake done. */
    Socket wrap(Socket connected, Target target) throws IOException {
        SSLSocket s = (SSLSocket)
                fill.context().getSocketFactory().createSocket(connected, target.host(), target.port(), true);
        SSLParameters p = s.getSSLParameters();
        if (checkHost) {
            p.setEndpointIdentificationAlgorithm("HTTPS");
        }
        p.setProtocols(PROTOCOLS);
        s.setSSLParameters(p);
        s.startHandshake();
        return s;
    }

    private static SslProvider engine() {
        return OpenSsl.isAvailable() ? SslProvider.OPENSSL : SslProvider.JDK;
    }

    private static SslContext build(Path ca, SslProvider provider) throws SSLException {
        SslContextBuilder b =
                SslContextBuilder.forClient().sslProvider(provider).protocols(PROTOCOLS);
        if (ca == null) {
            b.trustManager(InsecureTrustManagerFactory.INSTANCE);
        } else {
            b.trustManager(ca.toFile());
        }
        return b.build();
    }
}
