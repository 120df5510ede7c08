package io.jmagent.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;

/**
 * TLS for a pool's clients: a listener of its own on the pool's listen address, beside the plain
 * one (as memcached serves TLS and {@code notls:} listeners side by side). Off while the port is 0.
 *
 * @param port              TCP port of the TLS listener ({@code --tls-port}); 0 = none
 * @param certificateChain  PEM file: the proxy's certificate, then its chain ({@code --tls-cert})
 * @param privateKey        PEM file: the certificate's private key, PKCS#8 ({@code --tls-key})
 * @param clientCa          PEM file of the CA certificates a client's certificate must chain to
 *                          (mutual TLS, {@code --tls-ca}); null = no client certificate asked for
 * @param protocols         TLS versions offered ({@code --tls-protocols}); TLSv1.2 and TLSv1.3 only
 * @param handshakeTimeout  a client that has not finished its handshake by then is closed
 * @param ciphers           cipher suites offered, by their standard names ({@code --tls-ciphers});
 *                          empty = the TLS engine's defaults (AEAD suites with forward secrecy)
 */
public record ClientTls(
        int port,
        Path certificateChain,
        Path privateKey,
        Path clientCa,
        List<String> protocols,
        Duration handshakeTimeout,
        List<String> ciphers) {

    /** Settings with the TLS engine's default cipher suites. */
    public ClientTls(
            int port,
            Path certificateChain,
            Path privateKey,
            Path clientCa,
            List<String> protocols,
            Duration handshakeTimeout) {
        this(port, certificateChain, privateKey, clientCa, protocols, handshakeTimeout, List.of());
    }

    /** Older versions are broken (RFC 8996); anything else is not a TLS version. */
    private static final Set<String> SAFE_PROTOCOLS = Set.of("TLSv1.2", "TLSv1.3");

    public static final List<String> DEFAULT_PROTOCOLS = List.of("TLSv1.3", "TLSv1.2");
    public static final Duration DEFAULT_HANDSHAKE_TIMEOUT = Duration.ofSeconds(10);
    public static final ClientTls NONE =
            new ClientTls(0, null, null, null, DEFAULT_PROTOCOLS, DEFAULT_HANDSHAKE_TIMEOUT);

    public ClientTls {
        protocols = List.copyOf(protocols);
        ciphers = ciphers == null ? List.of() : List.copyOf(ciphers);
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("TLS port out of range: " + port);
        }
        if (port > 0 && (certificateChain == null || privateKey == null)) {
            throw new IllegalArgumentException(
                    "a TLS port needs a certificate chain (--tls-cert) and its key " + "(--tls-key)");
        }
        if (protocols.isEmpty()) {
            throw new IllegalArgumentException("TLS protocols: at least one of TLSv1.2, TLSv1.3");
        }
        for (String p : protocols) {
            if (!SAFE_PROTOCOLS.contains(p)) {
                throw new IllegalArgumentException("TLS protocol '" + p + "': only TLSv1.2 and TLSv1.3 are offered");
            }
        }
        if (handshakeTimeout.isZero() || handshakeTimeout.isNegative()) {
            throw new IllegalArgumentException("TLS handshake timeout must be positive");
        }
    }

    public boolean enabled() {
        return port > 0;
    }
}
