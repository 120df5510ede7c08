package io.jmagent.testing;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/** Shrinks a failing sequence for the fuzzers: drops elements one at a time while it still fails. */
public final class Shrink {

    private Shrink() {}

    /** The shortest sequence found by dropping elements of {@code sequence} while {@code fails} holds (never empty). */
    public static <T> List<T> minimal(List<T> sequence, Predicate<List<T>> fails) {
        List<T> current = new ArrayList<>(sequence);
        boolean progress = true;
        while (progress) {
            progress = false;
            for (int i = current.size() - 1; i >= 0; i--) {
                List<T> fewer = new ArrayList<>(current);
                fewer.remove(i);
                if (!fewer.isEmpty() && fails.test(fewer)) {
                    current = fewer;
                    progress = true;
                }
            }
        }
        return current;
    }
}
