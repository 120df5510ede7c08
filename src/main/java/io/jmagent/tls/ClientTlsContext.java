package io.jmagent.tls;

import io.jmagent.config.ClientTls;
import io.jmagent.config.FileStamps;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;
import java.io.IOException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What one TLS listener serves its clients with: the SSL context built from the files a
 * {@link ClientTls} names, rebuilt when one of them changes, so that a certificate is rotated
 * without a restart (checked every {@value #CHECK_EVERY_MS} ms; a new file that does not make a
 * context is refused with one WARN line and the one in force keeps serving). Each new client gets
 * a handler of the context in force when it connects. The OpenSSL engine (BoringSSL, from
 * netty-tcnative) where it loads, the JDK's otherwise.
 */
public final class ClientTlsContext implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(ClientTlsContext.class);
    static final long CHECK_EVERY_MS = 2000;

    private final ClientTls settings;
    private final String where;
    private final ScheduledExecutorService reloads;
    private volatile SslContext context;
    private volatile FileStamps built;

    private ClientTlsContext(ClientTls settings, String where, SslContext context, FileStamps built) {
        this.settings = settings;
        this.where = where;
        this.context = context;
        this.built = built;
        this.reloads = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "jmagent-tls-files");
            t.setDaemon(true);
            return t;
        });
        reloads.scheduleWithFixedDelay(this::reloadIfChanged, CHECK_EVERY_MS, CHECK_EVERY_MS, TimeUnit.MILLISECONDS);
    }

    /**
     * The context of {@code settings}, watching its files; {@code where} names the listener in log
     * lines. An {@link IllegalArgumentException} naming the file and the reason if the files do not
     * make a context.
     */
    public static ClientTlsContext open(ClientTls settings, String where) {
        FileStamps stamps = stamps(settings);
        return new ClientTlsContext(settings, where, build(settings), stamps);
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

    /** Rebuilds the context if one of its files changed since it was built; true if it did. */
    boolean reloadIfChanged() {
        try {
            FileStamps now = stamps(settings);
            if (now.equals(built)) {
                return false;
            }
            built = now; // a bad new file is reported once, not at every check
            context = build(settings);
            log.info("TLS {}: certificate files changed, reloaded: new clients get the new certificate", where);
            return true;
        } catch (RuntimeException e) {
            log.warn("TLS {}: certificate files changed but cannot be used, the previous ones stay in force: {}",
                    where, e.getMessage());
            return false;
        }
    }

    @Override
    public void close() {
        reloads.shutdownNow();
    }

    private static SslContext build(ClientTls t) {
        SslContextBuilder b;
        try {
            b = SslContextBuilder.forServer(t.certificateChain().toFile(), t.privateKey().toFile());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("certificate " + t.certificateChain() + " or key " + t.privateKey()
                    + ": " + reason(e), e);
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
        try {
            return b.build();
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException("certificate " + t.certificateChain() + ", key " + t.privateKey()
                    + (t.clientCa() == null ? "" : ", client CA " + t.clientCa()) + ": " + reason(e), e);
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

    private static FileStamps stamps(ClientTls t) {
        return FileStamps.of(t.certificateChain(), t.privateKey(), t.clientCa());
    }
}
