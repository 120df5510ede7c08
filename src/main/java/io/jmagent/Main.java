package io.jmagent;

import ch.qos.logback.classic.Level;
import io.jmagent.cli.Flags;
import io.jmagent.config.ProxyConfig;
import io.jmagent.frontend.ProxyServer;
import java.io.PrintWriter;
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
        Runtime.getRuntime().addShutdownHook(new Thread(server::close, "jmagent-shutdown"));
        try {
            server.awaitClose();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return 0;
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
