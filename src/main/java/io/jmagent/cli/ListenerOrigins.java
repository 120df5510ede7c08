package io.jmagent.cli;

import io.jmagent.backend.NettyTransport;
import io.jmagent.config.ConfigException;
import io.jmagent.config.ProxyConfig;
import io.jmagent.config.ProxySetup;
import io.jmagent.frontend.ListenFailure;
import java.nio.file.Path;
import picocli.CommandLine.ParseResult;

/**
 * Where a listener of the setup was asked for, to name it in a start-up error: the flags
 * ({@code -l 127.0.0.1 -p 11211}, {@code -f PATH}, {@code --tls-port N}, {@code --http-port N}) when they set it (always
 * without {@code -c}), else the config file's key ({@code /etc/jmagent.yml: pools.web.listen}).
 */
public final class ListenerOrigins {

    private final Path file;
    private final ParseResult given;

    /** {@code file}: the config file ({@code -c}), or null. */
    public ListenerOrigins(Path file, ParseResult given) {
        this.file = file;
        this.given = given;
    }

    /** Where {@code pool}'s listener of this kind (or, for HTTP, the process's endpoint) was asked for. */
    public String of(ListenFailure.Listener listener, String pool, ProxySetup setup) {
        if (listener == ListenFailure.Listener.HTTP) {
            return file == null || given.hasMatchedOption("--http-port")
                    ? "--http-port " + setup.httpPort()
                    : file + ": http-port";
        }
        ProxyConfig c = setup.pool(pool).config();
        boolean first = pool.equals(setup.pools().get(0).name());
        if (listener == ListenFailure.Listener.TLS) {
            boolean byFlags = file == null || first && given.hasMatchedOption("--tls-port");
            return byFlags ? "--tls-port " + c.tls().port() : file + ": pools." + pool + ".tls";
        }
        if (listener == ListenFailure.Listener.TCP) {
            boolean byFlags = file == null || first && (given.hasMatchedOption("-l") || given.hasMatchedOption("-p"));
            return byFlags ? "-l " + c.listenAddress() + " -p " + c.port() : file + ": pools." + pool + ".listen";
        }
        boolean byFlags = file == null || first && given.hasMatchedOption("-f");
        return byFlags ? "-f " + c.unixSocket() : file + ": pools." + pool + ".unix-socket";
    }

    /** Refuses a unix socket on a transport that has none (NIO), naming where it was asked for. */
    public void checkUnixSockets(NettyTransport transport, ProxySetup setup) throws ConfigException {
        if (transport.domainServerChannel() != null) {
            return;
        }
        for (ProxySetup.Pool p : setup.pools()) {
            if (p.config().unixSocket() != null) {
                String why = given.hasMatchedOption("--transport")
                        ? "the nio transport (--transport nio) cannot serve a unix socket; use epoll or io_uring"
                        : "neither epoll nor io_uring is available here (" + NettyTransport.EPOLL.unavailabilityCause()
                                + "), and the nio transport cannot serve a unix socket";
                throw new ConfigException(of(ListenFailure.Listener.UNIX_SOCKET, p.name(), setup), null, why);
            }
        }
    }
}
