package io.jmagent.config;

import java.nio.file.Path;

/**
 * TLS for the HTTP endpoint ({@code /metrics}, {@code /health}): served as HTTPS on the HTTP port
 * when a certificate and its key are given, with the client TLS listener's engine, protocols and
 * certificate reload ({@link #listener(int)}). Off without them.
 *
 * @param certificateChain  PEM file: the endpoint's certificate, then its chain ({@code --http-tls-cert})
 * @param privateKey        PEM file: its private key, PKCS#8 ({@code --http-tls-key})
 * @param clientCa          PEM file of the CA certificates a scraper's certificate must chain to
 *                          (mutual TLS, {@code --http-tls-ca}); null = no client certificate asked for
 */
public record HttpTls(Path certificateChain, Path privateKey, Path clientCa) {

    public static final HttpTls NONE = new HttpTls(null, null, null);

    public HttpTls {
        if ((certificateChain == null) != (privateKey == null)) {
            throw new IllegalArgumentException(
                    "HTTPS needs both a certificate (--http-tls-cert) and its key " + "(--http-tls-key)");
        }
        if (clientCa != null && certificateChain == null) {
            throw new IllegalArgumentException(
                    "client certificates for HTTP (--http-tls-ca) need HTTPS: " + "--http-tls-cert and --http-tls-key");
        }
    }

    public boolean enabled() {
        return certificateChain != null;
    }

    /** The settings of a TLS listener on {@code port} serving these files, as a pool's TLS listener is served. */
    public ClientTls listener(int port) {
        return new ClientTls(
                port,
                certificateChain,
                privateKey,
                clientCa,
                ClientTls.DEFAULT_PROTOCOLS,
                ClientTls.DEFAULT_HANDSHAKE_TIMEOUT);
    }
}
