package io.jmagent;

import ch.qos.logback.classic.Level;
import io.jmagent.auth.Credentials;
import io.jmagent.backend.NettyTransport;
import io.jmagent.cli.FlagOverrides;
import io.jmagent.cli.Flags;
import io.jmagent.cli.ListenerOrigins;
import io.jmagent.config.ConfigException;
import io.jmagent.config.ConfigReloader;
import io.jmagent.config.ProxySetup;
import io.jmagent.frontend.ListenFailure;
import io.jmagent.frontend.ProxyPools;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import sun.misc.Signal;

/**
 * {@code java -jar jmagent.jar [magent flags] [-c FILE]}: parses the flags (and the config file),
 * runs the proxy in the foreground, and with a config file reloads it on SIGHUP and when it changes
 * (without one, SIGHUP is logged and ignored). SIGTERM and SIGINT shut it down gracefully
 * ({@link ProxyPools#close()}), exit code 0. A bad command line or config file, or a listener that
 * cannot be opened, is one line on stderr and exit code 2; any other failure to start, exit code 1.
 */
public final class Main {

    /**
     * Exit code for a bad command line or config file, an address it cannot listen on included, as
     * picocli and getopt-style tools use.
     */
    static final int USAGE = 2;

    private Main() {}

    public static void main(String[] args) {
        System.exit(run(args));
    }

    static int run(String[] args) {
        Flags flags = new Flags();
        CommandLine cl = new CommandLine(flags);
        PrintWriter err = new PrintWriter(System.err, true);
        CommandLine.ParseResult given;
        try {
            given = cl.parseArgs(args);
        } catch (CommandLine.ParameterException e) {
            err.println("jmagent: " + e.getMessage() + " (try --help)");
            return USAGE;
        }
        if (cl.isUsageHelpRequested()) {
            cl.usage(System.out);
            return 0;
        }
        if (flags.hashPasswordRequested()) {
            String password;
            try {
                password = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
            } catch (IOException e) {
                password = null;
            }
            if (password == null || password.isEmpty() || password.contains(" ")) {
                err.println("jmagent: --hash-password: give the password, without spaces, on standard input");
                return USAGE;
            }
            System.out.println(Credentials.hash(password));
            return 0;
        }
        if (cl.isVersionHelpRequested()) {
            System.out.println(Flags.versionLine());
            return 0;
        }
        Path file = flags.configFile();
        FlagOverrides overrides = new FlagOverrides(flags, given);
        ProxySetup setup;
        NettyTransport transport;
        ListenerOrigins origins = new ListenerOrigins(file, given);
        try {
            flags.check();
            setup = file == null ? flags.toSetup() : overrides.load(file);
            transport = flags.transport();
            origins.checkUnixSockets(transport, setup);
        } catch (ConfigException e) {
            err.println("jmagent: " + e.getMessage());
            return USAGE;
        } catch (IllegalArgumentException e) {
            err.println("jmagent: " + e.getMessage() + " (try --help)");
            return USAGE;
        }
        setLogLevel(setup.verbosity());
        Logger log = LoggerFactory.getLogger(Main.class);
        if (flags.userOrGroupGiven()) {
            log.warn("-u/-g ignored: the JVM cannot drop privileges; start jmagent as the unprivileged user "
                    + "(see packaging/jmagent.service)");
        }
        AtomicReference<ConfigReloader> reloading = new AtomicReference<>();
        onSighup(file, reloading, log);
        ProxyPools pools = new ProxyPools(setup, transport);
        try {
            pools.start();
        } catch (ListenFailure e) {
            err.println("jmagent: " + origins.of(e.listener(), e.pool(), setup) + ": " + e.getMessage());
            return USAGE;
        } catch (IllegalArgumentException e) { // a file the settings name is missing or unusable
            err.println("jmagent: " + e.getMessage());
            return USAGE;
        } catch (Exception e) {
            err.println("jmagent: cannot start: " + (e.getMessage() == null ? e.toString() : e.getMessage()));
            return 1;
        }
        ConfigReloader reloader = file == null
                ? null
                : new ConfigReloader(file, setup, () -> overrides.load(file), next -> {
                    pools.apply(next);
                    setLogLevel(next.verbosity());
                });
        if (reloader != null) {
            try {
                reloader.watch();
            } catch (IOException e) {
                log.warn("cannot watch {} for changes ({}); reload it with SIGHUP", file, e.toString());
            }
            reloading.set(reloader);
        }
        CountDownLatch stop = new CountDownLatch(1);
        if (!onTerminationSignals(stop::countDown)) {
            log.warn("cannot handle SIGTERM here: it will close the proxy from a shutdown hook, exit code 143");
        }
        // any other way out of the JVM still closes the proxy (a second close does nothing)
        Runtime.getRuntime().addShutdownHook(new Thread(() -> stopAll(reloader, pools), "jmagent-shutdown"));
        try {
            stop.await();
            log.info(
                    "shutting down: no new clients; answering the requests in flight (at most {} ms)",
                    pools.setup().shutdownTimeout().toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        stopAll(reloader, pools);
        log.info("stopped");
        return 0;
    }

    /** Stops reloading, then closes every pool gracefully (see {@link ProxyPools#close()}). */
    private static void stopAll(ConfigReloader reloader, ProxyPools pools) {
        if (reloader != null) {
            reloader.close();
        }
        pools.close();
    }

    /**
     * SIGHUP asks for a reload of the config file: the handler only hands it to the reloader's thread
     * (set once the proxy runs). Without {@code -c} there is nothing to reload: magent users send it
     * out of habit, so it is logged and ignored rather than ending the JVM.
     */
    private static void onSighup(Path file, AtomicReference<ConfigReloader> reloading, Logger log) {
        try {
            Signal.handle(new Signal("HUP"), signal -> {
                ConfigReloader reloader = reloading.get();
                if (reloader != null) {
                    reloader.requestReload("SIGHUP");
                } else if (file == null) {
                    log.warn("SIGHUP ignored: nothing to reload without -c (a config file)");
                } else {
                    log.warn("SIGHUP ignored: jmagent is still starting");
                }
            });
        } catch (IllegalArgumentException | UnsupportedOperationException e) {
            if (file != null) {
                log.warn(
                        "cannot handle SIGHUP ({}); the config file is still reloaded when it changes", e.getMessage());
            }
        }
    }

    /**
     * SIGTERM and SIGINT run {@code action} instead of exiting the JVM at once (whose exit code
     * would then be 143 or 130): the proxy shuts down gracefully and exits 0. False if the JVM
     * does not let signals be handled.
     */
    private static boolean onTerminationSignals(Runnable action) {
        try {
            for (String name : new String[] {"TERM", "INT"}) {
                Signal.handle(new Signal(name), signal -> action.run());
            }
            return true;
        } catch (IllegalArgumentException | UnsupportedOperationException | LinkageError e) {
            return false;
        }
    }

    /** 0 leaves the level to logback.xml (info); a reload may lower it back. */
    private static void setLogLevel(int verbosity) {
        org.slf4j.Logger root = LoggerFactory.getLogger("io.jmagent");
        if (root instanceof ch.qos.logback.classic.Logger logback) {
            logback.setLevel(verbosity == 0 ? null : verbosity == 1 ? Level.DEBUG : Level.TRACE);
        }
    }
}
