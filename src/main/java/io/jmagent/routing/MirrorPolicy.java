package io.jmagent.routing;

import io.jmagent.protocol.ArithmeticRequest;
import io.jmagent.protocol.Request;
import io.jmagent.protocol.StoreRequest;

/**
 * How a write reaches a key's backup, one policy per kind of command, so that the backup never
 * holds a value the primary did not acknowledge and never loses the only good copy. Binary writes
 * become these same text commands; meta writes follow {@link MetaRoute}'s equivalent.
 *
 * <table>
 *   <caption>Mirror policies</caption>
 *   <tr><th>commands</th><th>policy</th></tr>
 *   <tr><td>set, delete, touch</td><td>{@link #SAME}</td></tr>
 *   <tr><td>incr, decr</td><td>{@link #COUNTER}</td></tr>
 *   <tr><td>add, replace, cas</td><td>{@link #SET_AFTER_STORED}</td></tr>
 *   <tr><td>append, prepend</td><td>{@link #COPY_AFTER_STORED}</td></tr>
 * </table>
 */
enum MirrorPolicy {
    /** The same command to both copies at once: its result does not depend on what a copy held. */
    SAME,
    /**
     * The same command to both at once; a backup whose result differs is rebuilt from the primary,
     * and a primary that lost the counter while the backup kept it is rebuilt from the backup,
     * whose number is the answer.
     */
    COUNTER,
    /** After the primary said STORED, a set of the same value (cas tokens differ per server). */
    SET_AFTER_STORED,
    /** After the primary said STORED, the backup gets the primary's resulting item ({@link Rebuild}). */
    COPY_AFTER_STORED;

    static MirrorPolicy of(Request r) {
        if (r instanceof StoreRequest s) {
            return switch (s.kind()) {
                case SET -> SAME;
                case ADD, REPLACE, CAS -> SET_AFTER_STORED;
                case APPEND, PREPEND -> COPY_AFTER_STORED;
            };
        }
        if (r instanceof ArithmeticRequest) {
            return COUNTER;
        }
        return SAME; // delete, touch
    }

    /** Whether the command goes to both copies at once (else to the backup after the primary answered). */
    boolean mirrorsAtOnce() {
        return this == SAME || this == COUNTER;
    }

    /** Whether its result ignores what the copy held: such a write may go to a copy that holds the key stale. */
    boolean blind() {
        return this == SAME;
    }
}
