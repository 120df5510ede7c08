package io.jmagent.testing;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import org.junit.jupiter.api.Test;

/** The leak check that guards every test class must itself be able to fail. */
class FailOnLeaksTest {

    @Test
    void aBufferCollectedWithoutReleaseIsReported() throws InterruptedException {
        assertThat(ResourceLeakDetector.getLevel()).isEqualTo(ResourceLeakDetector.Level.PARANOID);
        leakOne();
        boolean reported = false;
        for (int i = 0; i < 20 && !reported; i++) {
            System.gc();
            Thread.sleep(20);
            PooledByteBufAllocator.DEFAULT.buffer(8).release();
            reported = !LeakReports.drain().isEmpty();
        }
        assertThat(reported).as("Netty reported the deliberately leaked buffer").isTrue();
    }

    private static void leakOne() {
        ByteBuf leaked = PooledByteBufAllocator.DEFAULT.buffer(64);
        leaked.writeLong(42);
    }
}
