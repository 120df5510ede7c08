package io.jmagent.protocol;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The flags of a meta command line as memcached 1.6 reads them (proto_text.c, _meta_flag_preparse):
 * a flag is the first character of its token, whatever follows it. {@code q1} is quiet, {@code bX}
 * base64, {@code I9} an invalidation; a token that merely contains the letter ({@code Oq}, {@code kq})
 * is another flag.
 */
class MetaLineParserTest {

    @Test
    void quietIsATokenStartingWithQ() {
        for (String flag : List.of("q", "q1", "qX", "qq", "q!", "qb")) {
            assertThat(parse("mg k v " + flag).quiet()).as("mg %s", flag).isTrue();
            assertThat(parse("ms k 1 " + flag).quiet()).as("ms %s", flag).isTrue();
            assertThat(parse("md k " + flag).quiet()).as("md %s", flag).isTrue();
            assertThat(parse("ma k " + flag).quiet()).as("ma %s", flag).isTrue();
        }
        for (String line : List.of("mg k v Oq", "mg k kq", "mg k v", "ms k 1 Tq", "md k Iq")) {
            assertThat(parse(line).quiet()).as(line).isFalse();
        }
    }

    @Test
    void theFlagsOfAnMsStartAfterItsDataLength() {
        MetaRequest set = parse("ms q 1 v");
        assertThat(new String(set.key(), ISO_8859_1)).isEqualTo("q");
        assertThat(set.quiet()).isFalse();
    }

    @Test
    void base64IsATokenStartingWithBAndTheKeyIsRoutedDecoded() {
        for (String flag : List.of("b", "bX", "b1", "bb", "b?")) {
            MetaRequest get = parse("mg YXRrOmIx v " + flag);
            assertThat(get.base64()).as(flag).isTrue();
            assertThat(new String(get.key(), ISO_8859_1)).as(flag).isEqualTo("atk:b1");
            assertThat(get.keyToken()).isEqualTo("YXRrOmIx");
        }
        MetaRequest set = parse("ms Yms2 1 bX");
        assertThat(new String(set.key(), ISO_8859_1)).isEqualTo("bk6");
        assertThat(parse("mg bk6 v").base64()).isFalse();
        assertThat(new String(parse("mg YXRrOmIx v kb").key(), ISO_8859_1)).isEqualTo("YXRrOmIx");
    }

    @Test
    void aPlainSetHasNoCasNoInvalidationAndModeSetOrNone() {
        for (String flags : List.of("", "T5", "F3 T0", "MS", "q1 MS", "kZ v9 s1")) {
            assertThat(parse("ms k 1 " + flags).plainSet()).as(flags).isTrue();
        }
        for (String flags : List.of("C5", "C5x", "I", "I1", "ME", "MA", "MR", "MP", "MSx", "MEx", "M")) {
            assertThat(parse("ms k 1 " + flags).plainSet()).as(flags).isFalse();
        }
    }

    @Test
    void anAddAReplaceOrACasIsRepeatedOnTheBackupAsAPlainSetOfTheSameItem() {
        assertThat(mirror("ms k 3 ME F5 T90 q O1")).isEqualTo("ms k 3 F5 T90\r\n");
        assertThat(mirror("ms k 3 MR")).isEqualTo("ms k 3\r\n");
        assertThat(mirror("ms azE= 3 C77 b T0 k")).isEqualTo("ms azE= 3 T0 b\r\n");
        assertThat(mirror("ms k 3 Me F1")).isEqualTo("ms k 3 F1\r\n");
        // a plain set is repeated as itself; an append, a prepend, an invalidation are not items as sent
        for (String line : List.of("ms k 3", "ms k 3 MA", "ms k 3 MP", "ms k 3 ME I", "ms k 3 C7 I")) {
            assertThat(parse(line).mirrorLine()).as(line).isNull();
        }
        assertThat(parse("ms k 3 ME").plainSet()).isFalse();
    }

    private static String mirror(String line) {
        return parse(line).mirrorLine().toString(ISO_8859_1);
    }

    @Test
    void aPlainMaOnlyAddsItsDelta() {
        for (String flags : List.of("", "v", "MI D5 v", "MD D3 q", "M+ t c k O9 b")) {
            assertThat(parse("ma k " + flags).plainArithmetic()).as(flags).isTrue();
        }
        // autovivify, cas compare, new cas, new TTL, invalidate: the result depends on more than the number
        for (String flags : List.of("N0", "N5 J1", "C7", "E9", "T30", "I", "v Nx")) {
            assertThat(parse("ma k " + flags).plainArithmetic()).as(flags).isFalse();
        }
        assertThat(parse("ms k 1").plainArithmetic()).isFalse();
        assertThat(parse("ma k").plainSet()).isFalse();
    }

    @Test
    void countersFollowTheFirstCharacterOfEachFlag() {
        assertThat(parse("mg k v T30x").counter()).isEqualTo(MetaRequest.Counter.GET_TOUCHING);
        assertThat(parse("mg k v t1").counter()).isEqualTo(MetaRequest.Counter.GET);
        assertThat(parse("ms k 1 C5z").counter()).isEqualTo(MetaRequest.Counter.SET_CAS);
        assertThat(parse("ms k 1 C5 MA").counter()).isEqualTo(MetaRequest.Counter.SET);
        assertThat(parse("md k I9").counter()).isEqualTo(MetaRequest.Counter.DELETE_INVALIDATING);
        assertThat(parse("md k i").counter()).isEqualTo(MetaRequest.Counter.DELETE);
        assertThat(parse("ma k MD q1").counter()).isEqualTo(MetaRequest.Counter.DECR);
        assertThat(parse("ma k M-").counter()).isEqualTo(MetaRequest.Counter.DECR);
        assertThat(parse("ma k M+ D9").counter()).isEqualTo(MetaRequest.Counter.INCR);
    }

    @Test
    void anMsOfMoreTokensThanMemcachedTakesIsRefusedBeforeItsData() {
        assertThat(refusal("ms k 1" + " v".repeat(16))).isNull();
        assertThat(refusal("ms k 1" + " v".repeat(17))).isEqualTo("CLIENT_ERROR options flags too long\r\n");
        assertThat(refusal("mg k" + " v".repeat(18)))
                .as("the server answers an mg, which has no data")
                .isNull();
    }

    /** The request a well-formed meta line makes (its line not kept). */
    private static MetaRequest parse(String line) {
        Read read = read(line);
        assertThat(read.refusal()).as(line).isNull();
        return read.parser().request(Unpooled.EMPTY_BUFFER);
    }

    /** The reply the proxy gives a meta line itself, or null when the line goes to a server. */
    private static String refusal(String line) {
        LocalReply reply = read(line).refusal();
        return reply == null ? null : new String(reply.bytes(), ISO_8859_1);
    }

    private record Read(MetaLineParser parser, LocalReply refusal) {}

    /** Splits {@code line} as the decoder does and has a parser read it. */
    private static Read read(String line) {
        ByteBuf in = Unpooled.copiedBuffer(line, ISO_8859_1);
        try {
            CommandTokens tokens = new CommandTokens();
            tokens.split(in, in.readerIndex(), in.writerIndex());
            MetaLineParser parser = new MetaLineParser(tokens);
            return new Read(parser, parser.read(in, MetaLineParser.kind(in, tokens)));
        } finally {
            in.release();
        }
    }
}
