package io.jmagent.metrics;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/** The proxy's own counters, shared by every event loop (lock-free adders). */
public final class ProxyStats {

    private final long startMillis = System.currentTimeMillis();
    private final AtomicLong currConnections = new AtomicLong();
    private final LongAdder totalConnections = new LongAdder();
    private final LongAdder rejectedConnections = new LongAdder();
    private final LongAdder backupReads = new LongAdder();
    private final LongAdder writeBacks = new LongAdder();
    private final LongAdder mirrorFailures = new LongAdder();
    private final LongAdder backupDeletes = new LongAdder();
    private final LongAdder primaryFailovers = new LongAdder();
    private final LongAdder requestsInFlight = new LongAdder();
    private final LongAdder bytesRead = new LongAdder();
    private final LongAdder bytesWritten = new LongAdder();
    private final LongAdder idleKicks = new LongAdder();
    private final LongAdder ringChanges = new LongAdder();
    private final LongAdder discoveryLookups = new LongAdder();
    private final LongAdder discoveryFailures = new LongAdder();
    private final LongAdder formerCopyDeletes = new LongAdder();
    private final LongAdder sslHandshakeErrors = new LongAdder();
    private final LongAdder authCmds = new LongAdder();
    private final LongAdder authErrors = new LongAdder();
    private final CommandStats commands = new CommandStats();

    /** memcached's command counters: cmd_get, get_hits, ... */
    public CommandStats commands() {
        return commands;
    }

    /** A client request went to the servers; {@link #requestAnswered()} follows when it is answered. */
    public void requestRouted() {
        requestsInFlight.increment();
    }

    public void requestAnswered() {
        requestsInFlight.decrement();
    }

    /** Client requests sent on to the servers and not answered yet (noreply ones included). */
    public long requestsInFlight() {
        return requestsInFlight.sum();
    }

    public void bytesRead(int n) {
        bytesRead.add(n);
    }

    public void bytesWritten(int n) {
        bytesWritten.add(n);
    }

    public long bytesRead() {
        return bytesRead.sum();
    }

    public long bytesWritten() {
        return bytesWritten.sum();
    }

    /** A client closed for having been idle longer than {@code --idle-timeout}. */
    /** A reload or discovery changed the servers or backups. */
    public void ringChanged() {
        ringChanges.increment();
    }

    public long ringChanges() {
        return ringChanges.sum();
    }

    /** A discovery source answered. */
    public void discoveryLookup() {
        discoveryLookups.increment();
    }

    public long discoveryLookups() {
        return discoveryLookups.sum();
    }

    /** A discovery source failed (its last good list stays). */
    public void discoveryFailure() {
        discoveryFailures.increment();
    }

    public long discoveryFailures() {
        return discoveryFailures.sum();
    }

    /** A write's key is deleted on a server that owned it in a former ring (FormerRings). */
    public void formerCopyDelete() {
        formerCopyDeletes.increment();
    }

    public long formerCopyDeletes() {
        return formerCopyDeletes.sum();
    }

    public void idleKick() {
        idleKicks.increment();
    }

    public long idleKicks() {
        return idleKicks.sum();
    }

    /** A TLS client whose handshake failed (bad certificate, protocol, timeout): memcached's ssl_handshake_errors. */
    public void sslHandshakeError() {
        sslHandshakeErrors.increment();
    }

    public long sslHandshakeErrors() {
        return sslHandshakeErrors.sum();
    }

    /** An authentication attempt (memcached's auth_cmds); {@link #authError()} too when it failed. */
    public void authCmd() {
        authCmds.increment();
    }

    public void authError() {
        authErrors.increment();
    }

    public long authCmds() {
        return authCmds.sum();
    }

    public long authErrors() {
        return authErrors.sum();
    }

    /** Counts a new client; returns false (and counts a rejection) when it would pass {@code max}. */
    public boolean tryOpenConnection(int max) {
        long now = currConnections.incrementAndGet();
        if (now > max) {
            currConnections.decrementAndGet();
            rejectedConnections.increment();
            return false;
        }
        totalConnections.increment();
        return true;
    }

    public void connectionClosed() {
        currConnections.decrementAndGet();
    }

    public long currConnections() {
        return currConnections.get();
    }

    public long totalConnections() {
        return totalConnections.sum();
    }

    public long rejectedConnections() {
        return rejectedConnections.sum();
    }

    /** A key answered from the backup farm (primary down, failed, or missing it). */
    public void backupRead() {
        backupReads.increment();
    }

    /** A backup hit written back to its primary with add. */
    public void writeBack() {
        writeBacks.increment();
    }

    /** A write the backup should have mirrored and did not (its key is remembered as stale there). */
    public void mirrorFailure() {
        mirrorFailures.increment();
    }

    /** A key deleted on the backup because the write could not be mirrored exactly. */
    public void backupDelete() {
        backupDeletes.increment();
    }

    /** A request its primary could not serve, answered by the backup instead. */
    public void primaryFailover() {
        primaryFailovers.increment();
    }

    public long backupReads() {
        return backupReads.sum();
    }

    public long writeBacks() {
        return writeBacks.sum();
    }

    public long mirrorFailures() {
        return mirrorFailures.sum();
    }

    public long backupDeletes() {
        return backupDeletes.sum();
    }

    public long primaryFailovers() {
        return primaryFailovers.sum();
    }

    public long uptimeSeconds() {
        return (System.currentTimeMillis() - startMillis) / 1000;
    }
}
