package io.jmagent.replica;

import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * The write epoch of every key, kept so that a copy read from a backup is served, and written back,
 * only if no write to its key started or finished since the read started, and none is in flight.
 *
 * <p>Keys are hashed into a fixed number of slots (bounded memory, whatever the number of keys):
 * each slot has a version, bumped when a write of one of its keys starts and again when it has
 * settled (its primary answered, its mirror landed or failed and marked the key stale, its
 * follow-ups finished), and the number of its writes in flight. A reader takes the version when
 * its read starts ({@link #stamp}) and asks {@link #unchangedSince} when the copy arrives. Two keys
 * sharing a slot make each other's backup reads miss now and then: a miss, never an old value.
 *
 * <p>Beside it, each slot has an order epoch that only changes whose result depends on the order
 * they reach a copy bump: every write but an increment sent to both copies at once, and every copy
 * of an item from one server to the other. Increments of a counter commute: two copies that
 * started alike and took the same increments, in whatever order, hold the same number, provided
 * none of them met a change of the other kind meanwhile ({@link #noOrderedChangeSince}).
 *
 * <p>Shared by every event loop (atomics, no locks), and kept across configuration reloads: it
 * knows keys, not servers.
 */
public final class KeyVersions {

    /** 2^16 slots: 768 KiB, and one write in 65,536 keys collides with an unrelated read. */
    public static final int DEFAULT_SLOTS = 1 << 16;

    private final int mask;
    private final AtomicLongArray versions;
    private final AtomicIntegerArray inFlight;
    private final AtomicLongArray ordered;
    private final AtomicIntegerArray orderedInFlight;

    public KeyVersions() {
        this(DEFAULT_SLOTS);
    }

    /** {@code slots}: a power of two. */
    public KeyVersions(int slots) {
        if (slots <= 0 || Integer.bitCount(slots) != 1) {
            throw new IllegalArgumentException("slots must be a power of two: " + slots);
        }
        this.mask = slots - 1;
        this.versions = new AtomicLongArray(slots);
        this.inFlight = new AtomicIntegerArray(slots);
        this.ordered = new AtomicLongArray(slots);
        this.orderedInFlight = new AtomicIntegerArray(slots);
    }

    /** The slot of {@code key} (FNV-1a over its bytes, then mixed). */
    public int slotOf(byte[] key) {
        int h = 0x811c9dc5;
        for (byte b : key) {
            h = (h ^ (b & 0xff)) * 0x01000193;
        }
        h ^= h >>> 16;
        return h & mask;
    }

    /**
     * A write of a key in {@code slot} is about to be sent: until {@link #writeSettled}, its backup
     * copy is not trusted. {@code commutes}: an increment sent to both copies at once, which any
     * other such increment may overtake on either copy with the same result.
     */
    public void writeStarted(int slot, boolean commutes) {
        inFlight.incrementAndGet(slot);
        versions.incrementAndGet(slot);
        if (!commutes) {
            orderedStarted(slot);
        }
    }

    /** A write {@link #writeStarted} announced has settled: every copy it was going to change answered or was marked stale. */
    public void writeSettled(int slot, boolean commutes) {
        versions.incrementAndGet(slot);
        int left = inFlight.decrementAndGet(slot);
        assert left >= 0 : "more writes settled than started in slot " + slot;
        if (!commutes) {
            orderedSettled(slot);
        }
    }

    /**
     * A change of a key in {@code slot} whose result depends on the order it reaches a copy is
     * about to be sent (a write, or an item copied from one server to the other).
     */
    public void orderedStarted(int slot) {
        orderedInFlight.incrementAndGet(slot);
        ordered.incrementAndGet(slot);
    }

    /** A change {@link #orderedStarted} announced has landed or failed. */
    public void orderedSettled(int slot) {
        ordered.incrementAndGet(slot);
        int left = orderedInFlight.decrementAndGet(slot);
        assert left >= 0 : "more ordered changes settled than started in slot " + slot;
    }

    /** The order epoch of {@code slot} now: taken when an increment starts, for {@link #noOrderedChangeSince}. */
    public long orderStamp(int slot) {
        return ordered.get(slot);
    }

    /**
     * Whether no change of a key in {@code slot} but increments sent to both copies started,
     * settled or was in flight since {@code orderStamp} was taken: increments sent meanwhile
     * reached both copies in whatever order with the same result.
     */
    public boolean noOrderedChangeSince(int slot, long orderStamp) {
        return orderedInFlight.get(slot) == 0 && ordered.get(slot) == orderStamp;
    }

    /** The version of {@code slot} now: taken when a read starts, for {@link #unchangedSince}. */
    public long stamp(int slot) {
        return versions.get(slot);
    }

    /** Writes of keys in {@code slot} in flight now. */
    public int inFlight(int slot) {
        return inFlight.get(slot);
    }

    /**
     * Whether no write of a key in {@code slot} started or settled since {@code stamp} was taken,
     * and none is in flight: a copy read meanwhile is as new as any acknowledged write.
     */
    public boolean unchangedSince(int slot, long stamp) {
        return inFlight.get(slot) == 0 && versions.get(slot) == stamp;
    }
}
