package io.jmagent.discovery;

import io.jmagent.backend.ServerAddress;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;

/**
 * The damped membership of one list of servers: what a source's answers become in the ring. The
 * first answer is taken whole. After it, a server leaves only once {@code leaveAfter} answers in a
 * row lacked it (one bad answer reshuffles nothing), and a new one joins only once the join check
 * lets it (it answers a probe, and is flushed). A changed weight is taken at once. Servers are
 * named by host and port as the source writes them; the list is kept sorted, so that the ring
 * depends only on the set (every proxy of a fleet fed the same answers, in any order, builds the
 * same ring). Not thread-safe: discovery's thread only.
 */
final class Membership {

    static final Comparator<ServerAddress> ORDER = Comparator.comparing(ServerAddress::host)
            .thenComparingInt(ServerAddress::port)
            .thenComparingInt(ServerAddress::weight);

    private final int leaveAfter;
    /** host:port to the member and the answers in a row that lacked it. */
    private final Map<String, Member> members = new LinkedHashMap<>();

    private boolean seeded;

    private static final class Member {
        ServerAddress address;
        int missed;

        Member(ServerAddress address) {
            this.address = address;
        }
    }

    /** What one answer changed. */
    record Change(List<ServerAddress> joined, List<ServerAddress> left, List<String> refused) {
        boolean any() {
            return !joined.isEmpty() || !left.isEmpty();
        }
    }

    Membership(int leaveAfter) {
        this.leaveAfter = leaveAfter;
    }

    /**
     * Takes one answer. {@code joinCheck} is asked of each server that would join a seeded
     * membership: null lets it in, otherwise the reason it stays out (it is asked again next time).
     * An empty answer never empties the ring: the last member stays.
     */
    Change offer(List<ServerAddress> answer, Function<ServerAddress, String> joinCheck) {
        List<ServerAddress> joined = new ArrayList<>();
        List<ServerAddress> left = new ArrayList<>();
        List<String> refused = new ArrayList<>();
        Map<String, ServerAddress> named = new LinkedHashMap<>();
        for (ServerAddress a : answer) {
            named.putIfAbsent(key(a), a);
        }
        for (Map.Entry<String, ServerAddress> e : named.entrySet()) {
            Member m = members.get(e.getKey());
            if (m != null) {
                m.missed = 0;
                if (m.address.weight() != e.getValue().weight()) {
                    left.add(m.address);
                    joined.add(e.getValue());
                    m.address = e.getValue();
                }
                continue;
            }
            String why = seeded ? joinCheck.apply(e.getValue()) : null;
            if (why == null) {
                members.put(e.getKey(), new Member(e.getValue()));
                joined.add(e.getValue());
            } else {
                refused.add(e.getValue() + ": " + why);
            }
        }
        for (var it = members.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<String, Member> e = it.next();
            if (!named.containsKey(e.getKey()) && ++e.getValue().missed >= leaveAfter && members.size() > 1) {
                left.add(e.getValue().address);
                it.remove();
            }
        }
        seeded = seeded || !members.isEmpty();
        return new Change(joined, left, refused);
    }

    /** The members, sorted. */
    List<ServerAddress> members() {
        List<ServerAddress> list = new ArrayList<>();
        for (Member m : members.values()) {
            list.add(m.address);
        }
        list.sort(ORDER);
        return list;
    }

    private static String key(ServerAddress a) {
        return Objects.requireNonNull(a.host()) + "\n" + a.port();
    }
}
