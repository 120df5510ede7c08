package io.jmagent.backend;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** {@code --transport}'s names. */
class NettyTransportTest {

    @ParameterizedTest
    @CsvSource({"nio,NIO", "NIO,NIO", " nio ,NIO"})
    void aNameInAnyCasePicksItsTransport(String name, NettyTransport expected) {
        assertThat(NettyTransport.named(name)).isEqualTo(expected);
    }

    @Test
    void autoIsWhatBestPicks() {
        assertThat(NettyTransport.named("auto")).isEqualTo(NettyTransport.best());
        assertThat(NettyTransport.named("AUTO")).isEqualTo(NettyTransport.best());
    }

    @Test
    void theNativeTransportsAreNamedAsTheFlagTakesThem() {
        assertThat(NettyTransport.IO_URING.label()).isEqualTo("io_uring");
        assertThat(NettyTransport.EPOLL.label()).isEqualTo("epoll");
        for (NettyTransport t : NettyTransport.values()) {
            if (t.unavailabilityCause() == null) {
                assertThat(NettyTransport.named(t.label())).isEqualTo(t);
            } else {
                assertThatThrownBy(() -> NettyTransport.named(t.label()))
                        .hasMessageStartingWith("--transport " + t.label() + " is not available here: ");
            }
        }
    }

    @Test
    void anUnknownNameIsRefusedNamingTheChoices() {
        assertThatThrownBy(() -> NettyTransport.named("kqueue"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("--transport: 'kqueue' is not one of auto, io_uring, epoll, nio");
    }
}
