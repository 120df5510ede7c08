package io.jmagent.loadgen;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class OpenLoopScheduleTest {

    private static final long MS = 1_000_000L;

    @Test
    void requestsAreSpacedByOneOverTheRateFromTheStart() {
        OpenLoopSchedule schedule = new OpenLoopSchedule(5_000, 1000);

        assertThat(schedule.intendedStart(0)).isEqualTo(5_000);
        assertThat(schedule.intendedStart(1)).isEqualTo(5_000 + MS);
        assertThat(schedule.intendedStart(2500)).isEqualTo(5_000 + 2500 * MS);
    }

    @Test
    void aRateThatDoesNotDivideASecondSpreadsTheRemainderWithoutDrift() {
        OpenLoopSchedule schedule = new OpenLoopSchedule(0, 3);

        assertThat(schedule.intendedStart(1)).isEqualTo(333_333_333L);
        assertThat(schedule.intendedStart(2)).isEqualTo(666_666_666L);
        assertThat(schedule.intendedStart(3)).isEqualTo(1_000_000_000L);
        assertThat(schedule.intendedStart(3_000)).isEqualTo(1_000_000_000_000L);
    }

    @Test
    void aLateWakeUpFindsEveryRequestMeantToHaveStartedSinceDue() {
        OpenLoopSchedule schedule = new OpenLoopSchedule(0, 1000);

        // the pacer meant to wake at 0 ms wakes at 5.5 ms: requests 0 to 5 are due, 6 is not
        assertThat(schedule.dueBy(5 * MS + MS / 2)).isEqualTo(6);
        assertThat(schedule.dueBy(6 * MS - 1)).isEqualTo(6);
        assertThat(schedule.dueBy(6 * MS)).isEqualTo(7);
    }

    @Test
    void nothingIsDueBeforeTheStartAndTheFirstRequestIsDueAtIt() {
        OpenLoopSchedule schedule = new OpenLoopSchedule(100, 1000);

        assertThat(schedule.dueBy(99)).isZero();
        assertThat(schedule.dueBy(100)).isEqualTo(1);
    }

    @Test
    void dueByAndIntendedStartAgreeAtEveryBoundary() {
        OpenLoopSchedule schedule = new OpenLoopSchedule(7, 12_345);

        for (long n = 1; n < 50_000; n++) {
            long at = schedule.intendedStart(n);
            assertThat(schedule.dueBy(at)).as("due at request %d's start", n).isEqualTo(n + 1);
            assertThat(schedule.dueBy(at - 1))
                    .as("due just before request %d's start", n)
                    .isLessThanOrEqualTo(n);
        }
    }

    @Test
    void aRateBelowOneIsRefused() {
        assertThatThrownBy(() -> new OpenLoopSchedule(0, 0)).isInstanceOf(IllegalArgumentException.class);
    }
}
