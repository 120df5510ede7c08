package io.jmagent.it;

import static io.jmagent.testing.BinaryPacket.APPEND;
import static io.jmagent.testing.BinaryPacket.DECREMENT;
import static io.jmagent.testing.BinaryPacket.DELETE;
import static io.jmagent.testing.BinaryPacket.GET;
import static io.jmagent.testing.BinaryPacket.GETK;
import static io.jmagent.testing.BinaryPacket.INCREMENT;
import static io.jmagent.testing.BinaryPacket.KEY_EXISTS;
import static io.jmagent.testing.BinaryPacket.KEY_NOT_FOUND;
import static io.jmagent.testing.BinaryPacket.NOOP;
import static io.jmagent.testing.BinaryPacket.NOT_SUPPORTED;
import static io.jmagent.testing.BinaryPacket.PREPEND;
import static io.jmagent.testing.BinaryPacket.SET;
import static io.jmagent.testing.BinaryPacket.SUCCESS;
import static io.jmagent.testing.BinaryPacket.TOO_LARGE;
import static io.jmagent.testing.BinaryPacket.UNKNOWN_COMMAND;
import static io.jmagent.testing.BinaryPacket.VERBOSITY;
import static io.jmagent.testing.BinaryPacket.arithmetic;
import static io.jmagent.testing.BinaryPacket.concat;
import static io.jmagent.testing.BinaryPacket.noop;
import static io.jmagent.testing.BinaryPacket.request;
import static io.jmagent.testing.BinaryPacket.store;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.jmagent.backend.ServerAddress;
import io.jmagent.config.ProxyConfig;
import io.jmagent.frontend.ProxyServer;
import io.jmagent.testing.BinaryClient;
import io.jmagent.testing.BinaryPacket;
import io.jmagent.testing.BinaryResponse;
import io.jmagent.testing.MemcachedProcess;
import io.jmagent.testing.TestTransport;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The binary protocol where jmagent parts from memcached on purpose, or where memcached has no
 * answer to compare with: requests the proxy cannot translate into text for its servers, bodies
 * so long that memcached would swallow them silently for minutes, and packets that arrive a
 * byte at a time. Where memcached's own behaviour is the reason, it is checked too, so that the
 * claim stays true.
 */
class BinaryProtocolIT {

    private static ProxiedFarm farm;
    private static MemcachedProcess memcached;

    @BeforeAll
    static void start() {
        farm = ProxiedFarm.start(3);
        memcached = MemcachedProcess.start();
    }

    @AfterAll
    static void stop() {
        try {
            if (memcached != null) {
                memcached.close();
            }
        } finally {
            if (farm != null) {
                farm.close();
            }
        }
    }

    @Test
    void keysTheTextProtocolCannotCarryTravelInBase64AndInjectNothing() {
        try (BinaryClient client = new BinaryClient(farm.port());
                BinaryClient other = new BinaryClient(farm.port())) {
            assertThat(other.exchange(
                            store(SET, "bin:victim", 0, 0, "still here").bytes()))
                    .extracting(BinaryResponse::status)
                    .containsExactly(SUCCESS);

            // as text lines these keys would be "set x", then "flush_all", then a stray data line...
            List<BinaryResponse> served = client.exchange(BinaryClient.concat(
                    store(SET, "x\r\nflush_all", 0, 0, "v").opaque(1).bytes(),
                    request(GET).key("x\r\nflush_all").opaque(2).bytes(),
                    request(GETK).key("two keys").opaque(3).bytes(),
                    request(DELETE).key("nul\u0000byte").opaque(4).bytes(),
                    store(SET, "big\nkey", 0, 0, "x".repeat(2 * 1024 * 1024))
                            .opaque(5)
                            .bytes()));

            // ...as meta commands with base64 keys they are what they are: one key each
            assertThat(served).extracting(BinaryResponse::opaque).containsExactly(1, 2, 3, 4, 5);
            assertThat(served)
                    .extracting(BinaryResponse::status)
                    .containsExactly(SUCCESS, SUCCESS, KEY_NOT_FOUND, KEY_NOT_FOUND, TOO_LARGE);
            assertThat(served.get(1).valueText()).isEqualTo("v");
            assertThat(client.closedByPeer()).isFalse();
            // nothing was flushed, and the servers' replies still match their requests
            for (int i = 0; i < 20; i++) {
                List<BinaryResponse> got =
                        other.exchange(request(GET).key("bin:victim").opaque(i).bytes());
                assertThat(got).extracting(BinaryResponse::valueText).containsExactly("still here");
            }
        }
    }

    @Test
    void aServerWithoutMetaCommandsGetsTextAndACasItCannotCompareIsRefusedNotIgnored() throws Exception {
        try (MemcachedProcess old = MemcachedProcess.start();
                OldMemcachedRelay relay = new OldMemcachedRelay(old.port());
                ProxyServer proxy = new ProxyServer(
                                new ProxyConfig(
                                        "127.0.0.1",
                                        MemcachedProcess.freePort(),
                                        null,
                                        List.of(new ServerAddress("127.0.0.1", relay.port(), 1)),
                                        List.of(),
                                        ProxyConfig.DEFAULT_MAX_CONNECTIONS,
                                        ProxyConfig.DEFAULT_MAX_KEEP_ALIVE,
                                        1,
                                        1,
                                        ProxyConfig.DEFAULT_TIMEOUT,
                                        ProxyConfig.DEFAULT_MAX_ITEM_SIZE,
                                        ProxyConfig.DEFAULT_MAX_RETRIEVAL_LINE,
                                        ProxyConfig.DEFAULT_MAX_PENDING_PER_CLIENT,
                                        0),
                                TestTransport.chosen())
                        .start()) {
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> !proxy.primaries().health(0).speaksMeta());
            try (BinaryClient client = new BinaryClient(proxy.port())) {
                List<BinaryResponse> stored = client.exchange(BinaryClient.concat(
                        store(SET, "bin:cas", 0, 0, "text").bytes(),
                        store(SET, "bin:count", 0, 0, "10").bytes(),
                        arithmetic(INCREMENT, "bin:new", 1, 7, 0).bytes()));
                // the text commands return no cas: the one difference left with such a server
                assertThat(stored).extracting(BinaryResponse::status).containsOnly(SUCCESS);
                assertThat(stored).extracting(BinaryResponse::cas).containsOnly(0L);
                assertThat(stored.get(2).counter()).isEqualTo(7);
                long wrongCas = client.exchange(request(GET).key("bin:cas").bytes())
                                .get(0)
                                .cas()
                        + 1000;

                List<BinaryResponse> refused = client.exchange(BinaryClient.concat(
                        request(DELETE).key("bin:cas").cas(wrongCas).opaque(1).bytes(),
                        arithmetic(INCREMENT, "bin:count", 1, 0, 0)
                                .cas(wrongCas)
                                .opaque(2)
                                .bytes(),
                        arithmetic(DECREMENT, "bin:count", 1, 0, 0)
                                .cas(wrongCas)
                                .opaque(3)
                                .bytes(),
                        concat(APPEND, "bin:cas", "!").cas(wrongCas).opaque(4).bytes(),
                        concat(PREPEND, "bin:cas", "!").cas(wrongCas).opaque(5).bytes(),
                        request(GET).key("bin:cas").opaque(6).bytes(),
                        request(GET).key("bin:count").opaque(7).bytes()));

                assertThat(refused.subList(0, 5))
                        .extracting(BinaryResponse::status)
                        .containsOnly(NOT_SUPPORTED);
                assertThat(refused.subList(0, 5))
                        .extracting(BinaryResponse::opaque)
                        .containsExactly(1, 2, 3, 4, 5);
                assertThat(refused.subList(5, 7))
                        .extracting(BinaryResponse::valueText)
                        .containsExactly("text", "10");
            }
        }
        // memcached compares these cas values, which the text commands jmagent sends cannot express
        try (BinaryClient client = new BinaryClient(memcached.port())) {
            client.exchange(store(SET, "bin:cas", 0, 0, "text").bytes());
            List<BinaryResponse> got =
                    client.exchange(request(DELETE).key("bin:cas").cas(1L << 40).bytes());
            assertThat(got).extracting(BinaryResponse::status).containsExactly(KEY_EXISTS);
        }
    }

    @Test
    void verbosityIsAnUnknownCommandWhoseBodyIsSkippedExactly() {
        byte[] verbosity =
                request(VERBOSITY).extras(BinaryPacket.expiration(1)).opaque(9).bytes();
        try (BinaryClient client = new BinaryClient(farm.port())) {
            List<BinaryResponse> got = client.exchange(BinaryClient.concat(verbosity, noop(10)));
            assertThat(got).extracting(BinaryResponse::status).containsExactly(UNKNOWN_COMMAND, SUCCESS);
            assertThat(got).extracting(BinaryResponse::opaque).containsExactly(9, 10);
        }
        // memcached 1.6 skips the extras twice (proto_bin.c: the body length after the extras were
        // read) and so eats 4 bytes of the next request: the Noop after it is never answered
        try (BinaryClient client = new BinaryClient(memcached.port())) {
            client.send(BinaryClient.concat(verbosity, noop(10)));
            assertThat(client.read(1)).extracting(BinaryResponse::status).containsExactly(UNKNOWN_COMMAND);
            assertThat(client.silentFor(300)).isTrue();
        }
    }

    @Test
    void anUnknownCommandWithKeyAndExtrasHasExactlyItsBodySkipped() {
        byte[] unknown = request(0x40)
                .key("some-key")
                .extras(new byte[8])
                .value("and a value")
                .opaque(3)
                .bytes();
        try (BinaryClient client = new BinaryClient(farm.port())) {
            List<BinaryResponse> got = client.exchange(BinaryClient.concat(
                    unknown, noop(4), request(0x41).key("k").opaque(5).bytes()));
            assertThat(got)
                    .extracting(BinaryResponse::status)
                    .containsExactly(UNKNOWN_COMMAND, SUCCESS, UNKNOWN_COMMAND);
            assertThat(got).extracting(BinaryResponse::opaque).containsExactly(3, 4, 5);
        }
    }

    @Test
    void aSetClaiming2GigabytesIsAnsweredTooLargeAndSwallowedWhileOthersAreServed() {
        byte[] header = request(SET)
                .key("bin:huge")
                .extras(BinaryPacket.storeExtras(0, 0))
                .bodyLength(0x7fffffff)
                .opaque(77)
                .bytes();
        byte[] chunk = new byte[1024 * 1024];
        java.util.Arrays.fill(chunk, (byte) 0x80); // looks like request headers, if anyone parsed it
        try (BinaryClient huge = new BinaryClient(farm.port());
                BinaryClient other = new BinaryClient(farm.port())) {
            huge.send(header);
            List<BinaryResponse> answer = huge.read(1);
            assertThat(answer.get(0).status()).isEqualTo(TOO_LARGE);
            assertThat(answer.get(0).opaque()).isEqualTo(77);
            for (int i = 0; i < 32; i++) {
                huge.send(chunk);
                if (i % 8 == 0) {
                    List<BinaryResponse> served = other.exchange(BinaryClient.concat(
                            store(SET, "bin:other", 0, 0, "v" + i).bytes(),
                            request(GET).key("bin:other").bytes()));
                    assertThat(served).extracting(BinaryResponse::valueText).containsExactly("", "v" + i);
                }
            }
            // 32 MB later the value is still being swallowed: nothing is answered, nothing closed
            assertThat(huge.silentFor(300)).isTrue();
            assertThat(huge.closedByPeer()).isFalse();
        }
        // memcached swallows too, but answers only once the 2 GB have passed
        try (BinaryClient client = new BinaryClient(memcached.port())) {
            client.send(header);
            client.send(chunk);
            assertThat(client.silentFor(300)).isTrue();
            assertThat(client.closedByPeer()).isFalse();
        }
    }

    @Test
    void anUnknownCommandClaiming2GigabytesIsAnsweredAndSwallowed() {
        try (BinaryClient client = new BinaryClient(farm.port())) {
            client.send(request(0x50).bodyLength(0x7fffffff).opaque(5).bytes());
            assertThat(client.read(1)).extracting(BinaryResponse::status).containsExactly(UNKNOWN_COMMAND);
            client.send(new byte[4 * 1024 * 1024]);
            assertThat(client.silentFor(300)).isTrue();
            assertThat(client.closedByPeer()).isFalse();
        }
    }

    @Test
    void requestsDribbledOneByteAtATimeAreAnsweredInOrder() {
        byte[] pipeline = BinaryClient.concat(
                store(SET, "bin:slow", 3, 0, "slowly").opaque(1).bytes(),
                request(GETK).key("bin:slow").opaque(2).bytes(),
                noop(3));
        try (BinaryClient client = new BinaryClient(farm.port())) {
            for (byte b : pipeline) {
                client.send(new byte[] {b});
            }
            List<BinaryResponse> got = client.read(3);
            assertThat(got).extracting(BinaryResponse::opaque).containsExactly(1, 2, 3);
            assertThat(got).extracting(BinaryResponse::opcode).containsExactly(SET, GETK, NOOP);
            assertThat(got.get(1).valueText()).isEqualTo("slowly");
            assertThat(got.get(1).flags()).isEqualTo(3);
        }
    }

    @Test
    void manyClientsPipeliningAtOnceEachGetTheirOwnAnswers() throws Exception {
        List<Thread> threads = new ArrayList<>();
        List<Throwable> failures = java.util.Collections.synchronizedList(new ArrayList<>());
        for (int t = 0; t < 8; t++) {
            int id = t;
            threads.add(new Thread(() -> {
                try (BinaryClient client = new BinaryClient(farm.port())) {
                    List<byte[]> requests = new ArrayList<>();
                    for (int i = 0; i < 100; i++) {
                        requests.add(store(BinaryPacket.SETQ, "bin:c" + id + ":" + i, id, 0, id + "/" + i)
                                .bytes());
                        requests.add(request(GETK)
                                .key("bin:c" + id + ":" + i)
                                .opaque(i)
                                .bytes());
                    }
                    List<BinaryResponse> got = client.exchange(BinaryClient.concat(requests));
                    assertThat(got).hasSize(100);
                    for (int i = 0; i < 100; i++) {
                        assertThat(got.get(i).opaque()).isEqualTo(i);
                        assertThat(got.get(i).valueText()).isEqualTo(id + "/" + i);
                    }
                } catch (Throwable e) {
                    failures.add(e);
                }
            }));
        }
        threads.forEach(Thread::start);
        for (Thread t : threads) {
            t.join(20_000);
        }
        assertThat(failures).isEmpty();
    }
}
