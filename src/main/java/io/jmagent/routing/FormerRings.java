package io.jmagent.routing;

import io.jmagent.backend.ServerAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntConsumer;

/**
 * The server lists a farm had before the one in force, newest first, at most {@value #MAX}. A
 * ring change (a reload, a discovered server joining or leaving) moves some keys away from servers
 * that stay in the farm, and those servers keep the copies they held. Should a later change move
 * a key back, that copy would be read although newer writes went elsewhere. So every write of a
 * key marks its copy stale on each former owner still in the farm, and deletes it there
 * ({@link Router}); a key never written since it moved has its newest value in that copy.
 *
 * <p>Ring changes older than the last {@value #MAX} are forgotten: a key that moved away more
 * than {@value #MAX} changes ago, was written since, and moves back to that server, may read the
 * copy it left there (docs/discovery.md).
 */
public final class FormerRings {

    /** Former server lists remembered per farm. */
    public static final int MAX = 8;

    public static final FormerRings NONE = new FormerRings(List.of());

    private final List<List<ServerAddress>> lists;

    private FormerRings(List<List<ServerAddress>> lists) {
        this.lists = lists;
    }

    /**
     * The history once the farm moved from {@code before} to {@code after}: {@code before} becomes
     * the newest former list (unchanged when the two hold the same servers).
     */
    public FormerRings after(List<ServerAddress> before, List<ServerAddress> after) {
        if (before.isEmpty() || before.equals(after)) {
            return this;
        }
        List<List<ServerAddress>> next = new ArrayList<>(MAX);
        next.add(List.copyOf(before));
        for (List<ServerAddress> l : lists) {
            if (next.size() == MAX) {
                break;
            }
            next.add(l);
        }
        return new FormerRings(List.copyOf(next));
    }

    public int size() {
        return lists.size();
    }

    /** These rings, with their servers numbered as in {@code current} (the farm in force). */
    Owners against(List<ServerAddress> current) {
        Map<String, Integer> index = new HashMap<>();
        for (int i = 0; i < current.size(); i++) {
            index.put(endpoint(current.get(i)), i);
        }
        List<KetamaRing> rings = new ArrayList<>();
        List<int[]> toCurrent = new ArrayList<>();
        for (List<ServerAddress> l : lists) {
            int[] map = new int[l.size()];
            boolean any = false;
            for (int i = 0; i < l.size(); i++) {
                map[i] = index.getOrDefault(endpoint(l.get(i)), -1);
                any |= map[i] >= 0;
            }
            if (any) {
                rings.add(new KetamaRing(l));
                toCurrent.add(map);
            }
        }
        return new Owners(rings.toArray(KetamaRing[]::new), toCurrent.toArray(int[][]::new));
    }

    private static String endpoint(ServerAddress s) {
        return s.host() + ":" + s.port();
    }

    /** The former rings of one farm, bound to its servers in force. */
    static final class Owners {
        static final Owners NONE = new Owners(new KetamaRing[0], new int[0][]);

        private final KetamaRing[] rings;
        private final int[][] toCurrent;

        private Owners(KetamaRing[] rings, int[][] toCurrent) {
            this.rings = rings;
            this.toCurrent = toCurrent;
        }

        boolean isEmpty() {
            return rings.length == 0;
        }

        /**
         * Calls {@code each} once with every server in force (its index) that owned {@code hash} in
         * a former ring, other than {@code owner}, its owner now.
         */
        void forEach(long hash, int owner, IntConsumer each) {
            long seen = 0; // servers past 63 are never skipped as seen: at worst told twice
            for (int r = 0; r < rings.length; r++) {
                int s = toCurrent[r][rings[r].serverForHash(hash)];
                if (s < 0 || s == owner || (s < 64 && (seen & (1L << s)) != 0)) {
                    continue;
                }
                if (s < 64) {
                    seen |= 1L << s;
                }
                each.accept(s);
            }
        }
    }
}
