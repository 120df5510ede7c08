package io.jmagent.tls;

import io.jmagent.config.ClientTls;
import io.jmagent.config.FileStamps;
import io.jmagent.config.FileWatch;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;
import java.io.IOException;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What one TLS listener serves its clients with: the SSL context built from the files a
 * {@link ClientTls} names, rebuilt when one of them changes, so that a certificate is rotated
 * without a restart (checked every {@value FileWatch#CHECK_EVERY_MS} ms; a new file that does not make a
 * context is refused with one WARN line and the one in force keeps serving). Each new client gets
 * a handler of the context in force when it connects. The OpenSSL engine (BoringSSL, from
 * netty-tcnative) where it loads, the JDK's otherwise.
 */
public final class ClientTlsContext implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(ClientTlsContext.class);
    private final ClientTls settings;
    private final String where;
    private final FileWatch files;
    private volatile SslContext context;

    private ClientTlsContext(ClientTls settings, String where) {
        this.settings = settings;
        this.where = where;
        this.context = build(settings);
        this.files = new FileWatch(
                "jmagent-tls-files",
                this::rebuild,
                e -> log.warn(
                        "TLS {}: certificate files changed but cannot be used, the previous ones stay in force: {}",
                        where,
                        e.getMessage()),
                settings.certificateChain(),
                settings.privateKey(),
                settings.clientCa());
    }

    /**
     * The context of {@code settings}, watching its files; {@code where} names the listener in log
     * lines. An {@link IllegalArgumentException} naming the file and the reason if the files do not
     * make a context.
     */
    public static ClientTlsContext open(ClientTls settings, String where) {
        FileStamps.of(settings.certificateChain(), settings.privateKey(), settings.clientCa()); // names a missing file
        return new ClientTlsContext(settings, where);
    }

    /** The engine TLS runs on here. */
    public static String engine() {
        return OpenSsl.isAvailable() ? "OpenSSL engine (" + OpenSsl.versionString() + ")" : "JDK engine";
    }

    public ClientTls settings() {
        return settings;
    }

    /** A handler for one new client, of the context in force; its handshake bounded by the settings' timeout. */
    public SslHandler newHandler(ByteBufAllocator alloc) {
        SslHandler handler = context.newHandler(alloc);
        handler.setHandshakeTimeoutMillis(settings.handshakeTimeout().toMillis());
        return handler;
    }

    /** Rebuilds the context from its files, which changed. */
    private void rebuild() {
        context = build(settings);
        log.info("TLS {}: certificate files changed, reloaded: new clients get the new certificate", where);
    }

    @Override
    public void close() {
        files.close();
    }

    private static SslContext build(ClientTls t) {
        SslContextBuilder b;
        try {
            b = SslContextBuilder.forServer(
                    t.certificateChain().toFile(), t.privateKey().toFile());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(
                    "certificate " + t.certificateChain() + " or key " + t.privateKey() + ": " + reason(e), e);
        }
        if (t.clientCa() != null) {
            try {
                b.trustManager(t.clientCa().toFile()).clientAuth(ClientAuth.REQUIRE);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("client CA " + t.clientCa() + ": " + reason(e), e);
            }
        }
        b.sslProvider(OpenSsl.isAvailable() ? SslProvider.OPENSSL : SslProvider.JDK)
                .protocols(t.protocols());
        if (!t.ciphers().isEmpty()) {
            b.ciphers(t.ciphers());
        }
        try {
            SslContext built = b.build();
            if (!t.ciphers().isEmpty()) {
                List<String> known = built.cipherSuites();
                List<String> unknown =
                        t.ciphers().stream().filter(c -> !known.contains(c)).toList();
                if (!unknown.isEmpty()) {
                    // the engine drops a suite it does not know: say so rather than offer less than asked
                    throw new IllegalArgumentException("cipher suites not supported by the TLS engine (" + engine()
                            + "): " + String.join(", ", unknown));
                }
            }
            return built;
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException(
                    "certificate " + t.certificateChain() + ", key " + t.privateKey()
                            + (t.clientCa() == null ? "" : ", client CA " + t.clientCa()) + ": " + reason(e),
                    e);
        }
    }

    /** The innermost message: Netty wraps the one that says what is wrong with the file. */
    private static String reason(Throwable e) {
        Throwable inner = e;
        while (inner.getCause() != null && inner.getCause() != inner) {
            inner = inner.getCause();
        }
        String m = inner.getMessage();
        return m == null ? inner.getClass().getSimpleName() : m;
    }
}
