package io.jmagent.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real DNS server for the tests: dnsmasq on a free loopback port, authoritative for {@code .test},
 * answering A records from a hosts file ({@link #hosts}, re-read on SIGHUP) and SRV records from its
 * config ({@link #srv}, which takes a restart on the same port). Answers carry a TTL of 0.
 */
public final class Dnsmasq implements AutoCloseable {

    private final Path dir;
    private final int port;
    private final int ttl;
    private Process process;

    private Dnsmasq(Path dir, int port, int ttl) {
        this.dir = dir;
        this.port = port;
        this.ttl = ttl;
    }

    /** Starts dnsmasq with no records, answering with a TTL of 0. */
    public static Dnsmasq start() {
        return start(0);
    }

    /** Starts dnsmasq with no records, answering with a TTL of {@code ttlSeconds}. */
    public static Dnsmasq start(int ttlSeconds) {
        try {
            Dnsmasq d = new Dnsmasq(Files.createTempDirectory("jmagent-dns"), MemcachedProcess.freePort(), ttlSeconds);
            Files.writeString(d.dir.resolve("hosts"), "");
            Files.writeString(d.dir.resolve("conf"), "");
            d.startProcess();
            return d;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public int port() {
        return port;
    }

    /** Answers A (and AAAA) records from {@code lines} ("127.0.0.2 mc.test") from now on. */
    public void hosts(String... lines) {
        write("hosts", lines);
        if (process != null && process.isAlive()) {
            signal("HUP");
        }
    }

    /**
     * Answers SRV records {@code srv-host=NAME,TARGET,PORT,PRIORITY,WEIGHT} from {@code records}
     * ("_memcache._tcp.mc.test,127.0.0.1,11211,0,1"): restarts dnsmasq.
     */
    public void srv(String... records) {
        String[] lines = new String[records.length];
        for (int i = 0; i < records.length; i++) {
            lines[i] = "srv-host=" + records[i];
        }
        write("conf", lines);
        stop();
        startProcess();
    }

    /** Stops answering (the port then refuses). */
    public void stop() {
        if (process != null) {
            process.destroy();
            try {
                process.waitFor(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            process = null;
        }
    }

    /** Starts again after {@link #stop}, on the same port, with the same records. */
    public void restart() {
        stop();
        startProcess();
    }

    private void startProcess() {
        List<String> cmd = new ArrayList<>(List.of(
                binary(),
                "--keep-in-foreground",
                "--port=" + port,
                "--listen-address=127.0.0.1",
                "--bind-interfaces",
                "--no-resolv",
                "--no-hosts",
                "--local=/test/",
                "--local-ttl=" + ttl,
                "--pid-file=",
                "--addn-hosts=" + dir.resolve("hosts"),
                "--conf-file=" + dir.resolve("conf")));
        if ("root".equals(System.getProperty("user.name"))) {
            cmd.add("--user=root");
        }
        try {
            process = new ProcessBuilder(cmd)
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .start();
            Thread.sleep(300); // it binds at once; a bad option makes it exit at once
        } catch (IOException e) {
            throw new IllegalStateException("cannot start dnsmasq (is the dnsmasq-base package installed?)", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (!process.isAlive()) {
            throw new IllegalStateException("dnsmasq exited with " + process.exitValue() + ": " + cmd);
        }
    }

    private void write(String file, String... lines) {
        try {
            Files.writeString(dir.resolve(file), String.join("\n", lines) + "\n");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void signal(String name) {
        try {
            new ProcessBuilder("kill", "-" + name, Long.toString(process.pid()))
                    .start()
                    .waitFor(5, TimeUnit.SECONDS);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static String binary() {
        return Files.isExecutable(Path.of("/usr/sbin/dnsmasq")) ? "/usr/sbin/dnsmasq" : "dnsmasq";
    }

    @Override
    public void close() {
        stop();
    }
}
