package io.jmagent.config;

import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reloads the config file: when asked ({@link #reload}, directly or, from a SIGHUP handler,
 * {@link #requestReload}) and, once {@link #watch watching}, when the file changes. A change is
 * noticed through a {@link WatchService} on the file's directory (so an editor's write-and-rename
 * and a swapped symlink count too), and acted on once the directory has been quiet for
 * {@value #DEBOUNCE_MILLIS} ms and the file's content differs from the content last read.
 *
 * <p>A reload reads and checks the whole file; a file that is not valid is refused with one WARN
 * line, and the configuration in force stays. A valid one that differs from it is handed to the
 * target, which moves the running proxy to it (or throws, refusing it as well). Reloads run one at
 * a time, on the caller's thread or the reloader's own, never on an event loop.
 */
public final class ConfigReloader implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(ConfigReloader.class);
    static final long DEBOUNCE_MILLIS = 250;

    /** What one reload did. */
    public enum Outcome {
        APPLIED,
        UNCHANGED,
        REFUSED
    }

    /** Reads and checks the configuration (the file, with whatever lies over it). */
    @FunctionalInterface
    public interface Loader {
        ProxySetup load() throws ConfigException;
    }

    private final Path file;
    private final Loader loader;
    private final Consumer<ProxySetup> target;
    private final ScheduledExecutorService executor;
    private final Object debounceLock = new Object();
    private final AtomicLong applied = new AtomicLong();
    private final AtomicLong refused = new AtomicLong();
    private ProxySetup current;
    /** Digest of the file's content when last read for a reload; null if it could not be read. */
    private volatile byte[] lastDigest;

    private ScheduledFuture<?> pending;
    private WatchService watcher;

    /**
     * @param file    the config file, watched and named in the log
     * @param current the configuration in force
     * @param loader  builds the configuration from the file
     * @param target  moves the running proxy to a new configuration; throws to refuse it
     */
    public ConfigReloader(Path file, ProxySetup current, Loader loader, Consumer<ProxySetup> target) {
        this.file = file;
        this.current = current;
        this.loader = loader;
        this.target = target;
        this.lastDigest = digestOf(file);
        this.executor = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "jmagent-reload");
            t.setDaemon(true);
            return t;
        });
    }

    /** Reloads now, on this thread; {@code why} goes in the log ("SIGHUP", "file changed"). */
    public synchronized Outcome reload(String why) {
        lastDigest = digestOf(file);
        ProxySetup next;
        try {
            next = loader.load();
        } catch (ConfigException e) {
            return refuse(why, e.getMessage());
        }
        if (next.equals(current)) {
            log.info("reload ({}): {} is unchanged", why, file);
            return Outcome.UNCHANGED;
        }
        try {
            target.accept(next);
        } catch (RuntimeException e) {
            return refuse(why, file + ": " + e.getMessage());
        }
        current = next;
        applied.incrementAndGet();
        log.info("reload ({}): {} applied", why, file);
        return Outcome.APPLIED;
    }

    private Outcome refuse(String why, String message) {
        refused.incrementAndGet();
        log.warn("reload ({}) refused, the previous configuration stays in force: {}", why, message);
        return Outcome.REFUSED;
    }

    /** Reloads soon, on the reloader's thread: for a signal handler, which must not wait. */
    public void requestReload(String why) {
        executor.execute(() -> reload(why));
    }

    /** Starts watching the file's directory; changes to the file reload it. */
    public synchronized void watch() throws IOException {
        if (watcher != null) {
            return;
        }
        Path dir = file.toAbsolutePath().getParent();
        watcher = dir.getFileSystem().newWatchService();
        dir.register(
                watcher,
                StandardWatchEventKinds.ENTRY_CREATE,
                StandardWatchEventKinds.ENTRY_MODIFY,
                StandardWatchEventKinds.ENTRY_DELETE);
        WatchService w = watcher;
        Thread t = new Thread(() -> watchLoop(w), "jmagent-config-watch");
        t.setDaemon(true);
        t.start();
        log.info("watching {} for changes", file);
    }

    private void watchLoop(WatchService w) {
        try {
            while (true) {
                WatchKey key = w.take();
                key.pollEvents();
                key.reset();
                debounce();
            }
        } catch (ClosedWatchServiceException | InterruptedException e) {
            // closed: stop watching
        }
    }

    /** (Re)starts the quiet period after which a changed file is reloaded. */
    private void debounce() {
        synchronized (debounceLock) {
            if (pending != null) {
                pending.cancel(false);
            }
            pending = executor.schedule(this::reloadIfChanged, DEBOUNCE_MILLIS, TimeUnit.MILLISECONDS);
        }
    }

    private void reloadIfChanged() {
        byte[] digest = digestOf(file);
        if (digest == null) {
            if (lastDigest != null) {
                log.warn("{} cannot be read any more; the configuration in force stays", file);
                lastDigest = null;
            }
            return;
        }
        if (!Arrays.equals(digest, lastDigest)) {
            reload("file changed");
        }
    }

    /** Reloads that put a new configuration in force. */
    public long appliedCount() {
        return applied.get();
    }

    /** Reloads refused: an invalid file, or a configuration the proxy could not move to. */
    public long refusedCount() {
        return refused.get();
    }

    private static byte[] digestOf(Path file) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file));
        } catch (IOException e) {
            return null;
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        synchronized (this) {
            if (watcher != null) {
                try {
                    watcher.close();
                } catch (IOException e) {
                    log.debug("closing the watch service: {}", e.toString());
                }
            }
        }
        executor.shutdownNow();
    }
}
