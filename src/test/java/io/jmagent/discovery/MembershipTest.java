package io.jmagent.discovery;

import static org.assertj.core.api.Assertions.assertThat;

import io.jmagent.backend.Farm;
import io.jmagent.backend.ServerAddress;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class MembershipTest {

    private static final ServerAddress A = ServerAddress.parse("10.0.0.1:11211");
    private static final ServerAddress B = ServerAddress.parse("10.0.0.2:11211");
    private static final ServerAddress C = ServerAddress.parse("10.0.0.3:11211");

    private final List<ServerAddress> asked = new ArrayList<>();

    private String letIn(ServerAddress s) {
        asked.add(s);
        return null;
    }

    @Test
    void theFirstAnswerIsTakenWholeWithoutProbes() {
        Membership m = new Membership(3);
        Membership.Change c = m.offer(List.of(C, A, B), s -> "down");
        assertThat(c.joined()).containsExactlyInAnyOrder(A, B, C);
        assertThat(m.members()).containsExactly(A, B, C);
    }

    @Test
    void aServerLeavesOnlyAfterLeaveAfterAnswersInARowLackedIt() {
        Membership m = new Membership(3);
        m.offer(List.of(A, B, C), this::letIn);
        assertThat(m.offer(List.of(A, B), this::letIn).any()).isFalse();
        assertThat(m.offer(List.of(A, B), this::letIn).any()).isFalse();
        assertThat(m.offer(List.of(A, B, C), this::letIn).any())
                .as("back before the third: the count restarts")
                .isFalse();
        m.offer(List.of(A, B), this::letIn);
        m.offer(List.of(A, B), this::letIn);
        Membership.Change third = m.offer(List.of(A, B), this::letIn);
        assertThat(third.left()).containsExactly(C);
        assertThat(m.members()).containsExactly(A, B);
    }

    @Test
    void aNewServerJoinsOnlyOnceTheJoinCheckLetsItIn() {
        Membership m = new Membership(1);
        m.offer(List.of(A), this::letIn);
        Membership.Change refused = m.offer(List.of(A, B), s -> "connection refused");
        assertThat(refused.any()).isFalse();
        assertThat(refused.refused()).containsExactly(B + ": connection refused");
        assertThat(m.members()).containsExactly(A);
        Membership.Change joined = m.offer(List.of(A, B), this::letIn);
        assertThat(joined.joined()).containsExactly(B);
        assertThat(asked).containsExactly(B);
        assertThat(m.offer(List.of(A, B), this::letIn).any()).isFalse();
        assertThat(asked).as("a member is not probed again").containsExactly(B);
    }

    @Test
    void anEmptyAnswerNeverEmptiesTheRing() {
        Membership m = new Membership(1);
        m.offer(List.of(A, B), this::letIn);
        m.offer(List.of(), this::letIn);
        m.offer(List.of(), this::letIn);
        assertThat(m.members()).hasSize(1);
    }

    @Test
    void aChangedWeightIsTakenAtOnce() {
        Membership m = new Membership(3);
        m.offer(List.of(A, B), this::letIn);
        ServerAddress heavier = new ServerAddress(B.host(), B.port(), 3);
        Membership.Change c = m.offer(List.of(A, heavier), this::letIn);
        assertThat(c.joined()).containsExactly(heavier);
        assertThat(c.left()).containsExactly(B);
        assertThat(m.members()).containsExactly(A, heavier);
        assertThat(asked).as("the same server: no join probe").isEmpty();
    }

    @Test
    void proxiesFedTheSameAnswersInAnyOrderBuildTheSameRing() {
        Random random = new Random(42);
        List<ServerAddress> servers = new ArrayList<>();
        for (int i = 1; i <= 12; i++) {
            servers.add(new ServerAddress("10.0.1." + i, 11211, 1 + i % 3));
        }
        String expected = null;
        for (int proxy = 0; proxy < 20; proxy++) {
            Membership m = new Membership(2);
            List<ServerAddress> first = new ArrayList<>(servers.subList(0, 6));
            Collections.shuffle(first, random);
            m.offer(first, this::letIn);
            List<ServerAddress> all = new ArrayList<>(servers);
            Collections.shuffle(all, random);
            m.offer(all, this::letIn);
            String fingerprint = Farm.fingerprint(m.members());
            if (expected == null) {
                expected = fingerprint;
            }
            assertThat(fingerprint).isEqualTo(expected);
            assertThat(m.members()).containsExactlyInAnyOrderElementsOf(servers);
        }
        assertThat(Farm.fingerprint(servers)).isEqualTo(expected);
        List<ServerAddress> reweighted = new ArrayList<>(servers);
        reweighted.set(0, new ServerAddress("10.0.1.1", 11211, 9));
        assertThat(Farm.fingerprint(reweighted))
                .as("a weight is part of the ring")
                .isNotEqualTo(expected);
    }
}
