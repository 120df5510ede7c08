package io.jmagent.config;

import java.nio.file.Path;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Some files read once and watched: every {@value #CHECK_EVERY_MS} ms, on a daemon thread of its
 * own, they are stamped again, and when a stamp differs {@code reread} runs. A change is acted on
 * once: a file that cannot be stamped or read again goes to {@code failed} (to be logged; what was
 * read before stays in force) and is not retried until it changes again.
 */
public final class FileWatch implements AutoCloseable {

    public static final long CHECK_EVERY_MS = 2000;

    private final Path[] files;
    private final Runnable reread;
    private final Consumer<RuntimeException> failed;
    private final ScheduledExecutorService timer;
    private volatile FileStamps read;

    /**
     * Watches {@code files} (null ones skipped) as stamped now, that is, as just read; {@code name}
     * names the thread.
     */
    public FileWatch(String name, Runnable reread, Consumer<RuntimeException> failed, Path... files) {
        this.files = files.clone();
        this.reread = reread;
        this.failed = failed;
        this.read = FileStamps.of(files);
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        });
        timer.scheduleWithFixedDelay(this::checkNow, CHECK_EVERY_MS, CHECK_EVERY_MS, TimeUnit.MILLISECONDS);
    }

    /** Stamps the files and rereads them if they changed; true if they were reread. */
    public boolean checkNow() {
        try {
            FileStamps now = FileStamps.of(files);
            if (now.equals(read)) {
                return false;
            }
            read = now;
            reread.run();
            return true;
        } catch (RuntimeException e) {
            failed.accept(e);
            return false;
        }
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
