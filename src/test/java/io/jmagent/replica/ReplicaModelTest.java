package io.jmagent.replica;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * The model test of the backup farm (issue 11): many seeded random schedules of client commands,
 * replies delivered in every order across connections, kills, restarts, freezes and probes, each
 * checked against the invariant ({@link InvariantChecker}). A failing seed is printed with its
 * schedule, shrunk. Seeds 0 to 3999 pass. Run alone: {@code mvn -q test -Dtest='ReplicaModel*'}; one seed:
 * {@code -Dmodel.seed=1234}; more seeds: {@code -Dmodel.seeds=5000} (600 by default, about 25 s); shrink and print
 * the first failures whose violation contains a text: {@code -Dmodel.shrinkAll=20 -Dmodel.match=vanished}.
 */
@Tag("model")
@Tag("explorer") // runs by default (600 seeds, a few seconds); -Dexcluded.groups=explorer skips it
class ReplicaModelTest {

    private static final int STEPS = Integer.getInteger("model.steps", 120);

    /** The servers' health changes are logged at INFO, thousands per run: quiet while the model runs. */
    @BeforeAll
    static void quietLogs() {
        ((Logger) LoggerFactory.getLogger("io.jmagent")).setLevel(Level.ERROR);
    }

    @AfterAll
    static void restoreLogs() {
        ((Logger) LoggerFactory.getLogger("io.jmagent")).setLevel(null);
    }

    @Test
    void noScheduleBreaksTheInvariant() {
        long only = Long.getLong("model.seed", -1L);
        int seeds = Integer.getInteger("model.seeds", 600);
        List<Explorer.Result> failures = new ArrayList<>();
        long misses = 0;
        long started = System.nanoTime();
        for (long seed = only >= 0 ? only : 0; seed < (only >= 0 ? only + 1 : seeds); seed++) {
            Explorer.Result r = Explorer.explore(seed, ModelConfig.forSeed(seed, STEPS));
            misses += r.missesAfterWrite();
            if (r.failed()) {
                failures.add(r);
            }
        }
        System.out.printf(
                "model: %d seeds in %d ms, %d failing, %d misses after a write%n",
                only >= 0 ? 1 : seeds, (System.nanoTime() - started) / 1_000_000, failures.size(), misses);
        Map<String, Explorer.Result> firstPerRule = new LinkedHashMap<>();
        for (Explorer.Result f : failures) {
            firstPerRule.putIfAbsent(Explorer.rule(f.violations().get(0)), f);
        }
        int shrinkAll = Integer.getInteger("model.shrinkAll", 0);
        String match = System.getProperty("model.match", "");
        for (Explorer.Result f : failures.stream()
                .filter(f -> f.violations().get(0).contains(match))
                .limit(shrinkAll)
                .toList()) {
            Explorer.Result small = Explorer.shrink(f, 300);
            System.out.println("seed " + f.seed() + " " + f.config() + " shrunk to "
                    + small.schedule().size() + " steps: " + small.violations().get(0));
            try (ModelRun names = new ModelRun(f.config())) {
                small.schedule().forEach(st -> System.out.println("    " + st.describe(names.farm)));
            }
        }
        for (Map.Entry<String, Explorer.Result> e : firstPerRule.entrySet()) {
            System.out.println(
                    "=== " + e.getKey() + ", first at seed " + e.getValue().seed() + ", shrunk:");
            System.out.println(Explorer.shrink(e.getValue(), 300).report());
        }
        assertThat(failures.stream()
                        .map(f -> f.seed() + ": " + f.violations().get(0))
                        .limit(10)
                        .toList())
                .as("seeds that break the invariant (%d, the first 10 here)", failures.size())
                .isEmpty();
    }
}
