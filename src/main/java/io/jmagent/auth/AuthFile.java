package io.jmagent.auth;

import io.jmagent.config.FileStamps;
import io.jmagent.config.FileWatch;
import java.net.InetAddress;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A pool's auth file in force: its {@link Credentials}, read again when the file changes (checked
 * every {@value FileWatch#CHECK_EVERY_MS} ms; a file that does not read is refused with one WARN line and
 * the credentials in force stay), and the checks of client attempts. A check may cost a PBKDF2
 * hash, so it runs on threads of its own ({@value #CHECK_THREADS}, at most {@value #MAX_QUEUED}
 * attempts waiting), never on an event loop. An address that failed
 * {@value #MAX_FAILURES_PER_WINDOW} times within {@value #FAILURE_WINDOW_MS} ms is refused
 * without a check until that window ends, and one address has at most
 * {@value #MAX_CHECKS_PER_ADDRESS} checks under way, so guessing costs time, not the proxy's CPU,
 * and one address cannot keep others' checks waiting.
 */
public final class AuthFile implements AutoCloseable {

    /** What became of one attempt. */
    public enum Outcome {
        ACCEPTED,
        REFUSED,
        RATE_LIMITED,
        BUSY
    }

    public static final int MAX_FAILURES_PER_WINDOW = 10;
    public static final long FAILURE_WINDOW_MS = 60_000;
    /** Checks of one address under way at once: more are refused unchecked, so one address cannot fill the queue. */
    public static final int MAX_CHECKS_PER_ADDRESS = 2;

    static final int CHECK_THREADS = 2;
    static final int MAX_QUEUED = 1024;
    /** Addresses remembered at once; past this, expired ones are dropped, and a new address waits if none is. */
    static final int MAX_ADDRESSES = 100_000;

    private static final Logger log = LoggerFactory.getLogger(AuthFile.class);

    private final Path file;
    private final String where;
    private final ThreadPoolExecutor checks;
    private final FileWatch watch;
    private final Map<InetAddress, Failures> failures = new ConcurrentHashMap<>();
    private volatile Credentials credentials;

    private AuthFile(Path file, String where) {
        this.file = file;
        this.where = where;
        this.credentials = Credentials.load(file);
        this.checks = new ThreadPoolExecutor(
                CHECK_THREADS, CHECK_THREADS, 0, TimeUnit.MILLISECONDS, new ArrayBlockingQueue<>(MAX_QUEUED), r -> {
                    Thread t = new Thread(r, "jmagent-auth");
                    t.setDaemon(true);
                    return t;
                });
        this.watch = new FileWatch(
                "jmagent-auth-file",
                this::reread,
                e -> log.warn(
                        "{}: auth file {} changed but cannot be used, the users in force stay: {}",
                        where,
                        file,
                        e.getMessage()),
                file);
    }

    /** Reads {@code file} and watches it; {@code where} names the pool in log lines. An IllegalArgumentException if it does not read. */
    public static AuthFile open(Path file, String where) {
        FileStamps.of(file); // names a missing file
        return new AuthFile(file, where);
    }

    public Path file() {
        return file;
    }

    /**
     * Checks {@code user} and {@code password}, from {@code from}, off the caller's thread;
     * {@code done} gets the outcome on a thread of this file's (or at once, when refused unchecked).
     */
    public void check(String user, String password, InetAddress from, Consumer<Outcome> done) {
        long now = System.currentTimeMillis();
        if (failures.size() >= MAX_ADDRESSES && !failures.containsKey(from)) {
            failures.entrySet().removeIf(e -> e.getValue().expired(now));
            if (failures.size() >= MAX_ADDRESSES) {
                done.accept(
                        Outcome.BUSY); // that many addresses failing or checking at once: no room to remember one more
                return;
            }
        }
        Failures f = failures.computeIfAbsent(from, a -> new Failures());
        if (f.limited(now) || !f.startCheck()) {
            done.accept(Outcome.RATE_LIMITED);
            return;
        }
        try {
            checks.execute(() -> {
                Outcome outcome = Outcome.BUSY;
                try {
                    if (f.limited(System.currentTimeMillis())) {
                        outcome = Outcome.RATE_LIMITED; // failures counted while this one waited
                    } else if (credentials.check(user, password)) {
                        outcome = Outcome.ACCEPTED;
                    } else {
                        f.add(System.currentTimeMillis());
                        outcome = Outcome.REFUSED;
                    }
                } finally {
                    f.endCheck();
                    done.accept(outcome);
                }
            });
        } catch (RejectedExecutionException e) {
            f.endCheck();
            done.accept(Outcome.BUSY);
        }
    }

    /** Reads the file, which changed. */
    private void reread() {
        credentials = Credentials.load(file);
        log.info("{}: auth file {} changed, reloaded: {} users", where, file, credentials.users());
    }

    /** Stops watching the file; the checks already asked for still run and answer. */
    @Override
    public void close() {
        watch.close();
        checks.shutdown();
    }

    /** One address's failures in its current window, and its checks under way. */
    private static final class Failures {
        private long windowStart;
        private int count;
        private int checking;

        /** One more check of this address under way; false (and none started) past {@value #MAX_CHECKS_PER_ADDRESS}. */
        synchronized boolean startCheck() {
            if (checking >= MAX_CHECKS_PER_ADDRESS) {
                return false;
            }
            checking++;
            return true;
        }

        synchronized void endCheck() {
            checking--;
        }

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
            return checking == 0 && now - windowStart >= FAILURE_WINDOW_MS;
        }
    }
}
