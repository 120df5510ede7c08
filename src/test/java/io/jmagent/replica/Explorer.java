package io.jmagent.replica;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Runs the model: from a seed, a random schedule ({@link Scheduler}) driven through a fresh
 * {@link ModelRun}, then checked ({@link InvariantChecker}); or a given schedule replayed exactly.
 * A failing schedule is shrunk by dropping chunks of steps while it still fails.
 */
final class Explorer {

    /** What one run found. */
    record Result(
            long seed,
            ModelConfig config,
            List<Step> schedule,
            List<String> violations,
            int missesAfterWrite,
            String history) {

        boolean failed() {
            return !violations.isEmpty();
        }

        String report() {
            StringBuilder sb = new StringBuilder();
            sb.append("seed ").append(seed).append(' ').append(config).append('\n');
            violations.forEach(v -> sb.append("  VIOLATION ").append(v).append('\n'));
            sb.append("  schedule (").append(schedule.size()).append(" steps):\n");
            try (ModelRun names = new ModelRun(config)) {
                for (Step s : schedule) {
                    sb.append("    ").append(s.describe(names.farm)).append('\n');
                }
            }
            sb.append("  as code: List.of(");
            for (int i = 0; i < schedule.size(); i++) {
                sb.append(i == 0 ? "" : ", ").append(schedule.get(i).source());
            }
            sb.append(")\n  history:\n").append(history);
            return sb.toString();
        }
    }

    private Explorer() {}

    /** A random run of {@code config.steps()} steps from {@code seed}. */
    static Result explore(long seed, ModelConfig config) {
        List<Step> schedule = new ArrayList<>();
        try (ModelRun run = new ModelRun(config)) {
            Scheduler scheduler = new Scheduler(run, new Random(seed));
            try {
                for (int i = 0; i < config.steps(); i++) {
                    Step step = scheduler.next();
                    schedule.add(step);
                    run.apply(step);
                }
                run.finish();
            } catch (ModelRun.ModelCrash e) {
                // recorded in run.crashes
            }
            return check(seed, config, schedule, run);
        }
    }

    /** Replays {@code schedule} exactly (steps that do not apply are skipped). */
    static Result replay(long seed, ModelConfig config, List<Step> schedule) {
        try (ModelRun run = new ModelRun(config)) {
            try {
                for (Step step : schedule) {
                    run.apply(step);
                }
                run.finish();
            } catch (ModelRun.ModelCrash e) {
                // recorded in run.crashes
            }
            return check(seed, config, schedule, run);
        }
    }

    private static Result check(long seed, ModelConfig config, List<Step> schedule, ModelRun run) {
        InvariantChecker checker = new InvariantChecker(run);
        List<String> violations = checker.check();
        StringBuilder history = new StringBuilder();
        if (!violations.isEmpty()) {
            run.ops.forEach(op -> history.append("    ").append(op).append('\n'));
        }
        return new Result(
                seed, config, List.copyOf(schedule), violations, checker.missesAfterWrite, history.toString());
    }

    /**
     * Drops chunks of steps (halves, quarters, ... single steps) while the run still fails with a
     * violation of the same rule; at most {@code budget} replays.
     */
    static Result shrink(Result failing, int budget) {
        Result best = failing;
        String rule = rule(failing.violations().get(0));
        int chunk = Math.max(1, best.schedule().size() / 2);
        while (budget > 0) {
            boolean progress = false;
            for (int from = 0; from < best.schedule().size() && budget > 0; ) {
                List<Step> shorter = new ArrayList<>(best.schedule());
                shorter.subList(from, Math.min(shorter.size(), from + chunk)).clear();
                budget--;
                Result r = replay(best.seed(), best.config(), shorter);
                if (r.failed() && rule(r.violations().get(0)).equals(rule)) {
                    best = r;
                    progress = true;
                } else {
                    from += chunk;
                }
            }
            if (chunk == 1 && !progress) {
                break;
            }
            chunk = Math.max(1, chunk / 2);
        }
        return best;
    }

    /** The kind of a violation (its first words), to keep shrinking on the same finding. */
    static String rule(String violation) {
        if (violation.startsWith("read ")) {
            return "older read";
        }
        int colon = violation.indexOf(':');
        String head = colon > 0 ? violation.substring(0, colon) : violation;
        return head.replaceAll("[A-Z]\\d", "S").replaceAll("=\\S+", "");
    }
}
