package io.jmagent.routing;

import static org.assertj.core.api.Assertions.assertThat;

import io.jmagent.backend.ServerAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class FormerRingsTest {

    private static final ServerAddress A = new ServerAddress("10.0.0.1", 11211, 1);
    private static final ServerAddress B = new ServerAddress("10.0.0.2", 11211, 1);
    private static final ServerAddress C = new ServerAddress("10.0.0.3", 11211, 1);

    @Test
    void aKeyThatMovedToAJoiningServerNamesItsFormerOwnerAndNoOther() {
        List<ServerAddress> before = List.of(A, B);
        List<ServerAddress> now = List.of(A, B, C);
        FormerRings.Owners owners = FormerRings.NONE.after(before, now).against(now);
        KetamaRing old = new KetamaRing(before);
        KetamaRing ring = new KetamaRing(now);
        int moved = 0;
        for (int i = 0; i < 1000; i++) {
            long h = KetamaRing.hash(("k" + i).getBytes(StandardCharsets.UTF_8));
            List<Integer> told = new ArrayList<>();
            owners.forEach(h, ring.serverForHash(h), told::add);
            if (old.serverForHash(h) == ring.serverForHash(h)) {
                assertThat(told).as("k%d stayed", i).isEmpty();
            } else {
                moved++;
                assertThat(told).as("k%d moved", i).containsExactly(old.serverForHash(h));
            }
        }
        assertThat(moved).isBetween(200, 500); // about a third moves to C
    }

    @Test
    void aServerNoLongerInTheFarmIsNeverNamed() {
        List<ServerAddress> now = List.of(A, B);
        FormerRings.Owners owners =
                FormerRings.NONE.after(List.of(A, B, C), now).against(now);
        KetamaRing ring = new KetamaRing(now);
        for (int i = 0; i < 1000; i++) {
            long h = KetamaRing.hash(("k" + i).getBytes(StandardCharsets.UTF_8));
            owners.forEach(h, ring.serverForHash(h), s -> {
                throw new AssertionError("named " + s + ": only C owned keys A and B do not, and C left");
            });
        }
    }

    @Test
    void anUnchangedListAddsNothingAndTheHistoryKeepsTheNewestEight() {
        List<ServerAddress> l = List.of(A, B);
        assertThat(FormerRings.NONE.after(l, l).size()).isZero();
        FormerRings r = FormerRings.NONE;
        for (int w = 1; w <= 12; w++) {
            r = r.after(List.of(A, new ServerAddress("10.0.0.2", 11211, w)), List.of(A, B, C));
        }
        assertThat(r.size()).isEqualTo(FormerRings.MAX);
    }

    @Test
    void aServerThatOwnedAKeyInSeveralFormerRingsIsNamedOnce() {
        List<ServerAddress> now = List.of(C);
        FormerRings r = FormerRings.NONE
                .after(List.of(A), List.of(A, C))
                .after(List.of(A, C), List.of(A))
                .after(List.of(A), now);
        FormerRings.Owners owners = r.against(List.of(A, C));
        List<Integer> told = new ArrayList<>();
        owners.forEach(KetamaRing.hash("k".getBytes(StandardCharsets.UTF_8)), 1, told::add);
        assertThat(told).containsExactly(0);
    }
}
