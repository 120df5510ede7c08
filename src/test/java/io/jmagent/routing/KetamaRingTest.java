package io.jmagent.routing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jmagent.backend.ServerAddress;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import net.spy.memcached.DefaultHashAlgorithm;
import net.spy.memcached.KetamaNodeKeyFormatter;
import net.spy.memcached.KetamaNodeLocator;
import net.spy.memcached.MemcachedNode;
import net.spy.memcached.util.DefaultKetamaNodeLocatorConfiguration;
import org.junit.jupiter.api.Test;

/**
 * The ring must place every key where libmemcached's weighted ketama places it. The oracle is
 * spymemcached's {@link KetamaNodeLocator} with the LIBMEMCACHED key format, built over the same
 * servers; each farm is checked over more than 10,000 keys.
 */
class KetamaRingTest {

    private static final int KEYS = 12_000;

    static {
        // spymemcached asserts 160 points per server even for a weighted ring, which libmemcached's
        // rounding down breaks; the assertion must be off before the locator class initializes
        KetamaRingTest.class.getClassLoader().setClassAssertionStatus(KetamaNodeLocator.class.getName(), false);
    }

    @Test
    void threeServersOnOtherPortsPlaceKeysAsSpymemcachedDoes() {
        assertPlacesKeysLikeSpymemcached(farm("10.0.0.1:11212", "10.0.0.2:11213", "10.0.0.3:11214"));
    }

    @Test
    void serversOnPort11211AreNamedWithoutTheirPort() {
        // libmemcached names these points "10.0.1.1-N"; the others keep ":port"
        assertPlacesKeysLikeSpymemcached(farm("10.0.1.1:11211", "10.0.1.2:11211", "10.0.1.3:22122"));
    }

    @Test
    void serversOnOneHostAreToldApartByPort() {
        assertPlacesKeysLikeSpymemcached(farm("127.0.0.1:11211", "127.0.0.1:11212", "127.0.0.1:11213"));
    }

    @Test
    void weightedServersGetPointsInProportionToTheirWeight() {
        List<ServerAddress> servers = farm("10.0.2.1:11211:1", "10.0.2.2:11212:2", "10.0.2.3:11213:3");

        assertPlacesKeysLikeSpymemcached(servers);
        // floor(w/6 * 40 * 3) * 4 points each
        assertThat(new KetamaRing(servers).pointCount()).isEqualTo(80 + 160 + 240);
    }

    @Test
    void unevenWeightsRoundDownAsLibmemcachedDoes() {
        assertPlacesKeysLikeSpymemcached(farm(
                "10.0.3.1:11211:5",
                "10.0.3.2:11211:7",
                "10.0.3.3:11211:1",
                "10.0.3.4:11300:10",
                "10.0.3.5:11301:3",
                "10.0.3.6:11302:2",
                "10.0.3.7:11303:1"));
    }

    @Test
    void sevenEqualServersPlaceKeysAsSpymemcachedDoes() {
        assertPlacesKeysLikeSpymemcached(farm(
                "10.0.4.1:11211",
                "10.0.4.2:11211",
                "10.0.4.3:11211",
                "10.0.4.4:11211",
                "10.0.4.5:11211",
                "10.0.4.6:11211",
                "10.0.4.7:11211"));
    }

    @Test
    void ipv6HostsAreNamedAsWritten() {
        assertPlacesKeysLikeSpymemcached(farm("[fd00::1]:11211", "[fd00::2]:11212", "[fd00::3]:11213"));
    }

    @Test
    void aSingleServerOwnsEveryKey() {
        KetamaRing ring = new KetamaRing(farm("10.0.5.1:11211"));

        for (String key : keys()) {
            assertThat(ring.serverFor(utf8(key))).isZero();
        }
        assertThat(ring.pointCount()).isEqualTo(160);
    }

    @Test
    void equalWeightsGive160PointsPerServer() {
        assertThat(new KetamaRing(farm("10.0.0.1:11212", "10.0.0.2:11213", "10.0.0.3:11214")).pointCount())
                .isEqualTo(3 * 160);
        assertThat(new KetamaRing(farm("10.0.1.1:11211", "10.0.1.2:11211")).pointCount())
                .isEqualTo(2 * 160);
    }

    @Test
    void keysWithNonAsciiBytesArePlacedByTheirUtf8Bytes() {
        List<ServerAddress> servers = farm("10.0.0.1:11212", "10.0.0.2:11213", "10.0.0.3:11214");
        KetamaRing ring = new KetamaRing(servers);
        KetamaNodeLocator oracle = spymemcached(servers, false);
        List<String> keys = new ArrayList<>();
        for (int i = 0; i < 2_000; i++) {
            keys.add("clé-" + i);
            keys.add("ключ:" + i);
            keys.add("キー" + i);
            keys.add("\uD83D\uDD11" + i); // a key emoji, four UTF-8 bytes
        }

        for (String key : keys) {
            assertThat(ring.serverFor(utf8(key)))
                    .as("server for %s", key)
                    .isEqualTo(indexOf(oracle.getPrimary(key), servers));
        }
    }

    @Test
    void keysSpreadOverEveryServer() {
        KetamaRing ring = new KetamaRing(farm("10.0.0.1:11212", "10.0.0.2:11213", "10.0.0.3:11214"));
        int[] hits = new int[3];

        for (String key : keys()) {
            hits[ring.serverFor(utf8(key))]++;
        }

        assertThat(Arrays.stream(hits).min().getAsInt()).isGreaterThan(KEYS / 5);
    }

    @Test
    void anEmptyFarmIsRefused() {
        assertThatThrownBy(() -> new KetamaRing(List.of()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("a ring needs at least one server");
    }

    private static void assertPlacesKeysLikeSpymemcached(List<ServerAddress> servers) {
        boolean weighted = servers.stream().anyMatch(s -> s.weight() != 1);
        KetamaRing ring = new KetamaRing(servers);
        KetamaNodeLocator oracle = spymemcached(servers, weighted);

        assertThat(ring.pointCount()).isEqualTo(pointsOf(oracle));
        int[] hits = new int[servers.size()];
        for (String key : keys()) {
            int expected = indexOf(oracle.getPrimary(key), servers);
            assertThat(ring.serverFor(utf8(key))).as("server for key %s", key).isEqualTo(expected);
            hits[expected]++;
        }
        // a comparison that never reaches some server would prove little about it
        assertThat(hits).doesNotContain(0);
    }

    /** Sequential keys, then random printable ones of every length up to memcached's 250 bytes. */
    private static List<String> keys() {
        List<String> keys = new ArrayList<>(KEYS);
        for (int i = 0; i < KEYS / 2; i++) {
            keys.add("key:" + i);
        }
        Random random = new Random(20240611);
        while (keys.size() < KEYS) {
            char[] key = new char[1 + random.nextInt(250)];
            for (int i = 0; i < key.length; i++) {
                key[i] = (char) ('!' + random.nextInt('~' - '!' + 1));
            }
            keys.add(new String(key));
        }
        return keys;
    }

    private static List<ServerAddress> farm(String... specs) {
        List<ServerAddress> servers = new ArrayList<>();
        for (String spec : specs) {
            servers.add(ServerAddress.parse(spec));
        }
        return servers;
    }

    /**
     * spymemcached's locator over stub nodes. Their addresses are unresolved, so the LIBMEMCACHED
     * formatter names points after the host exactly as written, with no DNS lookup.
     */
    private static KetamaNodeLocator spymemcached(List<ServerAddress> servers, boolean weighted) {
        List<MemcachedNode> nodes = new ArrayList<>();
        Map<InetSocketAddress, Integer> weights = new HashMap<>();
        for (ServerAddress s : servers) {
            InetSocketAddress address = InetSocketAddress.createUnresolved(s.host(), s.port());
            nodes.add(node(address));
            weights.put(address, s.weight());
        }
        DefaultKetamaNodeLocatorConfiguration config = new DefaultKetamaNodeLocatorConfiguration(
                new KetamaNodeKeyFormatter(KetamaNodeKeyFormatter.Format.LIBMEMCACHED));
        return weighted
                ? new KetamaNodeLocator(nodes, DefaultHashAlgorithm.KETAMA_HASH, weights, config)
                : new KetamaNodeLocator(nodes, DefaultHashAlgorithm.KETAMA_HASH, config);
    }

    /** A MemcachedNode that only knows its address: all the locator asks of it. */
    private static MemcachedNode node(InetSocketAddress address) {
        return (MemcachedNode) Proxy.newProxyInstance(
                KetamaRingTest.class.getClassLoader(),
                new Class<?>[] {MemcachedNode.class},
                (proxy, method, args) -> switch (method.getName()) {
                    case "getSocketAddress" -> address;
                    case "hashCode" -> System.identityHashCode(proxy);
                    case "equals" -> proxy == args[0];
                    case "toString" -> "stub node " + address;
                    default -> throw new UnsupportedOperationException(method.getName());
                });
    }

    private static int indexOf(MemcachedNode node, List<ServerAddress> servers) {
        InetSocketAddress address = (InetSocketAddress) node.getSocketAddress();
        for (int i = 0; i < servers.size(); i++) {
            if (servers.get(i).host().equals(address.getHostString())
                    && servers.get(i).port() == address.getPort()) {
                return i;
            }
        }
        throw new AssertionError("spymemcached chose a node outside the farm: " + address);
    }

    /** The number of distinct points on spymemcached's continuum (its protected TreeMap). */
    private static int pointsOf(KetamaNodeLocator locator) {
        try {
            Method m = KetamaNodeLocator.class.getDeclaredMethod("getKetamaNodes");
            m.setAccessible(true);
            return ((TreeMap<?, ?>) m.invoke(locator)).size();
        } catch (ReflectiveOperationException e) {
            throw new AssertionError("spymemcached's KetamaNodeLocator changed shape", e);
        }
    }

    private static byte[] utf8(String key) {
        return key.getBytes(StandardCharsets.UTF_8);
    }
}
