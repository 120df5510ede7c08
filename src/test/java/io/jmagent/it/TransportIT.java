package io.jmagent.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.jmagent.backend.NettyTransport;
import io.jmagent.testing.BinaryClient;
import io.jmagent.testing.BinaryPacket;
import io.jmagent.testing.BinaryResponse;
import io.jmagent.testing.MemcachedProcess;
import io.jmagent.testing.RunningProxy;
import io.jmagent.testing.TextClient;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Every transport {@code --transport} offers serves the same bytes. The whole integration suite
 * runs on auto (io_uring here when the kernel allows it) and again on epoll; this one pipelines
 * values from empty to 700 KB (many socket reads each way) and binary requests through each
 * transport this host has, NIO included, and compares the text replies with one memcached's.
 */
class TransportIT {

    @ParameterizedTest
    @EnumSource(NettyTransport.class)
    void eachTransportAnswersAPipelinedBurstAsOneMemcachedDoes(NettyTransport transport) {
        assumeTrue(transport.unavailabilityCause() == null, () -> transport.label() + " is not available here");
        byte[] burst = burst();
        byte[] expected;
        try (MemcachedProcess single = MemcachedProcess.start();
                TextClient direct = new TextClient(single.port())) {
            expected = direct.exchange(burst);
        }
        List<MemcachedProcess> servers =
                List.of(MemcachedProcess.start(), MemcachedProcess.start(), MemcachedProcess.start());
        try (RunningProxy proxy = RunningProxy.over(servers, List.of(), c -> c, transport)) {
            try (TextClient client = new TextClient(proxy.port())) {
                byte[] got = client.exchange(burst);
                assertThat(new String(got, StandardCharsets.ISO_8859_1))
                        .isEqualTo(new String(expected, StandardCharsets.ISO_8859_1));
            }
            try (BinaryClient client = new BinaryClient(proxy.port())) {
                List<BinaryResponse> got = client.exchange(BinaryClient.concat(
                        BinaryPacket.store(BinaryPacket.SET, "transport:bin", 7, 0, "binary value")
                                .bytes(),
                        BinaryPacket.get(BinaryPacket.GETK, "transport:bin", 2),
                        BinaryPacket.get(BinaryPacket.GET, "transport:size:700000", 3)));
                assertThat(got)
                        .extracting(BinaryResponse::status)
                        .containsExactly(BinaryPacket.SUCCESS, BinaryPacket.SUCCESS, BinaryPacket.SUCCESS);
                assertThat(got.get(1).valueText()).isEqualTo("binary value");
                assertThat(got.get(1).flags()).isEqualTo(7);
                assertThat(got.get(2).value()).hasSize(700_000);
            }
        } finally {
            servers.forEach(MemcachedProcess::close);
        }
    }

    @Test
    void autoIsTheBestTransportThisHostHas() {
        NettyTransport auto = NettyTransport.named("auto");

        assertThat(auto.unavailabilityCause()).isNull();
        for (NettyTransport better : NettyTransport.values()) {
            if (better.ordinal() < auto.ordinal()) {
                assertThat(better.unavailabilityCause()).as(better.label()).isNotNull();
            }
        }
    }

    /** Sets of many sizes, each read back alone and all in one multi-get, plus misses. */
    private static byte[] burst() {
        int[] sizes = {0, 1, 100, 16_384, 65_537, 700_000};
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        StringBuilder multi = new StringBuilder("get");
        for (int size : sizes) {
            String key = "transport:size:" + size;
            byte[] value = new byte[size];
            for (int i = 0; i < size; i++) {
                value[i] = (byte) ('a' + (i * 7 + size) % 26);
            }
            out.writeBytes(("set " + key + " " + size + " 0 " + size + "\r\n").getBytes(StandardCharsets.US_ASCII));
            out.writeBytes(value);
            out.writeBytes("\r\n".getBytes(StandardCharsets.US_ASCII));
            out.writeBytes(("get " + key + "\r\n").getBytes(StandardCharsets.US_ASCII));
            multi.append(' ').append(key).append(" transport:missing:").append(size);
        }
        out.writeBytes(
                (multi + "\r\n" + multi + "\r\nincr transport:size:1 5\r\n").getBytes(StandardCharsets.US_ASCII));
        return out.toByteArray();
    }
}
