package io.jmagent.config;

import java.nio.file.Path;

/**
 * TLS to a pool's servers and backups (memcached started with {@code -Z}): every connection, the
 * probes' too, is TLS, and each server's certificate must chain to a trusted CA and name the host
 * as written in {@code -s}/{@code -b} (a DNS name, or an IP address in its subject alternative names).
 *
 * @param enabled      TLS to the servers ({@code --server-tls})
 * @param ca           PEM file of the CA certificates the servers' must chain to
 *                     ({@code --server-tls-ca}); null = the JDK's trusted CAs
 * @param certificate  PEM file: the proxy's client certificate and chain, for servers that ask
 *                     for one ({@code --server-tls-cert}); null = none
 * @param key          PEM file: its PKCS#8 key ({@code --server-tls-key})
 */
public record ServerTls(boolean enabled, Path ca, Path certificate, Path key) {

    public static final ServerTls NONE = new ServerTls(false, null, null, null);

    public ServerTls {
        if ((certificate == null) != (key == null)) {
            throw new IllegalArgumentException(
                    "a client certificate for the servers needs both " + "--server-tls-cert and --server-tls-key");
        }
        if (!enabled && (ca != null || certificate != null)) {
            throw new IllegalArgumentException(
                    "--server-tls-ca, --server-tls-cert and --server-tls-key need " + "--server-tls");
        }
    }
}
