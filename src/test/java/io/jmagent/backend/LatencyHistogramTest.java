package io.jmagent.backend;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class LatencyHistogramTest {

    private static final long T0 = 1_000_000_000L;
    private static final long WINDOW = TimeUnit.SECONDS.toNanos(LatencyHistogram.WINDOW_SECONDS);

    @Test
    void smallLatenciesAreExactAndLargeOnesAtMostASixteenthHigh() {
        for (long v = 0; v < 32; v++) {
            assertThat(LatencyHistogram.highestIn(LatencyHistogram.bucketOf(v))).isEqualTo(v);
        }
        for (long v = 32; v < 5_000_000; v += 997) {
            long reported = LatencyHistogram.highestIn(LatencyHistogram.bucketOf(v));
            assertThat(reported).isGreaterThanOrEqualTo(v).isLessThanOrEqualTo(v + v / 16);
        }
        assertThat(LatencyHistogram.bucketOf(32)).isEqualTo(32);
        assertThat(LatencyHistogram.highestIn(32)).isEqualTo(33);
        assertThat(LatencyHistogram.highestIn(LatencyHistogram.bucketOf(1000))).isEqualTo(1023);
    }

    @Test
    void percentilesAreTheTopsOfTheBucketsTheyFallIn() {
        LatencyHistogram h = new LatencyHistogram(T0);
        for (int i = 1; i <= 98; i++) {
            h.record(10, T0);
        }
        h.record(1000, T0);
        h.record(100_000, T0);

        assertThat(h.percentile(0.5, T0)).isEqualTo(10);
        assertThat(h.percentile(0.98, T0)).isEqualTo(10);
        assertThat(h.percentile(0.99, T0)).isEqualTo(1023);
        assertThat(h.percentile(1.0, T0)).isEqualTo(LatencyHistogram.highestIn(LatencyHistogram.bucketOf(100_000)));
    }

    @Test
    void nothingRecordedIsZeroAndHugeValuesAreCapped() {
        LatencyHistogram h = new LatencyHistogram(T0);
        assertThat(h.percentile(0.99, T0)).isZero();
        h.record(Long.MAX_VALUE, T0);
        assertThat(h.percentile(0.99, T0)).isEqualTo(LatencyHistogram.MAX_MICROS);
    }

    @Test
    void percentilesForgetWhatIsOlderThanTheWindowBefore() {
        LatencyHistogram h = new LatencyHistogram(T0);
        h.record(5000, T0);
        h.record(10, T0 + WINDOW + 1);

        assertThat(h.percentile(1.0, T0 + WINDOW + 1))
                .as("the previous window still counts")
                .isEqualTo(5119);
        assertThat(h.percentile(1.0, T0 + 2 * WINDOW + 1)).as("two windows on").isEqualTo(10);
        assertThat(h.percentile(1.0, T0 + 10 * WINDOW))
                .as("after a long silence")
                .isZero();
    }
}
