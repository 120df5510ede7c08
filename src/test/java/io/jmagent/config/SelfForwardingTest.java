package io.jmagent.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.jmagent.backend.ServerAddress;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.nio.file.Path;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Which servers are the proxy's own listen addresses: a wildcard listener is every local address. */
class SelfForwardingTest {

    @ParameterizedTest(name = "{0} reaches a listener on {1}:11311: {2}")
    @CsvSource({
        "127.0.0.1:11311, 0.0.0.0, true",
        "127.0.0.2:11311, 0.0.0.0, true",
        "localhost:11311, 0.0.0.0, true",
        "0.0.0.0:11311, 0.0.0.0, true",
        "[::1]:11311, ::, true",
        "127.0.0.1:11311, ::, true",
        "127.0.0.1:11312, 0.0.0.0, false",
        "203.0.113.7:11311, 0.0.0.0, false",
        "127.0.0.1:11311, 127.0.0.1, true",
        "localhost:11311, 127.0.0.1, true",
        "127.0.0.2:11311, 127.0.0.1, false",
        "10.0.0.1:11311, 10.0.0.1, true",
        "10.0.0.2:11311, 10.0.0.1, false",
        "no-such-host.invalid:11311, 0.0.0.0, false",
    })
    void aServerReachesAListenerOnTheSamePortAndAnAddressItAccepts(String server, String listen, boolean reaches) {
        assertThat(SelfForwarding.reaches(ServerAddress.parse(server), listen, 11311))
                .isEqualTo(reaches);
    }

    @Test
    void aWildcardListenerIsReachedThroughTheMachinesInterfaceAddresses() throws SocketException {
        InetAddress own = null;
        for (NetworkInterface nif : Collections.list(NetworkInterface.getNetworkInterfaces())) {
            for (InetAddress a : Collections.list(nif.getInetAddresses())) {
                if (a instanceof Inet4Address && !a.isLoopbackAddress()) {
                    own = a;
                }
            }
        }
        assumeTrue(own != null, "this machine has an IPv4 address besides loopback");
        ServerAddress server = new ServerAddress(own.getHostAddress(), 11311, 1);

        assertThat(SelfForwarding.reaches(server, "0.0.0.0", 11311)).isTrue();
        assertThat(SelfForwarding.reaches(server, "127.0.0.1", 11311)).isFalse();
    }

    @Test
    void aServerOfOnePoolThatIsAnotherPoolsListenerIsFoundToo() {
        ProxyConfig a = new ProxyConfigBuilder()
                .listenAddress("127.0.0.1")
                .port(1)
                .servers(List.of(ServerAddress.parse("127.0.0.1:5")))
                .backups(List.of(ServerAddress.parse("127.0.0.1:7")))
                .build();
        ProxyConfig b = new ProxyConfigBuilder()
                .listenAddress("127.0.0.1")
                .port(7)
                .servers(List.of(ServerAddress.parse("127.0.0.1:6")))
                .build();

        SelfForwarding.Loop loop =
                SelfForwarding.find(new ProxySetup(List.of(new ProxySetup.Pool("a", a), new ProxySetup.Pool("b", b))));

        assertThat(loop).isNotNull();
        assertThat(loop.key()).isEqualTo("pools.a.backups[0]");
        assertThat(loop.problem())
                .isEqualTo("127.0.0.1:7 is where pool 'b' listens (127.0.0.1:7): "
                        + "jmagent would send every request to itself");
    }

    @Test
    void poolsThatForwardElsewhereHaveNoLoop() {
        ProxyConfig a = new ProxyConfigBuilder()
                .listenAddress("0.0.0.0")
                .port(11311)
                .servers(List.of(ServerAddress.parse("127.0.0.1:11211")))
                .build();
        ProxyConfig unixOnly = new ProxyConfigBuilder()
                .port(0)
                .unixSocket(Path.of("/tmp/j.sock"))
                .servers(List.of(ServerAddress.parse("127.0.0.1:11211")))
                .build();

        assertThat(SelfForwarding.find(
                        new ProxySetup(List.of(new ProxySetup.Pool("a", a), new ProxySetup.Pool("b", unixOnly)))))
                .isNull();
    }
}
