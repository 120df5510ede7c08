package io.jmagent.replica;

import java.util.Collections;
import java.util.HashMap;
import java.util.Map;

/**
 * One client session's writes in flight, per slot of {@link KeyVersions}, which the session
 * starts and settles through here. A session sends everything for a server on one connection,
 * in order; two facts follow, and the backup rules rest on them:
 *
 * <ul>
 * <li>A write whose every change to the backup is already queued on that connection
 * ({@link #queued}) cannot make the copy a later read of the session finds there old. A backup
 * read is sent only if every write of its key in flight is such a write ({@link #mayReadBackup}):
 * a client that pipelines a write and a read of one key reads its own write while its primary is
 * down, and a write of another session, or one whose backup change is still to come (a mirror
 * sent once its primary answered, a copy rebuilt), turns the read into a miss.</li>
 * <li>A mirror sent together with its write reaches the backup in the same order, relative to
 * the session's other writes, as the write reached the primary. Only writes of other sessions can
 * overtake it there ({@link #onlyOwnWritesSince}).</li>
 * </ul>
 *
 * <p>Confined to the session's event loop. Holds an entry per slot with writes in flight only.
 */
public final class SessionWrites {

    /** A slot's writes of this session in flight. */
    private static final class Entry {
        int inFlight;
        int queued;
        /** Writes of the slot started while the entry lives. */
        long started;
        /** Changes sent to the backup while the entry lives, but for late mirrors and copies ({@link #sentToBackup}). */
        long backupSends;
        /** Writes of the slot started plus settled, as {@link KeyVersions} counts them, while the entry lives. */
        long events;
    }

    /** Empty and shared until the session's first write (most sessions of a pool sit idle), then its own. */
    private Map<Integer, Entry> slots = Collections.emptyMap();

    /**
     * Starts a write of a key in {@code slot}, in {@code versions} and here. Returns the session's
     * own count for {@link #onlyOwnWritesSince} (read {@code versions.stamp(slot)} right after).
     */
    public long writeStarted(KeyVersions versions, int slot) {
        return writeStarted(versions, slot, false);
    }

    /** {@link #writeStarted(KeyVersions, int)}; {@code commutes}: see {@link KeyVersions#writeStarted}. */
    public long writeStarted(KeyVersions versions, int slot, boolean commutes) {
        if (!(slots instanceof HashMap)) {
            slots = new HashMap<>();
        }
        Entry e = slots.computeIfAbsent(slot, s -> new Entry());
        e.inFlight++;
        e.events++;
        e.started++;
        versions.writeStarted(slot, commutes);
        return e.events;
    }

    /**
     * Writes of {@code slot} this session started while one of them is in flight (the caller's):
     * each sends its request to the primary as it starts, so one started after a copy was decided
     * may reach the primary before that copy does.
     */
    public long started(int slot) {
        Entry e = slots.get(slot);
        return e == null ? 0 : e.started;
    }

    /**
     * A write of {@code slot} sends a change to the backup that is not a late one: a mirror sent
     * with its write, or the write itself, to the backup alone. A late change (a mirror sent once
     * the primary answered, a copy read from one server and stored on the other) does not call this.
     */
    public void sentToBackup(int slot) {
        slots.get(slot).backupSends++;
    }

    /**
     * {@link #sentToBackup} calls for {@code slot} while one of the session's writes is in flight
     * (the caller's). Between the moment a late change is decided (the primary answered, the source
     * was read) and the moment it lands, a change of the session sent to the backup in between may
     * have overtaken it there while it reached the primary after. A late change of the session
     * cannot: it is decided after this one, and sent after it.
     */
    public long backupSends(int slot) {
        Entry e = slots.get(slot);
        return e == null ? 0 : e.backupSends;
    }

    /** A write of {@code slot} has queued its last change to the backup on this session's connection. */
    public void queued(int slot) {
        slots.get(slot).queued++;
    }

    /** A write {@link #writeStarted} started has settled; {@code wasQueued}: it had called {@link #queued}. */
    public void writeSettled(KeyVersions versions, int slot, boolean wasQueued) {
        writeSettled(versions, slot, wasQueued, false);
    }

    /** {@link #writeSettled(KeyVersions, int, boolean)} of a write started with {@code commutes}. */
    public void writeSettled(KeyVersions versions, int slot, boolean wasQueued, boolean commutes) {
        Entry e = slots.get(slot);
        versions.writeSettled(slot, commutes);
        e.events++;
        e.inFlight--;
        if (wasQueued) {
            e.queued--;
        }
        if (e.inFlight == 0) {
            slots.remove(slot);
        }
    }

    /**
     * Whether every write of a key in {@code slot} in flight now is this session's: a write sent
     * now on this session's backup connection reaches the backup after the changes they sent with
     * their requests (not after a change still to come).
     */
    public boolean onlyOwnInFlight(KeyVersions versions, int slot) {
        return allInFlightAreOwn(versions, slot, false);
    }

    /**
     * Whether a read of a key in {@code slot}, sent now on this session's backup connection, is
     * answered after every write of the key in flight: all of them are this session's, queued.
     */
    public boolean mayReadBackup(KeyVersions versions, int slot) {
        return allInFlightAreOwn(versions, slot, true);
    }

    /** Whether every write of {@code slot} in flight is this session's ({@code queuedOnly}: and queued). */
    private boolean allInFlightAreOwn(KeyVersions versions, int slot, boolean queuedOnly) {
        int inFlight = versions.inFlight(slot);
        if (inFlight == 0) {
            return true;
        }
        Entry e = slots.get(slot);
        return e != null && (queuedOnly ? e.queued : e.inFlight) == inFlight;
    }

    /**
     * Whether every write of {@code slot} that started, settled or is in flight since one of this
     * session's writes started ({@code stamp} and {@code ownStamp} taken then) is this session's:
     * none of another session could have overtaken its mirror on the way to the backup. The
     * session's own writes reach each server in the order they were sent there.
     */
    public boolean onlyOwnWritesSince(KeyVersions versions, int slot, long stamp, long ownStamp) {
        Entry e = slots.get(slot);
        long inFlight = e == null ? 0 : e.inFlight;
        long events = e == null ? 0 : e.events;
        // an entry dropped and made again meanwhile counts fewer events than the slot: never equal
        return versions.inFlight(slot) == inFlight && versions.stamp(slot) - stamp == events - ownStamp;
    }

    /** The session's own count for {@code slot} now, for {@link #onlyOwnWritesSince} (0 with none in flight). */
    public long events(int slot) {
        Entry e = slots.get(slot);
        return e == null ? 0 : e.events;
    }
}
