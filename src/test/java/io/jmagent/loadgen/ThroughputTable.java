package io.jmagent.loadgen;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/**
 * The markdown a closed-loop run ends with: per target, the operations per second and the CPU time
 * its process spent per operation, medians over the rounds; per pair of targets "X" and
 * "X+suffix" (X-tls: the same proxy with TLS to its clients), ratios and differences taken round
 * by round, so both sides of each come from the same minute of a shared machine.
 */
final class ThroughputTable {

    /** One run of one round; {@code cpuNanos} the target process's CPU time in the measuring window, -1 if not read. */
    record Run(int round, RunResult result, long cpuNanos) {

        double rate() {
            return result.achievedRate();
        }

        boolean hasCpu() {
            return cpuNanos >= 0 && result.completedInWindow() > 0;
        }

        /** CPU µs per operation answered in the window. */
        double cpuMicrosPerOp() {
            return cpuNanos / 1000.0 / result.completedInWindow();
        }
    }

    private final List<Run> runs;
    private final List<String> targets;

    ThroughputTable(List<Run> runs, List<String> targets) {
        this.runs = runs;
        this.targets = targets;
    }

    String summary() {
        StringBuilder s = new StringBuilder(
                "| target | runs | ops/s median | ops/s min – max | CPU µs/op median | CPU µs/op min – max | p50 µs | p99 µs | errors |\n"
                        + "|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        for (String target : targets) {
            List<Run> of = runsOf(target);
            if (of.isEmpty()) {
                continue;
            }
            RunResult merged =
                    of.stream().map(Run::result).reduce(RunResult::plus).orElseThrow();
            List<Run> withCpu = of.stream().filter(Run::hasCpu).toList();
            s.append(String.format(
                    Locale.ROOT,
                    "| %s | %d | %.0f | %s | %s | %s | %.0f | %.0f | %d |%n",
                    target,
                    of.size(),
                    median(of, Run::rate),
                    range(of, Run::rate, "%.0f"),
                    withCpu.isEmpty() ? "" : String.format(Locale.ROOT, "%.2f", median(withCpu, Run::cpuMicrosPerOp)),
                    range(withCpu, Run::cpuMicrosPerOp, "%.2f"),
                    merged.micros(50),
                    merged.micros(99),
                    merged.errors() + merged.unanswered()));
        }
        return s.toString();
    }

    /** Each target "X+suffix" against X, round by round; empty if there is no such pair. */
    String pairs(String suffix) {
        StringBuilder s = new StringBuilder();
        for (String with : targets) {
            String without = with.substring(0, Math.max(0, with.length() - suffix.length()));
            if (!with.endsWith(suffix) || !targets.contains(without)) {
                continue;
            }
            Map<Integer, Run> base = new LinkedHashMap<>();
            runsOf(without).forEach(r -> base.put(r.round(), r));
            List<Double> ratios = new ArrayList<>();
            List<Double> costs = new ArrayList<>();
            List<Double> cpuRatios = new ArrayList<>();
            for (Run w : runsOf(with)) {
                Run b = base.get(w.round());
                if (b == null || b.rate() == 0) {
                    continue;
                }
                ratios.add(w.rate() / b.rate());
                if (w.hasCpu() && b.hasCpu()) {
                    costs.add(w.cpuMicrosPerOp() - b.cpuMicrosPerOp());
                    cpuRatios.add(w.cpuMicrosPerOp() / b.cpuMicrosPerOp());
                }
            }
            if (ratios.isEmpty()) {
                continue;
            }
            s.append(String.format(
                    Locale.ROOT,
                    "| %s / %s | %d | %.3f | %s | %s | %s | %s | %s |%n",
                    with,
                    without,
                    ratios.size(),
                    median(ratios, x -> x),
                    range(ratios, x -> x, "%.3f"),
                    costs.isEmpty() ? "" : String.format(Locale.ROOT, "%+.2f", median(costs, x -> x)),
                    range(costs, x -> x, "%+.2f"),
                    cpuRatios.isEmpty() ? "" : String.format(Locale.ROOT, "%.3f", median(cpuRatios, x -> x)),
                    range(cpuRatios, x -> x, "%.3f")));
        }
        if (s.length() == 0) {
            return "";
        }
        return "| pair | rounds | ops/s ratio median | min – max | CPU µs/op added median | min – max | CPU/op ratio median | min – max |\n"
                + "|---|---:|---:|---:|---:|---:|---:|---:|\n" + s;
    }

    /** One line per run, in the order they ran. */
    String everyRun() {
        StringBuilder s = new StringBuilder(
                "| round | target | ops/s | CPU µs/op | p50 µs | p99 µs | errors |\n|---:|---|---:|---:|---:|---:|---:|\n");
        for (Run run : runs) {
            RunResult r = run.result();
            s.append(String.format(
                    Locale.ROOT,
                    "| %d | %s | %.0f | %s | %.0f | %.0f | %d |%n",
                    run.round(),
                    r.target(),
                    r.achievedRate(),
                    run.hasCpu() ? String.format(Locale.ROOT, "%.2f", run.cpuMicrosPerOp()) : "",
                    r.micros(50),
                    r.micros(99),
                    r.errors() + r.unanswered()));
        }
        return s.toString();
    }

    private List<Run> runsOf(String target) {
        return runs.stream().filter(r -> r.result().target().equals(target)).toList();
    }

    private static <T> double median(List<T> of, ToDoubleFunction<T> value) {
        double[] v = of.stream().mapToDouble(value).sorted().toArray();
        int n = v.length;
        return n == 0 ? 0 : n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    }

    private static <T> String range(List<T> of, ToDoubleFunction<T> value, String format) {
        if (of.isEmpty()) {
            return "";
        }
        double[] v = of.stream().mapToDouble(value).sorted().toArray();
        return String.format(Locale.ROOT, format + " – " + format, v[0], v[v.length - 1]);
    }
}
