package io.jmagent.routing;

import io.jmagent.backend.ServerAddress;
import io.netty.util.concurrent.FastThreadLocal;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.List;

/**
 * The ketama continuum exactly as libmemcached builds it with weighted ketama
 * (MEMCACHED_BEHAVIOR_KETAMA_WEIGHTED), which is also spymemcached's KetamaNodeLocator with the
 * LIBMEMCACHED key format: per server {@code floor(weight/total * 40 * servers) * 4} points (160
 * at equal weights), named {@code host:port-N} ({@code host-N} when the port is 11211), four
 * points from each MD5 digest, little-endian. A key hashes to the first 4 bytes of its MD5,
 * little-endian, and belongs to the first point at or after it, wrapping around.
 *
 * <p>Immutable and safe to share between threads.
 */
public final class KetamaRing {

    private static final int POINTS_PER_SERVER = 160;
    private static final int POINTS_PER_HASH = 4;

    private final long[] points;
    private final int[] owners;

    public KetamaRing(List<ServerAddress> servers) {
        if (servers.isEmpty()) {
            throw new IllegalArgumentException("a ring needs at least one server");
        }
        long totalWeight = 0;
        for (ServerAddress s : servers) {
            totalWeight += s.weight();
        }
        int capacity = 0;
        int[] perServer = new int[servers.size()];
        for (int i = 0; i < servers.size(); i++) {
            float percent = (float) servers.get(i).weight() / (float) totalWeight;
            perServer[i] = (int) (Math.floor(
                            percent * POINTS_PER_SERVER / POINTS_PER_HASH * (float) servers.size() + 0.0000000001))
                    * POINTS_PER_HASH;
            capacity += perServer[i];
        }
        long[] packed = new long[capacity];
        int n = 0;
        for (int i = 0; i < servers.size(); i++) {
            ServerAddress s = servers.get(i);
            String prefix = s.port() == ServerAddress.DEFAULT_PORT ? s.host() : s.host() + ":" + s.port();
            for (int h = 0; h < perServer[i] / POINTS_PER_HASH; h++) {
                byte[] d = md5((prefix + "-" + h).getBytes(StandardCharsets.UTF_8));
                for (int k = 0; k < POINTS_PER_HASH; k++) {
                    long point = littleEndian(d, k * 4);
                    // sort by point, then by server index, in one long
                    packed[n++] = (point << 20) | i;
                }
            }
        }
        Arrays.sort(packed, 0, n);
        // two servers on one point (rare): the later server keeps it, as in spymemcached's TreeMap
        long[] p = new long[n];
        int[] o = new int[n];
        int m = 0;
        for (int j = 0; j < n; j++) {
            long point = packed[j] >>> 20;
            if (m > 0 && p[m - 1] == point) {
                m--;
            }
            p[m] = point;
            o[m] = (int) (packed[j] & 0xFFFFF);
            m++;
        }
        points = Arrays.copyOf(p, m);
        owners = Arrays.copyOf(o, m);
    }

    /** Index (into the list the ring was built from) of the server that owns {@code key}. */
    public int serverFor(byte[] key) {
        return serverForHash(hash(key));
    }

    /**
     * The key's hash (first 4 bytes of its MD5, little-endian). A request asks for the same key's
     * placement on two or three rings in a row; the last key seen on this thread is remembered by
     * identity, so its MD5 is computed once.
     */
    public static long hash(byte[] key) {
        HashMemo memo = LAST_HASH.get();
        if (memo.key != key) {
            memo.hash = littleEndian(md5(key), 0);
            memo.key = key;
        }
        return memo.hash;
    }

    /** Index of the server owning {@code hash}: the first point at or after it, wrapping around. */
    public int serverForHash(long hash) {
        int lo = 0;
        int hi = points.length;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (points[mid] < hash) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return owners[lo == points.length ? 0 : lo];
    }

    public int pointCount() {
        return points.length;
    }

    private static long littleEndian(byte[] d, int offset) {
        return ((long) (d[offset + 3] & 0xFF) << 24)
                | ((long) (d[offset + 2] & 0xFF) << 16)
                | ((long) (d[offset + 1] & 0xFF) << 8)
                | (d[offset] & 0xFF);
    }

    private static final class HashMemo {
        private byte[] key;
        private long hash;
    }

    private static final FastThreadLocal<HashMemo> LAST_HASH = new FastThreadLocal<>() {
        @Override
        protected HashMemo initialValue() {
            return new HashMemo();
        }
    };

    private static final ThreadLocal<MessageDigest> MD5 = ThreadLocal.withInitial(() -> {
        try {
            return MessageDigest.getInstance("MD5");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("MD5 is required by every Java platform", e);
        }
    });

    private static byte[] md5(byte[] input) {
        MessageDigest md = MD5.get();
        md.reset();
        return md.digest(input);
    }
}
