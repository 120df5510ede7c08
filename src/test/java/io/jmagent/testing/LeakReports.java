package io.jmagent.testing;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A logback appender (see logback-test.xml) that keeps every leak report Netty's
 * ResourceLeakDetector logs, so {@link FailOnLeaks} can fail the build on one.
 */
public final class LeakReports extends AppenderBase<ILoggingEvent> {

    private static final List<String> REPORTS = new CopyOnWriteArrayList<>();

    @Override
    protected void append(ILoggingEvent event) {
        if (event.getLevel().isGreaterOrEqual(Level.ERROR)
                && event.getFormattedMessage().contains("LEAK:")) {
            REPORTS.add(event.getFormattedMessage());
        }
    }

    static List<String> drain() {
        List<String> copy = List.copyOf(REPORTS);
        REPORTS.clear();
        return copy;
    }
}
