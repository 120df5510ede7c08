package io.jmagent.loadgen;

import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;

/**
 * The requests a run draws from: a get or a set (in the proportion {@code getShare}) of a key
 * picked uniformly from {@code keys}, values of {@code valueBytes}. Every request is encoded once,
 * up front, so sending one is a copy of bytes. Immutable; shared by every connection.
 */
final class Workload {

    private final byte[][] gets;
    private final byte[][] sets;
    private final double getShare;

    Workload(int keys, int valueBytes, double getShare) {
        if (keys <= 0 || valueBytes < 0 || getShare < 0 || getShare > 1) {
            throw new IllegalArgumentException(
                    "keys " + keys + ", value bytes " + valueBytes + ", get share " + getShare);
        }
        this.getShare = getShare;
        gets = new byte[keys][];
        sets = new byte[keys][];
        byte[] value = new byte[valueBytes];
        SplittableRandom random = new SplittableRandom(17);
        for (int i = 0; i < valueBytes; i++) {
            value[i] = (byte) ('a' + random.nextInt(26));
        }
        for (int k = 0; k < keys; k++) {
            String key = String.format("jmagent:loadgen:%08d", k);
            gets[k] = ("get " + key + "\r\n").getBytes(StandardCharsets.US_ASCII);
            byte[] head = ("set " + key + " 0 0 " + valueBytes + "\r\n").getBytes(StandardCharsets.US_ASCII);
            byte[] set = new byte[head.length + valueBytes + 2];
            System.arraycopy(head, 0, set, 0, head.length);
            System.arraycopy(value, 0, set, head.length, valueBytes);
            set[set.length - 2] = '\r';
            set[set.length - 1] = '\n';
            sets[k] = set;
        }
    }

    byte[] next(SplittableRandom random) {
        int key = random.nextInt(gets.length);
        return random.nextDouble() < getShare ? gets[key] : sets[key];
    }

    int keys() {
        return gets.length;
    }

    /** The set of key number {@code key}: what fills the key space before a run. */
    byte[] set(int key) {
        return sets[key];
    }
}
