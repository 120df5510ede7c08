package io.jmagent;

import ch.qos.logback.classic.Level;
import io.jmagent.cli.Flags;
import io.jmagent.config.ProxyConfig;
import io.jmagent.frontend.ProxyServer;
import java.io.PrintWriter;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;

/** {@code java -jar jmagent.jar [magent flags]}: parses the flags and runs the proxy in the foreground. */
public final class Main {

    /** Exit code for a bad command line, as picocli and getopt-style tools use. */
    static final int USAGE = 2;

    private Main() {
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }

    static int run(String[] args) {
        Flags flags = new Flags();
        CommandLine cl = new CommandLine(flags);
        PrintWriter err = new PrintWriter(System.err, true);
        try {
            cl.parseArgs(args);
        } catch (CommandLine.ParameterException e) {
            err.println("jmagent: " + e.getMessage() + " (try --help)");
            return USAGE;
        }
        if (cl.isUsageHelpRequested()) {
            cl.usage(System.out);
            return 0;
        }
        if (cl.isVersionHelpRequested()) {
            System.out.println(Flags.versionLine());
            return 0;
        }
        ProxyConfig config;
        try {
            config = flags.toConfig();
        } catch (IllegalArgumentException e) {
            err.println("jmagent: " + e.getMessage() + " (try --help)");
            return USAGE;
        }
        setLogLevel(config.verbosity());
        Logger log = LoggerFactory.getLogger(Main.class);
        if (flags.userOrGroupGiven()) {
            log.warn("-u/-g ignored: the JVM cannot drop privileges; start jmagent as the unprivileged user "
                    + "(see packaging/jmagent.service)");
        }
        ProxyServer server = new ProxyServer(config);
        try {
            server.start();
        } catch (Exception e) {
            err.println("jmagent: cannot start: " + e.getMessage());
            return 1;
        }
        CountDownLatch stop = new CountDownLatch(1);
        if (!onTerminationSignals(stop::countDown)) {
            log.warn("cannot handle SIGTERM here: it will close the proxy from a shutdown hook, exit code 143");
        }
        // any other way out of the JVM still closes the proxy (a second close does nothing)
        Runtime.getRuntime().addShutdownHook(new Thread(server::close, "jmagent-shutdown"));
        try {
            stop.await();
            log.info("shutting down: no new clients; answering the requests in flight (at most {} ms)",
                    config.operations().shutdownTimeout().toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        server.close();
        log.info("stopped");
        return 0;
    }

    /**
     * SIGTERM and SIGINT run {@code action} instead of exiting the JVM at once (whose exit code
     * would then be 143 or 130): the proxy shuts down gracefully and exits 0. False if the JVM
     * does not let signals be handled.
     */
    private static boolean onTerminationSignals(Runnable action) {
        try {
            for (String name : new String[] {"TERM", "INT"}) {
                sun.misc.Signal.handle(new sun.misc.Signal(name), signal -> action.run());
            }
            return true;
        } catch (IllegalArgumentException | UnsupportedOperationException | LinkageError e) {
            return false;
        }
    }

    private static void setLogLevel(int verbosity) {
        if (verbosity == 0) {
            return;
        }
        org.slf4j.Logger root = LoggerFactory.getLogger("io.jmagent");
        if (root instanceof ch.qos.logback.classic.Logger logback) {
            logback.setLevel(verbosity == 1 ? Level.DEBUG : Level.TRACE);
        }
    }
}
