package io.jmagent.loadgen;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class LatencyTableTest {

    private static final long US = 1_000L;

    @Test
    void addedP99IsOverTheBaselineOfTheSameRateAndTheRoundsCountWhereTheTargetStayedWithinTheReference() {
        // given two rounds at one rate: the proxy beats twemproxy in round 1 only, and by less overall
        List<LatencyTable.Run> runs = List.of(
                run(1, "direct", 100),
                run(1, "twemproxy", 900),
                run(1, "proxy", 500),
                run(2, "direct", 100),
                run(2, "twemproxy", 300),
                run(2, "proxy", 400));

        String summary =
                new LatencyTable(runs, List.of("direct", "twemproxy", "proxy"), "direct", "twemproxy").summary();

        // merged: p99 of {500, 400} is 500 µs, twemproxy's of {900, 300} is 900 µs, direct's 100 µs;
        // the medians of the rounds' p99s: 450, 600 and 100 µs
        assertThat(summary.lines())
                .containsExactly(
                        "| rate | target | offered ops/s | achieved ops/s | p50 µs | p99 µs | p99.9 µs | max µs"
                                + " | added p99 over direct µs | ≤ twemproxy's | rounds ≤ | p99 median of rounds µs | errors |",
                        "|---|---|---:|---:|---:|---:|---:|---:|---:|:-:|:-:|---:|---:|",
                        "| 50 % | direct | 1000 | 1 | 100 | 100 | 100 | 100 |  |  |  | 100 | 0 |",
                        "| 50 % | twemproxy | 1000 | 1 | 300 | 900 | 900 | 900 | +800 |  |  | 600 | 0 |",
                        "| 50 % | proxy | 1000 | 1 | 400 | 500 | 500 | 500 | +400 | yes | 1/2 | 450 | 0 |");
    }

    /** A run of one request answered after {@code micros}, inside a one-second window. */
    private static LatencyTable.Run run(int round, String target, long micros) {
        RunRecorder recorder = new RunRecorder(0, 1_000_000 * US);
        recorder.answered(0, micros * US, Reply.HIT);
        return new LatencyTable.Run(round, "50 %", recorder.result(target, 1000));
    }
}
