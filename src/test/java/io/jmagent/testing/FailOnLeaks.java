package io.jmagent.testing;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import java.util.List;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Registered for every test class (META-INF/services, autodetection on): after a class has run,
 * collects garbage, lets Netty's leak detector (paranoid in tests) look at what was collected,
 * and fails the class if any ByteBuf was garbage-collected without being released.
 */
public final class FailOnLeaks implements AfterAllCallback {

    @Override
    public void afterAll(ExtensionContext context) throws InterruptedException {
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(50);
            // the detector reports collected leaks when it tracks a new buffer
            for (int j = 0; j < 16; j++) {
                ByteBuf b = PooledByteBufAllocator.DEFAULT.buffer(8);
                b.release();
            }
        }
        List<String> reports = LeakReports.drain();
        if (!reports.isEmpty()) {
            throw new AssertionError(reports.size() + " ByteBuf leak(s) reported by Netty after "
                    + context.getDisplayName() + ":\n" + String.join("\n\n", reports));
        }
    }
}
