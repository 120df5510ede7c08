package io.jmagent.frontend;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static org.assertj.core.api.Assertions.assertThat;

import io.jmagent.protocol.MetaRequest;
import io.jmagent.protocol.Request;
import io.jmagent.protocol.RetrievalRequest;
import io.jmagent.protocol.StoreRequest;
import io.jmagent.routing.ReplySink;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A tenant's key prefix, in and out, over byte buffers alone: every key of a request gets it, the
 * keys of a reply lose it (VALUE lines in a multi-get, the k flag of meta replies in text and in
 * base64, {@code me}'s key), and nothing else of a reply changes; the buffers handed in are
 * released once.
 */
class TenantKeysTest {

    private final TenantKeys keys = new TenantKeys("t1:".getBytes(ISO_8859_1));

    private static ByteBuf buf(String s) {
        return Unpooled.copiedBuffer(s, ISO_8859_1);
    }

    /** The reply {@code reply} becomes for {@code request}, through the stripping sink. */
    private String stripped(Request request, String reply) {
        List<ByteBuf> got = new ArrayList<>();
        ReplySink sink = keys.stripping(request, got::add, ByteBufAllocator.DEFAULT);
        ByteBuf in = buf(reply);
        sink.reply(in);
        assertThat(got).hasSize(1);
        String out = got.get(0).toString(ISO_8859_1);
        got.get(0).release();
        assertThat(in.refCnt()).as("the reply handed in is released").isZero();
        return out;
    }

    @Test
    void everyKeyOfAMultiGetGetsThePrefixAndTheVALUELinesLoseIt() {
        RetrievalRequest get = new RetrievalRequest(
                RetrievalRequest.Kind.GETS, 0, List.of("a".getBytes(ISO_8859_1), "bb".getBytes(ISO_8859_1)));
        RetrievalRequest routed = (RetrievalRequest) keys.prefixed(get);
        assertThat(routed.keys()).extracting(k -> new String(k, ISO_8859_1)).containsExactly("t1:a", "t1:bb");
        // a value that itself holds "VALUE t1:" is data, not a line: it stays as it is
        String data = "VALUE t1:x 0 1";
        assertThat(stripped(
                        routed,
                        "VALUE t1:a 5 " + data.length() + " 77\r\n" + data + "\r\nVALUE t1:bb 0 2 78\r\nhi\r\nEND\r\n"))
                .isEqualTo("VALUE a 5 " + data.length() + " 77\r\n" + data + "\r\nVALUE bb 0 2 78\r\nhi\r\nEND\r\n");
        assertThat(stripped(routed, "END\r\n")).isEqualTo("END\r\n");
        assertThat(stripped(routed, "SERVER_ERROR backend down\r\n")).isEqualTo("SERVER_ERROR backend down\r\n");
    }

    @Test
    void aStorageCommandKeepsItsValueAndGetsThePrefix() {
        ByteBuf value = buf("v");
        StoreRequest set = new StoreRequest(StoreRequest.Kind.SET, "k".getBytes(ISO_8859_1), 3, 0, 0, false, value);
        StoreRequest routed = (StoreRequest) keys.prefixed(set);
        assertThat(new String(routed.key(), ISO_8859_1)).isEqualTo("t1:k");
        assertThat(routed.value()).isSameAs(value);
        routed.release();
    }

    private static MetaRequest meta(MetaRequest.Kind kind, String line, String key, boolean base64) {
        return new MetaRequest(
                kind,
                key.getBytes(ISO_8859_1),
                line.split(" ")[1].strip(),
                base64,
                false,
                false,
                MetaRequest.Counter.GET,
                buf(line),
                null);
    }

    @Test
    void aMetaKeyIsReplacedInItsLineAndTheKFlagLosesThePrefix() {
        MetaRequest mg = meta(MetaRequest.Kind.GET, "mg k v k f\r\n", "k", false);
        MetaRequest routed = (MetaRequest) keys.prefixed(mg);
        assertThat(routed.line().toString(ISO_8859_1)).isEqualTo("mg t1:k v k f\r\n");
        assertThat(stripped(routed, "VA 2 kt1:k f0\r\nhi\r\n")).isEqualTo("VA 2 kk f0\r\nhi\r\n");
        assertThat(stripped(routed, "EN\r\n")).isEqualTo("EN\r\n");
        routed.release();
    }

    @Test
    void aBase64MetaKeyIsPrefixedDecodedAndGivenBackInBase64() {
        Base64.Encoder b64 = Base64.getEncoder();
        String token = b64.encodeToString("a b".getBytes(ISO_8859_1));
        MetaRequest mg = meta(MetaRequest.Kind.GET, "mg " + token + " b k v\r\n", "a b", true);
        MetaRequest routed = (MetaRequest) keys.prefixed(mg);
        String serverToken = b64.encodeToString("t1:a b".getBytes(ISO_8859_1));
        assertThat(routed.line().toString(ISO_8859_1)).isEqualTo("mg " + serverToken + " b k v\r\n");
        assertThat(new String(routed.key(), ISO_8859_1)).isEqualTo("t1:a b");
        assertThat(stripped(routed, "VA 1 k" + serverToken + " b\r\nz\r\n"))
                .isEqualTo("VA 1 k" + token + " b\r\nz\r\n");
        routed.release();
    }

    @Test
    void meGivesTheKeyBackWithoutThePrefix() {
        MetaRequest me = meta(MetaRequest.Kind.DEBUG, "me k\r\n", "k", false);
        MetaRequest routed = (MetaRequest) keys.prefixed(me);
        assertThat(stripped(routed, "ME t1:k exp=-1 la=3 cas=2 fetch=no cls=1 size=63\r\n"))
                .isEqualTo("ME k exp=-1 la=3 cas=2 fetch=no cls=1 size=63\r\n");
        routed.release();
    }

    @Test
    void aBase64KeyWithNoRoomLeftForThePrefixIsRefused() {
        String token = Base64.getEncoder().encodeToString("k".repeat(186).getBytes(ISO_8859_1));
        MetaRequest mg = meta(MetaRequest.Kind.GET, "mg " + token + " b v\r\n", "k".repeat(186), true);
        ByteBuf line = mg.line();
        assertThat(keys.prefixed(mg)).isNull();
        assertThat(line.refCnt()).as("the refused request's line is released").isZero();
    }
}
