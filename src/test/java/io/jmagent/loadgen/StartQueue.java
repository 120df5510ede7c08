package io.jmagent.loadgen;

import java.util.Arrays;

/**
 * Intended start times, oldest first: of a connection's requests in flight (memcached answers a
 * connection's requests in order, so the next reply belongs to the oldest), or of those waiting
 * in the generator for room on the connection. A growable ring of longs: no object per request.
 * Owned by the connection's event loop.
 */
final class StartQueue {

    private long[] starts = new long[64];
    private int head;
    private int size;

    void add(long intendedStartNanos) {
        if (size == starts.length) {
            long[] grown = new long[starts.length * 2];
            for (int i = 0; i < size; i++) {
                grown[i] = starts[(head + i) % starts.length];
            }
            starts = grown;
            head = 0;
        }
        starts[(head + size) % starts.length] = intendedStartNanos;
        size++;
    }

    long removeOldest() {
        if (size == 0) {
            throw new IllegalStateException("empty");
        }
        long oldest = starts[head];
        head = (head + 1) % starts.length;
        size--;
        return oldest;
    }

    boolean isEmpty() {
        return size == 0;
    }

    int size() {
        return size;
    }

    /** Every start in the queue, oldest first; empties it. */
    long[] drain() {
        long[] all = new long[size];
        for (int i = 0; i < size; i++) {
            all[i] = starts[(head + i) % starts.length];
        }
        Arrays.fill(starts, 0);
        head = 0;
        size = 0;
        return all;
    }
}
