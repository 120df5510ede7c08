package io.jmagent.testing;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A real memcached process (the Debian package's /usr/bin/memcached) on a free loopback port.
 * Tests start it, talk to it, and always {@link #close()} it. {@link #kill()}, {@link #freeze()}
 * and {@link #thaw()} send SIGKILL, SIGSTOP and SIGCONT for failure tests.
 */
public final class MemcachedProcess implements AutoCloseable {

    private final int port;
    private final List<String> extraArgs;
    private final Map<String, String> environment;
    private Process process;
    /** The address it listens on. */
    private String host = "127.0.0.1";

    private MemcachedProcess(int port, List<String> extraArgs, Map<String, String> environment) {
        this.port = port;
        this.extraArgs = extraArgs;
        this.environment = environment;
    }

    /** Starts memcached on a free port and waits until it accepts connections. */
    public static MemcachedProcess start(String... extraArgs) {
        return start(Map.of(), extraArgs);
    }

    /** As {@link #start(String...)}, with {@code environment} added to memcached's (SASL_CONF_PATH, say). */
    public static MemcachedProcess start(Map<String, String> environment, String... extraArgs) {
        MemcachedProcess m = new MemcachedProcess(freePort(), List.of(extraArgs), Map.copyOf(environment));
        m.startProcess();
        return m;
    }

    /** Starts memcached on {@code host} (a loopback address: 127.0.0.2, ...) and {@code port}. */
    public static MemcachedProcess startAt(String host, int port) {
        MemcachedProcess m = new MemcachedProcess(port, List.of(), Map.of());
        m.host = host;
        m.startProcess();
        return m;
    }

    /** Starts a new, empty memcached on the same port (after {@link #kill()}). */
    public void restart() {
        stopProcess();
        startProcess();
    }

    private void startProcess() {
        List<String> cmd = new ArrayList<>(
                List.of(binary(), "-l", host, "-p", Integer.toString(port), "-U", "0", "-m", "64", "-t", "2"));
        if ("root".equals(System.getProperty("user.name"))) {
            cmd.add("-u");
            cmd.add("root");
        }
        cmd.addAll(extraArgs);
        try {
            ProcessBuilder builder =
                    new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD);
            builder.environment().putAll(environment);
            process = builder.start();
        } catch (IOException e) {
            throw new IllegalStateException("cannot start memcached (is the memcached package installed?)", e);
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress(host, port), 200);
                return;
            } catch (IOException e) {
                if (!process.isAlive()) {
                    throw new IllegalStateException("memcached exited with " + process.exitValue());
                }
                sleep(20);
            }
        }
        throw new IllegalStateException("memcached did not start on port " + port);
    }

    public int port() {
        return port;
    }

    /** "127.0.0.1:port", as given to the proxy's -s flag. */
    public String address() {
        return host + ":" + port;
    }

    public long pid() {
        return process.pid();
    }

    public void kill() {
        signal("KILL");
        try {
            process.waitFor(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** SIGSTOP, and returns once the kernel shows the process stopped (a signal is delivered asynchronously). */
    public void freeze() {
        signal("STOP");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (System.nanoTime() < deadline && !stopped()) {
            sleep(5);
        }
    }

    private boolean stopped() {
        try {
            String stat = Files.readString(Path.of("/proc/" + process.pid() + "/stat"));
            // pid (comm) state ...: the state follows the last ')'
            char state = stat.charAt(stat.lastIndexOf(')') + 2);
            return state == 'T' || state == 't';
        } catch (IOException e) {
            return false;
        }
    }

    public void thaw() {
        signal("CONT");
    }

    private void signal(String name) {
        try {
            new ProcessBuilder("kill", "-" + name, Long.toString(process.pid()))
                    .start()
                    .waitFor();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void stopProcess() {
        if (process != null && process.isAlive()) {
            thaw();
            process.destroyForcibly();
            try {
                process.waitFor(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public void close() {
        stopProcess();
    }

    public static int freePort() {
        while (true) {
            try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
                s.setReuseAddress(true);
                // the kernel may hand the port just closed out again: never give one twice in this JVM, so
                // that two ports asked for in a row (a listener and an HTTP port, say) always differ
                if (GIVEN.add(s.getLocalPort())) {
                    return s.getLocalPort();
                }
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        }
    }

    private static final java.util.Set<Integer> GIVEN = java.util.concurrent.ConcurrentHashMap.newKeySet();

    private static String binary() {
        for (String candidate : new String[] {"/usr/bin/memcached", "/usr/local/bin/memcached"}) {
            if (Files.isExecutable(Path.of(candidate))) {
                return candidate;
            }
        }
        return "memcached";
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
