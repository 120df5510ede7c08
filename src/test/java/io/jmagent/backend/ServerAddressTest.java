package io.jmagent.backend;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetSocketAddress;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Server addresses as written after {@code -s} and {@code -b}: {@code host[:port[:weight]]}. */
class ServerAddressTest {

    @Test
    void aHostAloneIsOnPort11211WithWeightOne() {
        assertThat(ServerAddress.parse("10.0.0.1")).isEqualTo(new ServerAddress("10.0.0.1", 11211, 1));
    }

    @Test
    void aPortFollowsAColon() {
        assertThat(ServerAddress.parse("10.0.0.1:11212")).isEqualTo(new ServerAddress("10.0.0.1", 11212, 1));
    }

    @Test
    void aWeightFollowsThePort() {
        assertThat(ServerAddress.parse("cache-a.example:11212:3"))
                .isEqualTo(new ServerAddress("cache-a.example", 11212, 3));
    }

    @Test
    void theHostIsKeptAsWrittenBecauseKetamaNamesItsPointsAfterIt() {
        assertThat(ServerAddress.parse("LocalHost:11211").host()).isEqualTo("LocalHost");
    }

    @Test
    void surroundingBlanksAreIgnored() {
        assertThat(ServerAddress.parse("  10.0.0.1:11212 ")).isEqualTo(new ServerAddress("10.0.0.1", 11212, 1));
    }

    @Test
    void anIpv6HostGoesInBrackets() {
        assertThat(ServerAddress.parse("[::1]")).isEqualTo(new ServerAddress("::1", 11211, 1));
        assertThat(ServerAddress.parse("[::1]:11212")).isEqualTo(new ServerAddress("::1", 11212, 1));
        assertThat(ServerAddress.parse("[fd00::2]:11213:5")).isEqualTo(new ServerAddress("fd00::2", 11213, 5));
    }

    @ParameterizedTest
    @CsvSource(
            delimiter = '|',
            value = {
                "''|bad server address '': empty host",
                ":11211|bad server address ':11211': empty host",
                "10.0.0.1:abc|bad server address '10.0.0.1:abc': not a number",
                "10.0.0.1:11211:x|bad server address '10.0.0.1:11211:x': not a number",
                "10.0.0.1:99999999999|bad server address '10.0.0.1:99999999999': not a number",
                "10.0.0.1:0|bad server address '10.0.0.1:0': port out of range: 0",
                "10.0.0.1:65536|bad server address '10.0.0.1:65536': port out of range: 65536",
                "10.0.0.1:-1|bad server address '10.0.0.1:-1': port out of range: -1",
                "10.0.0.1:11211:0|bad server address '10.0.0.1:11211:0': weight must be positive: 0",
                "10.0.0.1:11211:2:3|bad server address '10.0.0.1:11211:2:3': expected host[:port[:weight]]",
                "[::1|bad server address '[::1'",
                "[::1]11211|bad server address '[::1]11211'",
                "[]:11211|bad server address '[]:11211': empty host",
                "::1|bad server address '::1': not a number",
            })
    void aBadAddressIsRefusedWithAMessageNamingIt(String spec, String message) {
        assertThatThrownBy(() -> ServerAddress.parse(spec))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage(message);
    }

    @Test
    void theSocketAddressIsLeftUnresolvedForTheEventLoopToResolve() {
        InetSocketAddress address = ServerAddress.parse("cache-a.example:11212").socketAddress();

        assertThat(address.isUnresolved()).isTrue();
        assertThat(address.getHostString()).isEqualTo("cache-a.example");
        assertThat(address.getPort()).isEqualTo(11212);
    }

    @Test
    void toStringWritesTheAddressBackWithBracketsForIpv6() {
        assertThat(ServerAddress.parse("10.0.0.1:11212:4")).hasToString("10.0.0.1:11212");
        assertThat(ServerAddress.parse("[::1]")).hasToString("[::1]:11211");
    }
}
