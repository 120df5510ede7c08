package io.jmagent.frontend;

import io.jmagent.auth.AuthFile;
import io.jmagent.backend.ServerLogin;
import io.jmagent.backend.ServerTlsContext;
import io.jmagent.config.ProxyConfig;
import io.jmagent.config.ProxySetup;
import io.jmagent.config.TextFiles;
import io.jmagent.tls.ClientTlsContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Opens what a pool's security settings name, for {@link ProxyServer}: the TLS listener's
 * certificates, the auth file, TLS and the login to the servers. Each failure names the file
 * (and, for the TLS listener, is a {@link ListenFailure}); each success is logged once.
 */
final class PoolSecurity {

    private static final Logger log = LoggerFactory.getLogger(PoolSecurity.class);

    private final String pool;
    /** How log lines and errors name the pool: nothing for the command line's single pool. */
    private final String prefix;

    PoolSecurity(String pool) {
        this.pool = pool;
        this.prefix = pool.equals(ProxySetup.DEFAULT_POOL) ? "" : "pool " + pool + ": ";
    }

    /** The TLS context of {@code c}'s settings; a {@link ListenFailure} naming the file if they make none. */
    ClientTlsContext openClientTls(ProxyConfig c) {
        String where = ProxySetup.hostPort(c.listenAddress(), c.tls().port());
        try {
            return ClientTlsContext.open(c.tls(), prefix + where);
        } catch (IllegalArgumentException e) {
            throw new ListenFailure(pool, ListenFailure.Listener.TLS, where, e.getMessage(), e);
        }
    }

    /** {@code c}'s auth file, or null; an IllegalArgumentException naming the file if it does not read. */
    AuthFile openAuthFile(ProxyConfig c) {
        if (c.authFile() == null) {
            return null;
        }
        String who = prefix.isEmpty() ? "jmagent" : "pool " + pool;
        try {
            AuthFile file = AuthFile.open(c.authFile(), who);
            log.info(
                    "{}: clients authenticate first (auth file {}): text as memcached -Y, binary with SASL PLAIN",
                    who,
                    c.authFile());
            return file;
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("auth file " + e.getMessage(), e);
        }
    }

    /** The TLS to {@code c}'s servers, or null; an IllegalArgumentException naming the file if its files make none. */
    ServerTlsContext openServerTls(ProxyConfig c) {
        if (!c.serverTls().enabled()) {
            return null;
        }
        try {
            ServerTlsContext tls = ServerTlsContext.of(
                    c.serverTls().ca(),
                    c.serverTls().certificate(),
                    c.serverTls().key());
            log.info(
                    "{}TLS to the servers ({}; certificates checked against {}{})",
                    prefix,
                    ClientTlsContext.engine(),
                    c.serverTls().ca() == null
                            ? "the JDK's trusted CAs"
                            : c.serverTls().ca(),
                    c.serverTls().certificate() == null
                            ? ""
                            : "; client certificate " + c.serverTls().certificate());
            return tls;
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(prefix + e.getMessage(), e);
        }
    }

    /** The login {@code c} names for its servers, or null; an IllegalArgumentException naming the file. */
    ServerLogin readServerLogin(ProxyConfig c) {
        if (c.serverAuthFile() == null) {
            return null;
        }
        try {
            return ServerLogin.parse(
                    TextFiles.lines(c.serverAuthFile()), c.serverAuthFile().toString());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("server auth file " + e.getMessage(), e);
        }
    }

    /** Closes what was opened, if anything was. */
    static void close(AutoCloseable opened) {
        if (opened == null) {
            return;
        }
        try {
            opened.close();
        } catch (Exception e) {
            log.debug("closing {}: {}", opened, e.toString());
        }
    }
}
