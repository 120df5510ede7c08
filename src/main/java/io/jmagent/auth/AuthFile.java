package io.jmagent.auth;

import io.jmagent.config.FileStamps;
import java.net.InetAddress;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A pool's auth file in force: its {@link Credentials}, read again when the file changes (checked
 * every {@value #CHECK_EVERY_MS} ms; a file that does not read is refused with one WARN line and
 * the credentials in force stay), and the checks of client attempts. A check may cost a PBKDF2
 * hash, so it runs on threads of its own ({@value #CHECK_THREADS}, at most {@value #MAX_QUEUED}
 * attempts waiting), never on an event loop. An address that failed
 * {@value #MAX_FAILURES_PER_WINDOW} times within {@value #FAILURE_WINDOW_MS} ms is refused
 * without a check until that window ends, so guessing costs time, not the proxy's CPU.
 */
public final class AuthFile implements AutoCloseable {

    /** What became of one attempt. */
    public enum Outcome { ACCEPTED, REFUSED, RATE_LIMITED, BUSY }

    public static final int MAX_FAILURES_PER_WINDOW = 10;
    public static final long FAILURE_WINDOW_MS = 60_000;
    static final long CHECK_EVERY_MS = 2000;
    static final int CHECK_THREADS = 2;
    static final int MAX_QUEUED = 1024;
    /** Addresses remembered at once; past this the oldest windows are dropped. */
    static final int MAX_ADDRESSES = 100_000;

    private static final Logger log = LoggerFactory.getLogger(AuthFile.class);

    private final Path file;
    private final String where;
    private final ThreadPoolExecutor checks;
    private final ScheduledExecutorService reloads;
    private final Map<InetAddress, Failures> failures = new ConcurrentHashMap<>();
    private volatile Credentials credentials;
    private volatile FileStamps read;

    private AuthFile(Path file, String where, Credentials credentials, FileStamps read) {
        this.file = file;
        this.where = where;
        this.credentials = credentials;
        this.read = read;
        this.checks = new ThreadPoolExecutor(CHECK_THREADS, CHECK_THREADS, 0, TimeUnit.MILLISECONDS,
                new ArrayBlockingQueue<>(MAX_QUEUED), daemon("jmagent-auth"));
        this.reloads = Executors.newSingleThreadScheduledExecutor(daemon("jmagent-auth-file"));
        reloads.scheduleWithFixedDelay(this::reloadIfChanged, CHECK_EVERY_MS, CHECK_EVERY_MS, TimeUnit.MILLISECONDS);
    }

    /** Reads {@code file} and watches it; {@code where} names the pool in log lines. An IllegalArgumentException if it does not read. */
    public static AuthFile open(Path file, String where) {
        FileStamps stamps = FileStamps.of(file);
        return new AuthFile(file, where, Credentials.load(file), stamps);
    }

    public Path file() {
        return file;
    }

    /**
     * Checks {@code user} and {@code password}, from {@code from}, off the caller's thread;
     * {@code done} gets the outcome on a thread of this file's (or at once, when refused unchecked).
     */
    public void check(String user, String password, InetAddress from, Consumer<Outcome> done) {
        Failures f = failures.get(from);
        long now = System.currentTimeMillis();
        if (f != null && f.limited(now)) {
            done.accept(Outcome.RATE_LIMITED);
            return;
        }
        try {
            checks.execute(() -> {
                boolean ok = credentials.check(user, password);
                if (!ok) {
                    failed(from, System.currentTimeMillis());
                }
                done.accept(ok ? Outcome.ACCEPTED : Outcome.REFUSED);
            });
        } catch (RejectedExecutionException e) {
            done.accept(Outcome.BUSY);
        }
    }

    private void failed(InetAddress from, long now) {
        if (failures.size() >= MAX_ADDRESSES) {
            failures.entrySet().removeIf(e -> e.getValue().expired(now));
            if (failures.size() >= MAX_ADDRESSES) {
                failures.clear();
            }
        }
        failures.computeIfAbsent(from, a -> new Failures()).add(now);
    }

    /** Re-reads the file if it changed; true if new credentials are in force. */
    boolean reloadIfChanged() {
        try {
            FileStamps now = FileStamps.of(file);
            if (now.equals(read)) {
                return false;
            }
            read = now; // a bad file is reported once, not at every check
            credentials = Credentials.load(file);
            log.info("{}: auth file {} changed, reloaded: {} users", where, file, credentials.users());
            return true;
        } catch (RuntimeException e) {
            log.warn("{}: auth file {} changed but cannot be used, the users in force stay: {}", where, file,
                    e.getMessage());
            return false;
        }
    }

    @Override
    public void close() {
        reloads.shutdownNow();
        checks.shutdownNow();
    }

    private static java.util.concurrent.ThreadFactory daemon(String name) {
        return r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        };
    }

    /** One address's failures in its current window. */
    private static final class Failures {
        private long windowStart;
        private int count;

        synchronized void add(long now) {
            if (now - windowStart >= FAILURE_WINDOW_MS) {
                windowStart = now;
                count = 0;
            }
            count++;
        }

        synchronized boolean limited(long now) {
            return now - windowStart < FAILURE_WINDOW_MS && count >= MAX_FAILURES_PER_WINDOW;
        }

        synchronized boolean expired(long now) {
            return now - windowStart >= FAILURE_WINDOW_MS;
        }
    }
}
