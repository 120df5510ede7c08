package io.jmagent.loadgen;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The markdown a latency run ends with. Per rate, every target's percentiles with the rounds'
 * runs merged into one histogram, its p99 over the baseline's at the same rate, and for the
 * targets other than the baseline and the reference whether that added p99 stayed within the
 * reference's: over the merged runs, and round by round (a target and the reference measured
 * minutes apart agree less than two measured back to back).
 */
final class LatencyTable {

    /** One run of one round. */
    record Run(int round, String rate, RunResult result) {}

    private final List<Run> runs;
    private final String baseline;
    private final String reference;
    /** Per rate (in order), each target (in order) merged over the rounds. */
    private final Map<String, Map<String, RunResult>> merged = new LinkedHashMap<>();

    LatencyTable(List<Run> runs, List<String> targets, String baseline, String reference) {
        this.runs = runs;
        this.baseline = baseline;
        this.reference = reference;
        for (Run run : runs) {
            Map<String, RunResult> atRate = merged.computeIfAbsent(run.rate(), r -> {
                Map<String, RunResult> m = new LinkedHashMap<>();
                targets.forEach(t -> m.put(t, null));
                return m;
            });
            atRate.merge(run.result().target(), run.result(), (a, b) -> a == null ? b : a.plus(b));
        }
    }

    String summary() {
        StringBuilder s = new StringBuilder();
        s.append(
                        "| rate | target | offered ops/s | achieved ops/s | p50 µs | p99 µs | p99.9 µs | max µs | added p99 over ")
                .append(baseline)
                .append(" µs | ≤ ")
                .append(reference)
                .append("'s | rounds ≤ | p99 median of rounds µs | errors |\n");
        s.append("|---|---|---:|---:|---:|---:|---:|---:|---:|:-:|:-:|---:|---:|\n");
        merged.forEach((rate, targets) -> {
            RunResult base = targets.get(baseline);
            RunResult ref = targets.get(reference);
            targets.forEach((name, r) -> {
                if (r == null) {
                    return;
                }
                boolean compared = !name.equals(baseline) && !name.equals(reference) && base != null && ref != null;
                Double added = base == null || name.equals(baseline) ? null : r.micros(99) - base.micros(99);
                s.append(String.format(
                        Locale.ROOT,
                        "| %s | %s | %d | %.0f | %.0f | %.0f | %.0f | %.0f | %s | %s | %s | %.0f | %s |%n",
                        rate,
                        name,
                        r.offeredRate(),
                        r.achievedRate(),
                        r.micros(50),
                        r.micros(99),
                        r.micros(99.9),
                        r.maxMicros(),
                        added == null ? "" : String.format(Locale.ROOT, "%+.0f", added),
                        compared ? (r.micros(99) <= ref.micros(99) ? "yes" : "**no**") : "",
                        compared ? roundsWithin(rate, name) : "",
                        medianP99(rate, name),
                        errors(r)));
            });
        });
        return s.toString();
    }

    /**
     * In how many rounds {@code target}'s p99 was at most the reference's at {@code rate} (the same
     * as its added p99 being at most the reference's: the baseline's p99 is subtracted from both).
     */
    private String roundsWithin(String rate, String target) {
        Map<Integer, Double> referenceP99 = new LinkedHashMap<>();
        for (Run run : runs) {
            if (run.rate().equals(rate) && run.result().target().equals(reference)) {
                referenceP99.put(run.round(), run.result().micros(99));
            }
        }
        int within = 0;
        int rounds = 0;
        for (Run run : runs) {
            Double ref = referenceP99.get(run.round());
            if (run.rate().equals(rate) && run.result().target().equals(target) && ref != null) {
                rounds++;
                if (run.result().micros(99) <= ref) {
                    within++;
                }
            }
        }
        return within + "/" + rounds;
    }

    /** The median over the rounds of {@code target}'s p99 at {@code rate}: one stalled run moves it less than the merged p99. */
    private double medianP99(String rate, String target) {
        double[] p99 = runs.stream()
                .filter(run -> run.rate().equals(rate) && run.result().target().equals(target))
                .mapToDouble(run -> run.result().micros(99))
                .sorted()
                .toArray();
        int n = p99.length;
        return n == 0 ? 0 : n % 2 == 1 ? p99[n / 2] : (p99[n / 2 - 1] + p99[n / 2]) / 2;
    }

    /** Per rate, p99 of each target named "X+suffix" over X's: what the suffix (a backup farm) costs. */
    String pairs(String suffix) {
        List<String> rows = new ArrayList<>();
        merged.forEach((rate, targets) -> targets.forEach((name, with) -> {
            if (with == null || !name.endsWith(suffix)) {
                return;
            }
            RunResult without = targets.get(name.substring(0, name.length() - suffix.length()));
            if (without != null) {
                rows.add(String.format(
                        Locale.ROOT,
                        "| %s | %s | %.0f | %.0f | %+.0f | %.0f | %.0f | %+.0f |%n",
                        rate,
                        name,
                        without.micros(99),
                        with.micros(99),
                        with.micros(99) - without.micros(99),
                        without.micros(99.9),
                        with.micros(99.9),
                        with.micros(99.9) - without.micros(99.9)));
            }
        }));
        if (rows.isEmpty()) {
            return "";
        }
        return "| rate | target | p99 without µs | p99 with µs | difference | p99.9 without µs | p99.9 with µs | difference |\n"
                + "|---|---|---:|---:|---:|---:|---:|---:|\n" + String.join("", rows);
    }

    /** One line per run, in the order they ran. */
    String everyRun() {
        StringBuilder s = new StringBuilder(
                "| round | rate | target | offered ops/s | achieved ops/s | p50 µs | p99 µs | p99.9 µs | max µs |\n"
                        + "|---:|---|---|---:|---:|---:|---:|---:|---:|\n");
        for (Run run : runs) {
            RunResult r = run.result();
            s.append(String.format(
                    Locale.ROOT,
                    "| %d | %s | %s | %d | %.0f | %.0f | %.0f | %.0f | %.0f |%n",
                    run.round(),
                    run.rate(),
                    r.target(),
                    r.offeredRate(),
                    r.achievedRate(),
                    r.micros(50),
                    r.micros(99),
                    r.micros(99.9),
                    r.maxMicros()));
        }
        return s.toString();
    }

    private static String errors(RunResult r) {
        long e = r.errors() + r.unanswered();
        return e == 0 ? "0" : r.errors() + " errors, " + r.unanswered() + " unanswered";
    }
}
