package io.jmagent.loadgen;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ProcessCpuTest {

    @Test
    void cpuTimeIsUserPlusSystemTicks() {
        // given a stat line whose command name holds a space and a parenthesis, utime 1234, stime 56
        String line = "4242 (java (x) y) S 1 4242 4242 0 -1 4194560 9000 0 0 0 1234 56 0 0 20 0 19 0 100 0 0\n";

        assertThat(ProcessCpu.ticks(line)).isEqualTo(1290);
    }

    @Test
    void thisProcessHasUsedSomeCpu() throws Exception {
        assertThat(new ProcessCpu(ProcessHandle.current().pid(), 100).nanos()).isPositive();
    }
}
