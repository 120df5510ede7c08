package io.jmagent.loadgen;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The CPU time another process has used so far, user and system, from Linux's
 * {@code /proc/PID/stat} (proc(5): utime and stime, fields 14 and 15, in clock ticks), as
 * bench/lib.sh's {@code bench_cpu_ticks} reads it.
 */
final class ProcessCpu {

    private final Path stat;
    private final long ticksPerSecond;

    ProcessCpu(long pid, long ticksPerSecond) {
        this.stat = Path.of("/proc", Long.toString(pid), "stat");
        this.ticksPerSecond = ticksPerSecond;
    }

    /** User plus system time so far, in nanoseconds (to the clock tick). */
    long nanos() throws IOException {
        return ticks(Files.readString(stat)) * 1_000_000_000L / ticksPerSecond;
    }

    /** utime + stime of a stat line; the command name in parentheses may hold spaces and parentheses. */
    static long ticks(String statLine) {
        String[] fields =
                statLine.substring(statLine.lastIndexOf(')') + 2).trim().split(" ");
        // fields[0] is field 3 (state), so field n is fields[n - 3]
        return Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
    }
}
