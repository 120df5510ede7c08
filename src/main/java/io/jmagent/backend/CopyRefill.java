package io.jmagent.backend;

import java.util.function.Consumer;

/**
 * How cleaning gives a stale key its second copy back: the copy that missed writes is refilled
 * from the key's other copy (the routing layer knows where that is) instead of being deleted, so
 * that one more fault does not lose the key. {@link HealthChecker} asks for each stale key.
 */
public interface CopyRefill {

    /** What became of a request to refill a key. */
    enum Start {
        /** Under way: {@code done} will be told whether the copy is now as new as every write. */
        STARTED,
        /** Not now (a write of the key in flight, the other copy unreachable): the key stays stale. */
        LATER,
        /** There is no other copy to take it from: the stale copy is deleted, as without a refill. */
        NO_SOURCE
    }

    /** No second copy anywhere (no backup farm): stale keys are deleted. */
    CopyRefill NONE = (stale, key, done) -> Start.NO_SOURCE;

    /**
     * Starts refilling {@code key} on {@code stale} from its other copy. On {@link Start#STARTED},
     * {@code done} runs exactly once, on any thread, with true when the copy may be read again.
     */
    Start refill(ServerHealth stale, String key, Consumer<Boolean> done);
}
