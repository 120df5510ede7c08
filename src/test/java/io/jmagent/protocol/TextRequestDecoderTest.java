package io.jmagent.protocol;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * The client side of the text protocol. Every error reply below is the one memcached 1.6.18
 * sends for the same bytes (checked with a real server); where memcached would forward nothing
 * to its storage, neither may the decoder.
 *
 * <p>Decoded requests are shown in their canonical wire form ({@code "set a 5 100 3\r\nxyz\r\n"}),
 * replies the decoder settles itself as {@code "reply <bytes>"} ({@code "reply-and-close <bytes>"}
 * when the connection closes after them). Every buffer fed in must be released by the end of
 * each test, values included.
 */
class TextRequestDecoderTest {

    private static final int MAX_ITEM_SIZE = 1024 * 1024;
    private static final int MAX_RETRIEVAL_LINE = 64 * 1024;

    private static final String ERROR = "reply ERROR\r\n";
    private static final String BAD_FORMAT = "reply CLIENT_ERROR bad command line format\r\n";
    private static final String BAD_DATA_CHUNK = "reply CLIENT_ERROR bad data chunk\r\n";
    private static final String INVALID_EXPTIME = "reply CLIENT_ERROR invalid exptime argument\r\n";
    private static final String INVALID_DELTA = "reply CLIENT_ERROR invalid numeric delta argument\r\n";
    private static final String DELETE_USAGE =
            "reply CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]\r\n";
    private static final String LINE_TOO_LONG = "reply-and-close CLIENT_ERROR line too long\r\n";

    private static final String KEY_250 = "k".repeat(250);
    private static final String KEY_251 = "k".repeat(251);

    private final List<EmbeddedChannel> channels = new ArrayList<>();
    private final List<ByteBuf> fed = new ArrayList<>();
    private EmbeddedChannel channel = newChannel(MAX_ITEM_SIZE);

    @AfterEach
    void everyBufferFedInIsReleased() {
        for (EmbeddedChannel ch : channels) {
            ch.finishAndReleaseAll();
        }
        for (ByteBuf buf : fed) {
            assertThat(buf.refCnt())
                    .as("reference count of a buffer fed to the decoder")
                    .isZero();
        }
    }

    @Nested
    class Retrieval {

        @Test
        void getDecodesItsKeysInOrderWithDuplicates() {
            assertThat(feed("get a b a\r\n")).containsExactly("get a b a\r\n");
        }

        @Test
        void everyRetrievalCommandDecodes() {
            assertThat(feed("gets a b\r\ngat 10 a\r\ngats -1 a b\r\n"))
                    .containsExactly("gets a b\r\n", "gat 10 a\r\n", "gats -1 a b\r\n");
        }

        @Test
        void runsOfSpacesSeparateTokensAndABareNewlineEndsALine() {
            assertThat(feed("get  a   b \r\nget c\n")).containsExactly("get a b\r\n", "get c\r\n");
        }

        @Test
        void aCarriageReturnInsideALineBelongsToTheKey() {
            assertThat(feed("get a\rb\r\n")).containsExactly("get a\rb\r\n");
        }

        @Test
        void aTabIsNotASeparator() {
            assertThat(feed("get\ta\r\n")).containsExactly(ERROR);
        }

        @Test
        void getTakesMoreKeysThanMemcachedHasTokens() {
            List<String> keys = new ArrayList<>();
            for (int i = 0; i < 40; i++) {
                keys.add("k" + i);
            }
            String line = "get " + String.join(" ", keys) + "\r\n";

            assertThat(feed(line)).containsExactly(line);
        }

        @Test
        void legacyBgetIsAGet() {
            assertThat(feed("bget a b\r\nbget\r\n")).containsExactly("get a b\r\n", ERROR);
        }

        @Test
        void aRetrievalWithoutKeysIsAnError() {
            assertThat(feed("get\r\ngets\r\ngat\r\ngats\r\nget \r\n"))
                    .containsExactly(ERROR, ERROR, ERROR, ERROR, ERROR);
        }

        @Test
        void gatWithAnExptimeButNoKeyIsAnEmptyResult() {
            assertThat(feed("gat 10\r\ngats 10\r\n")).containsExactly("reply END\r\n", "reply END\r\n");
        }

        @Test
        void gatWithABadExptimeIsRefused() {
            assertThat(feed("gat abc a\r\ngats -1x a\r\n")).containsExactly(INVALID_EXPTIME, INVALID_EXPTIME);
        }

        @Test
        void aKeyOf250BytesIsAccepted() {
            assertThat(feed("get " + KEY_250 + "\r\n")).containsExactly("get " + KEY_250 + "\r\n");
        }

        @Test
        void aKeyOf251BytesFirstRefusesTheWholeLine() {
            assertThat(feed("get " + KEY_251 + " a\r\ngat 1 " + KEY_251 + "\r\n"))
                    .containsExactly(BAD_FORMAT, BAD_FORMAT);
        }

        @Test
        void theKeysBeforeAKeyOf251BytesAreFetchedThenTheLineRefused() {
            assertThat(feed("gets a b " + KEY_251 + " c\r\ngat 1 a " + KEY_251 + "\r\n"))
                    .containsExactly("fetch then refuse: gets a b\r\n", "fetch then refuse: gat 1 a\r\n");
        }
    }

    @Nested
    class Storage {

        @Test
        void everyStorageCommandDecodesWithItsValue() {
            assertThat(feed("set a 5 100 3\r\nxyz\r\n"
                            + "add b 0 0 1\r\n1\r\n"
                            + "replace c 1 2 2\r\nab\r\n"
                            + "append d 0 0 1\r\n+\r\n"
                            + "prepend e 0 0 1\r\n-\r\n"
                            + "cas f 7 8 2 99\r\nhi\r\n"))
                    .containsExactly(
                            "set a 5 100 3\r\nxyz\r\n",
                            "add b 0 0 1\r\n1\r\n",
                            "replace c 1 2 2\r\nab\r\n",
                            "append d 0 0 1\r\n+\r\n",
                            "prepend e 0 0 1\r\n-\r\n",
                            "cas f 7 8 2 99\r\nhi\r\n");
        }

        @Test
        void theValueIsFramedByItsLengthNotByNewlines() {
            assertThat(feed("set a 0 0 6\r\n\r\nab\r\n\r\n")).containsExactly("set a 0 0 6\r\n\r\nab\r\n\r\n");
        }

        @Test
        void anEmptyValueDecodes() {
            assertThat(feed("set a 0 0 0\r\n\r\nset b 0 0 -0\r\n\r\n"))
                    .containsExactly("set a 0 0 0\r\n\r\n", "set b 0 0 0\r\n\r\n");
        }

        @Test
        void numbersAreParsedAndTruncatedAsMemcachedDoes() {
            assertThat(feed("set a +5 -1 01\r\nx\r\n"
                            + "set b 4294967295 2147483648 1\r\nx\r\n"
                            + "set c 4294967296 0 4294967297\r\nx\r\n"
                            + "cas d 0 0 1 18446744073709551615\r\nx\r\n"))
                    .containsExactly(
                            "set a 5 -1 1\r\nx\r\n",
                            "set b 4294967295 -2147483648 1\r\nx\r\n",
                            "set c 0 0 1\r\nx\r\n",
                            "cas d 0 0 1 18446744073709551615\r\nx\r\n");
        }

        @Test
        void noreplyIsTheLastToken() {
            assertThat(feed("set a 0 0 1 noreply\r\nx\r\ncas b 0 0 1 5 noreply\r\ny\r\n"))
                    .containsExactly("set a 0 0 1 noreply\r\nx\r\n", "cas b 0 0 1 5 noreply\r\ny\r\n");
        }

        @Test
        void anExtraTokenThatIsNotNoreplyIsIgnored() {
            assertThat(feed("set a 0 0 1 junk\r\nx\r\ncas b 0 0 1 5 junk\r\ny\r\n"))
                    .containsExactly("set a 0 0 1\r\nx\r\n", "cas b 0 0 1 5\r\ny\r\n");
        }

        @Test
        void aWrongTokenCountIsAnErrorAndTheDataBlockIsReadAsACommand() {
            assertThat(feed("set a 0 0\r\nset a 0 0 1 2 3\r\nx\r\ncas a 0 0 1\r\ny\r\ncas a 0 0 1 1 2 3\r\n"))
                    .containsExactly(ERROR, ERROR, ERROR, ERROR, ERROR, ERROR);
        }

        @Test
        void anEmptyKeyIsAWrongTokenCount() {
            assertThat(feed("set  0 0 1\r\nx\r\n")).containsExactly(ERROR, ERROR);
        }

        @Test
        void aBadNumberIsABadFormatAndTheDataBlockIsReadAsACommand() {
            assertThat(feed("set a abc 0 1\r\nx\r\n")).containsExactly(BAD_FORMAT, ERROR);
            assertThat(feed("set a -1 0 1\r\nx\r\n")).containsExactly(BAD_FORMAT, ERROR);
            assertThat(feed("set a 18446744073709551616 0 1\r\nx\r\n")).containsExactly(BAD_FORMAT, ERROR);
            assertThat(feed("set a 0 abc 1\r\nx\r\n")).containsExactly(BAD_FORMAT, ERROR);
            assertThat(feed("set a 0 9223372036854775808 1\r\nx\r\n")).containsExactly(BAD_FORMAT, ERROR);
            assertThat(feed("set a 0 0 abc\r\nx\r\n")).containsExactly(BAD_FORMAT, ERROR);
            assertThat(feed("set a 0 0 -1\r\nx\r\n")).containsExactly(BAD_FORMAT, ERROR);
            assertThat(feed("cas a 0 0 1 abc\r\nx\r\n")).containsExactly(BAD_FORMAT, ERROR);
            assertThat(feed("cas a 0 0 1 -1\r\nx\r\n")).containsExactly(BAD_FORMAT, ERROR);
        }

        @Test
        void aLengthThatCannotHoldItsCrlfIsABadFormat() {
            assertThat(feed("set a 0 0 2147483646\r\n")).containsExactly(BAD_FORMAT);
        }

        @Test
        void noreplySilencesABadFormat() {
            assertThat(feed("set a abc 0 1 noreply\r\nx\r\n")).containsExactly(ERROR);
            assertThat(feed("set a 0 0 noreply\r\nx\r\n")).containsExactly(ERROR);
        }

        @Test
        void aValueNotFollowedByCrlfIsABadDataChunkAndItsLastByteStartsTheNextLine() {
            // memcached reads exactly length + 2 bytes ("ab\r"), so the "\n" left is an empty command
            assertThat(feed("set a 0 0 1\r\nab\r\nget a\r\n")).containsExactly(BAD_DATA_CHUNK, ERROR, "get a\r\n");
        }

        @Test
        void noreplySilencesABadDataChunk() {
            assertThat(feed("set a 0 0 1 noreply\r\nab\r\nget a\r\n")).containsExactly(ERROR, "get a\r\n");
        }

        @Test
        void aKeyOf250BytesIsAccepted() {
            assertThat(feed("set " + KEY_250 + " 0 0 1\r\nx\r\n"))
                    .containsExactly("set " + KEY_250 + " 0 0 1\r\nx\r\n");
        }

        @Test
        void aKeyOf251BytesIsABadFormat() {
            assertThat(feed("set " + KEY_251 + " 0 0 1\r\nx\r\n")).containsExactly(BAD_FORMAT, ERROR);
        }

        @Test
        void aValueOfTheMaximumItemSizeIsBuffered() {
            String value = "v".repeat(MAX_ITEM_SIZE);

            assertThat(feed("set a 0 0 " + MAX_ITEM_SIZE + "\r\n" + value + "\r\n"))
                    .containsExactly("set a 0 0 " + MAX_ITEM_SIZE + "\r\n<" + MAX_ITEM_SIZE + " bytes>\r\n");
        }

        @Test
        void aValueOneByteOverTheMaximumIsSwallowed() {
            String value = "v".repeat(MAX_ITEM_SIZE + 1);

            assertThat(feed("set a 0 0 " + (MAX_ITEM_SIZE + 1) + "\r\n" + value + "\r\nget a\r\n"))
                    .containsExactly("oversized set a", "get a\r\n");
        }

        @Test
        void anOversizedValueIsSwallowedWithoutBeingBuffered() {
            int length = 2 * 1024 * 1024;
            assertThat(feed("set big 0 0 " + length + "\r\n")).containsExactly("oversized set big");

            byte[] chunk = new byte[64 * 1024];
            Arrays.fill(chunk, (byte) 'v');
            for (int sent = 0; sent < length; sent += chunk.length) {
                ByteBuf buf = Unpooled.wrappedBuffer(chunk);
                fed.add(buf);
                channel.writeInbound(buf);
                // each chunk arrives at an empty cumulation: released at once means nothing was kept
                assertThat(buf.refCnt()).as("chunk after %d bytes", sent).isZero();
            }

            assertThat(feed("\r\nget b\r\n")).containsExactly("get b\r\n");
        }

        @Test
        void anOversizedValueKeepsItsNoreply() {
            String value = "v".repeat(MAX_ITEM_SIZE + 10);

            assertThat(feed("add a 0 0 " + value.length() + " noreply\r\n" + value + "\r\n"))
                    .containsExactly("oversized add a noreply");
        }
    }

    @Nested
    class Delete {

        @Test
        void deleteDecodesWithAZeroHoldTimeAndNoreply() {
            assertThat(feed("delete a\r\ndelete b noreply\r\ndelete c 0\r\ndelete d 0 noreply\r\n"))
                    .containsExactly("delete a\r\n", "delete b noreply\r\n", "delete c\r\n", "delete d noreply\r\n");
        }

        @Test
        void aHoldTimeOtherThanZeroIsAUsageError() {
            assertThat(feed("delete a x\r\ndelete a 0 x\r\ndelete a 1\r\n"))
                    .containsExactly(DELETE_USAGE, DELETE_USAGE, DELETE_USAGE);
        }

        @Test
        void noreplySilencesTheUsageError() {
            assertThat(feed("delete a 1 noreply\r\n")).isEmpty();
        }

        @Test
        void aWrongTokenCountIsAnError() {
            assertThat(feed("delete\r\ndelete a 0 noreply x\r\n")).containsExactly(ERROR, ERROR);
        }

        @Test
        void aKeyOf251BytesIsABadFormat() {
            assertThat(feed("delete " + KEY_251 + "\r\n")).containsExactly(BAD_FORMAT);
        }
    }

    @Nested
    class Arithmetic {

        @Test
        void incrAndDecrDecodeAnUnsigned64BitDelta() {
            assertThat(feed("incr a 5\r\ndecr b 18446744073709551615\r\nincr c +2\r\nincr d -18446744073709551615\r\n"))
                    .containsExactly("incr a 5\r\n", "decr b 18446744073709551615\r\n", "incr c 2\r\n", "incr d 1\r\n");
        }

        @Test
        void noreplyIsTheLastTokenAndAnyOtherExtraTokenIsIgnored() {
            assertThat(feed("incr a 1 noreply\r\nincr a 1 junk\r\n"))
                    .containsExactly("incr a 1 noreply\r\n", "incr a 1\r\n");
        }

        @Test
        void aBadDeltaIsRefused() {
            assertThat(feed("incr a -1\r\nincr a abc\r\ndecr a 18446744073709551616\r\n"))
                    .containsExactly(INVALID_DELTA, INVALID_DELTA, INVALID_DELTA);
        }

        @Test
        void noreplySilencesABadDelta() {
            assertThat(feed("incr a abc noreply\r\n")).isEmpty();
        }

        @Test
        void aWrongTokenCountIsAnError() {
            assertThat(feed("incr a\r\ndecr a 1 2 3\r\n")).containsExactly(ERROR, ERROR);
        }

        @Test
        void aKeyOf251BytesIsABadFormatBeforeTheDeltaIsRead() {
            assertThat(feed("incr " + KEY_251 + " abc\r\n")).containsExactly(BAD_FORMAT);
        }
    }

    @Nested
    class Touch {

        @Test
        void touchDecodes() {
            assertThat(feed("touch a 10\r\ntouch b -1 noreply\r\ntouch c 4294967296\r\n"))
                    .containsExactly("touch a 10\r\n", "touch b -1 noreply\r\n", "touch c 0\r\n");
        }

        @Test
        void aBadExptimeIsRefusedUnlessNoreply() {
            assertThat(feed("touch a abc\r\ntouch a abc noreply\r\n")).containsExactly(INVALID_EXPTIME);
        }

        @Test
        void aWrongTokenCountIsAnError() {
            assertThat(feed("touch a\r\ntouch a 1 2 3\r\n")).containsExactly(ERROR, ERROR);
        }

        @Test
        void aKeyOf251BytesIsABadFormat() {
            assertThat(feed("touch " + KEY_251 + " 1\r\n")).containsExactly(BAD_FORMAT);
        }
    }

    @Nested
    class Administration {

        @Test
        void flushAllDecodesWithOrWithoutADelay() {
            assertThat(
                            feed(
                                    "flush_all\r\nflush_all 10\r\nflush_all noreply\r\nflush_all 10 noreply\r\nflush_all 1 2\r\n"))
                    .containsExactly(
                            "flush_all\r\n",
                            "flush_all 10\r\n",
                            "flush_all noreply\r\n",
                            "flush_all 10 noreply\r\n",
                            "flush_all 1\r\n");
        }

        @Test
        void flushAllWithABadDelayIsAnInvalidExptime() {
            assertThat(feed("flush_all abc\r\nflush_all noreply 10\r\nflush_all abc noreply\r\n"))
                    .containsExactly(INVALID_EXPTIME, INVALID_EXPTIME);
        }

        @Test
        void flushAllWithTooManyTokensIsAnError() {
            assertThat(feed("flush_all 1 2 3\r\n")).containsExactly(ERROR);
        }

        @Test
        void verbosityDecodes() {
            assertThat(feed("verbosity 1\r\nverbosity 2 noreply\r\nverbosity 1 junk\r\n"))
                    .containsExactly("verbosity 1\r\n", "verbosity 2 noreply\r\n", "verbosity 1\r\n");
        }

        @Test
        void verbosityWithABadLevelIsABadFormatUnlessNoreply() {
            assertThat(feed("verbosity abc\r\nverbosity -1\r\nverbosity abc noreply\r\n"))
                    .containsExactly(BAD_FORMAT, BAD_FORMAT);
        }

        @Test
        void verbosityWithAWrongTokenCountIsAnError() {
            assertThat(feed("verbosity\r\nverbosity 1 2 3\r\n")).containsExactly(ERROR, ERROR);
        }

        @Test
        void versionAndStatsDecode() {
            assertThat(feed("version\r\nversion x y\r\nstats\r\nstats items\r\n"))
                    .containsExactly("version\r\n", "version\r\n", "stats\r\n", "stats items\r\n");
        }

        @Test
        void serverAdministrationIsNotServed() {
            assertThat(feed("shutdown\r\nslabs reassign 1 2\r\n"))
                    .containsExactly(
                            "reply SERVER_ERROR shutdown not supported by jmagent\r\n",
                            "reply SERVER_ERROR slabs not supported by jmagent\r\n");
        }

        @Test
        void metaCommandsKeepTheirLineAndAreFramedByKeyLengthAndQuietFlag() {
            assertThat(feed("mg a v k\r\nms b 2 q MA\r\nhi\r\nmd YQ== b q\nmn x\r\nms c 1 T5\r\nz\r\n"))
                    .containsExactly(
                            "meta GET key=a | mg a v k\r\n",
                            "meta SET key=b quiet not-plain | ms b 2 q MA\r\nhi",
                            "meta DELETE key=a quiet | md YQ== b q\r\n",
                            "reply MN\r\n",
                            "meta SET key=c plain | ms c 1 T5\r\nz");
        }

        @Test
        void metaCommandsKnowWhichCountersTheirRepliesMove() {
            assertThat(metaCounters("mg a v\r\nmg a T30 v\r\nms a 1 C5\r\nx\r\nms a 1 MR C5\r\nx\r\n"
                            + "ms a 1 MA C5\r\nx\r\nms a 1 I\r\nx\r\nmd a q\r\nmd a I\r\nma a\r\nma a MD\r\nma a M-\r\n"
                            + "me a\r\n"))
                    .containsExactly(
                            MetaRequest.Counter.GET,
                            MetaRequest.Counter.GET_TOUCHING,
                            MetaRequest.Counter.SET_CAS,
                            MetaRequest.Counter.SET_CAS,
                            MetaRequest.Counter.SET,
                            MetaRequest.Counter.SET,
                            MetaRequest.Counter.DELETE,
                            MetaRequest.Counter.DELETE_INVALIDATING,
                            MetaRequest.Counter.INCR,
                            MetaRequest.Counter.DECR,
                            MetaRequest.Counter.DECR,
                            MetaRequest.Counter.NONE);
        }

        @Test
        void metaErrorsAreMemcachedsAndABadChunkLosesNothing() {
            assertThat(feed("mg\r\nmg " + KEY_251 + " v\r\nms k abc\r\nms k 2\r\nabc\r\n"))
                    .containsExactly(ERROR, BAD_FORMAT, BAD_FORMAT, "reply CLIENT_ERROR bad data chunk\r\n", ERROR);
        }

        @Test
        void meWithoutAKeyIsABadFormatWhereTheOtherMetaCommandsAreAnError() {
            assertThat(feed("me\r\nme \r\nmg\r\nmd\r\nma\r\nms\r\n"))
                    .containsExactly(BAD_FORMAT, BAD_FORMAT, ERROR, ERROR, ERROR, ERROR);
        }

        @Test
        void anMsRefusedForItsFlagsIsAnsweredSoWhateverItsDataChunkHolds() {
            assertThat(feed("ms k 3 MX\r\nabcde\r\nms k 2 Z\r\nabc\r\nms k 2 Tx F\r\nabc\r\nms k 2 F\r\nabc\r\n"
                            + "ms k 2 T1 T2\r\nabc\r\nms k 2 O" + "x".repeat(33)
                            + " MX\r\nabc\r\nms k:e 2 b\r\nabc\r\n"))
                    .containsExactly(
                            "reply CLIENT_ERROR invalid mode for ms M token\r\n",
                            ERROR,
                            "reply CLIENT_ERROR invalid flag\r\n",
                            ERROR,
                            "reply CLIENT_ERROR bad token in command line format\r\n",
                            ERROR,
                            BAD_FORMAT,
                            ERROR,
                            "reply CLIENT_ERROR duplicate flag\r\n",
                            ERROR,
                            "reply CLIENT_ERROR invalid mode for ms M token\r\n",
                            ERROR,
                            "reply CLIENT_ERROR error decoding key\r\n",
                            ERROR);
        }

        @Test
        void anMsWhoseFlagsPassKeepsItsLineForTheServerWhenItsChunkIsGood() {
            assertThat(feed("ms k 2 Z\r\nab\r\nms k 2 q\r\nabc\r\n"))
                    .containsExactly("meta SET key=k plain | ms k 2 Z\r\nab", BAD_DATA_CHUNK, ERROR);
        }

        @Test
        void anMsRefusedForItsFlagsIsNotTooLargeButRefused() {
            channel = newChannel(10);
            assertThat(feed("ms k 11 Y\r\n" + "v".repeat(11) + "\r\nms k 11\r\n" + "v".repeat(11) + "\r\n"))
                    .containsExactly("reply CLIENT_ERROR invalid flag\r\n", "oversized set k");
        }

        @Test
        void anMsMemcachedRefusesBeforeItsDataLengthLeavesItsDataToBeReadAsACommand() {
            assertThat(feed("ms k 2" + " v".repeat(17) + "\r\nhi\r\n"))
                    .containsExactly("reply CLIENT_ERROR options flags too long\r\n", ERROR);
        }

        @Test
        void quitEndsDecoding() {
            assertThat(feed("get a\r\nquit\r\nget b\r\n")).containsExactly("get a\r\n", "quit\r\n");
            assertThat(feed("get c\r\n")).isEmpty();
        }

        @Test
        void nothingIsDecodedAfterStop() {
            channel.pipeline().get(TextRequestDecoder.class).stop();

            assertThat(feed("get a\r\n")).isEmpty();
        }
    }

    @Nested
    class UnknownInput {

        @Test
        void anEmptyLineIsAnError() {
            assertThat(feed("\r\n\n   \r\n")).containsExactly(ERROR, ERROR, ERROR);
        }

        @Test
        void anUnknownCommandIsAnError() {
            assertThat(feed("foo\r\nx\r\nGET a\r\nsets a 0 0 1\r\n")).containsExactly(ERROR, ERROR, ERROR, ERROR);
        }

        @Test
        void anHttpRequestClosesTheConnectionWithoutAReply() {
            assertThat(feed("GET / HTTP/1.1\r\nHost: x\r\n\r\n")).containsExactly("reply-and-close ");
        }

        @Test
        void anyLineEndingInAnHttpVersionCloses() {
            assertThat(feed("HTTP/1.1\r\nget a\r\n")).containsExactly("reply-and-close ");
        }

        @Test
        void anHttpVersionOnlyCountsAsTheLastTokenOfAnUnknownCommand() {
            assertThat(feed("get a HTTP/1.1\r\nHTTP/1.1 foo\r\nfoo xHTTP/\r\n"))
                    .containsExactly("get a HTTP/1.1\r\n", ERROR, ERROR);
        }
    }

    @Nested
    class LineBounds {

        @Test
        void aCommandLineMayReach2048BytesWithoutANewlineThenTheConnectionClosesSilently() {
            String head = "set " + "k".repeat(2044);

            assertThat(feed(head)).isEmpty();
            // memcached: a line that is no multiget and has no newline in 2048 bytes is dropped unanswered
            assertThat(feed("k")).containsExactly("reply-and-close ");
            assertThat(feed(" 0 0 1\r\nx\r\nget a\r\n")).isEmpty();
        }

        @Test
        void aLongLineIsJudgedOnWhatOneBurstOfReadsBrought() {
            String line = "delete k" + "x".repeat(8992);
            List<String> pieces = new ArrayList<>();
            for (int at = 0; at < line.length(); at += 512) {
                pieces.add(line.substring(at, Math.min(line.length(), at + 512)));
            }
            pieces.add("\r\n");

            // memcached reads the whole line at once: small socket reads of one burst must not close it
            assertThat(feedOneBurst(pieces.toArray(new String[0]))).containsExactly(BAD_FORMAT);
            assertThat(feed("get a\r\n")).containsExactly("get a\r\n");
        }

        @Test
        void aLineOfExactly2048BytesMayWaitForItsNewline() {
            assertThat(feed("delete k" + "x".repeat(2039) + "\r")).isEmpty();
            assertThat(feed("\n")).containsExactly(BAD_FORMAT);
            assertThat(feed("delete k" + "x".repeat(2040))).isEmpty();
            assertThat(feed("\r\n")).containsExactly(BAD_FORMAT);
        }

        @Test
        void aLineOf2049BytesWithoutItsNewlineClosesAtTheEndOfTheBurst() {
            assertThat(feedOneBurst("delete k" + "x".repeat(1000), "x".repeat(1041)))
                    .containsExactly("reply-and-close ");
            assertThat(feed("\r\nget a\r\n")).isEmpty();
        }

        @Test
        void aLineLongerThanMemcachedsReadBufferClosesAsSoonAsItIsSeen() {
            // memcached's 16 KB buffer fills without a newline: it closes without waiting for more
            assertThat(feedOneBurst("delete k" + "x".repeat(16376), "x")).containsExactly("reply-and-close ");
        }

        @Test
        void aRetrievalLineMayGrowPast2048BytesInPieces() {
            StringBuilder line = new StringBuilder("get");
            for (int i = 0; i < 2000; i++) {
                line.append(" k").append(i);
            }

            for (int i = 0; i < line.length(); i += 1000) {
                assertThat(feed(line.substring(i, Math.min(line.length(), i + 1000))))
                        .isEmpty();
            }
            assertThat(feed("\r\n")).containsExactly(line + "\r\n");
        }

        @Test
        void aRetrievalLineMayReachMaxRetrievalLineWithoutANewline() {
            String head = "  gets " + "k ".repeat((MAX_RETRIEVAL_LINE - 7) / 2) + "k";
            assertThat(head).hasSize(MAX_RETRIEVAL_LINE);

            assertThat(feed(head)).isEmpty();
            assertThat(feed("k")).containsExactly(LINE_TOO_LONG);
        }

        @Test
        void gatLinesHaveTheCommandBoundAsInMemcached() {
            // memcached spares only get and gets from its 2048-byte bound
            assertThat(feed("gat 0 " + "k ".repeat(2000))).containsExactly("reply-and-close ");
        }

        @Test
        void aWholeLineLongerThanBothBoundsCloses() {
            assertThat(feed("get " + "k ".repeat(MAX_RETRIEVAL_LINE / 2) + "\r\n"))
                    .containsExactly(LINE_TOO_LONG);
        }

        @Test
        void aLongStorageLineThatArrivesWholeIsParsed() {
            // memcached parses whatever one read brought with its newline: here, a key too long
            assertThat(feed("set " + "k".repeat(3000) + " 0 0 1\r\nx\r\n")).containsExactly(BAD_FORMAT, ERROR);
        }
    }

    @Nested
    class Pipelining {

        private static final String SCRIPT = "get a b\r\n"
                + "set k 1 2 5\r\nhe\r\nl\r\n"
                + "gat 10 x\r\n"
                + "delete k noreply\r\n"
                + "incr n 7\r\n"
                + "set k 0 0 1\r\nab\r\n"
                + "touch t 5\r\n"
                + "cas c 3 0 2 42\r\nhi\r\n"
                + "set big 0 0 20\r\n01234567890123456789\r\n"
                + "bogus\r\n"
                + "gets " + KEY_250 + "\r\n"
                + "verbosity 1 noreply\r\n"
                + "quit\r\n"
                + "get never\r\n";

        private static final List<String> EXPECTED = List.of(
                "get a b\r\n",
                "set k 1 2 5\r\nhe\r\nl\r\n",
                "gat 10 x\r\n",
                "delete k noreply\r\n",
                "incr n 7\r\n",
                BAD_DATA_CHUNK,
                ERROR,
                "touch t 5\r\n",
                "cas c 3 0 2 42\r\nhi\r\n",
                "oversized set big",
                ERROR,
                "gets " + KEY_250 + "\r\n",
                "verbosity 1 noreply\r\n",
                "quit\r\n");

        @Test
        void pipelinedRequestsDecodeInOrder() {
            assertThat(decodeInChunks(SCRIPT.getBytes(ISO_8859_1), SCRIPT.length()))
                    .isEqualTo(EXPECTED);
        }

        @Test
        void pipelinedRequestsDecodeFedByteByByte() {
            assertThat(decodeInChunks(SCRIPT.getBytes(ISO_8859_1), 1)).isEqualTo(EXPECTED);
        }

        @Test
        void pipelinedRequestsDecodeSplitAtAnyByte() {
            byte[] script = SCRIPT.getBytes(ISO_8859_1);
            for (int cut = 1; cut < script.length; cut++) {
                List<String> decoded =
                        decode(10, Arrays.copyOfRange(script, 0, cut), Arrays.copyOfRange(script, cut, script.length));

                assertThat(decoded).as("split after byte %d", cut).isEqualTo(EXPECTED);
            }
        }

        @Test
        void pipelinedRequestsDecodeInRandomChunks() {
            byte[] script = SCRIPT.getBytes(ISO_8859_1);
            Random random = new Random(42);
            for (int run = 0; run < 200; run++) {
                List<byte[]> chunks = new ArrayList<>();
                for (int at = 0; at < script.length; ) {
                    int n = Math.min(script.length - at, 1 + random.nextInt(40));
                    chunks.add(Arrays.copyOfRange(script, at, at + n));
                    at += n;
                }

                assertThat(decode(10, chunks.toArray(new byte[0][])))
                        .as("run %d", run)
                        .isEqualTo(EXPECTED);
            }
        }

        private List<String> decodeInChunks(byte[] script, int chunkSize) {
            List<byte[]> chunks = new ArrayList<>();
            for (int at = 0; at < script.length; at += chunkSize) {
                chunks.add(Arrays.copyOfRange(script, at, Math.min(script.length, at + chunkSize)));
            }
            return decode(10, chunks.toArray(new byte[0][]));
        }

        /** Decodes on a fresh connection whose item size limit is {@code maxItemSize}. */
        private List<String> decode(int maxItemSize, byte[]... chunks) {
            channel = newChannel(maxItemSize);
            List<String> decoded = new ArrayList<>();
            for (byte[] chunk : chunks) {
                decoded.addAll(feed(chunk));
            }
            return decoded;
        }
    }

    private EmbeddedChannel newChannel(int maxItemSize) {
        EmbeddedChannel ch = new EmbeddedChannel(new TextRequestDecoder(maxItemSize, MAX_RETRIEVAL_LINE));
        channels.add(ch);
        return ch;
    }

    private List<String> feed(String input) {
        return feed(input.getBytes(ISO_8859_1));
    }

    /** Writes one chunk to the channel and returns everything decoded so far, values released. */
    private List<String> feed(byte[] chunk) {
        ByteBuf buf = Unpooled.wrappedBuffer(chunk);
        fed.add(buf);
        channel.writeInbound(buf);
        List<String> decoded = new ArrayList<>();
        Object msg;
        while ((msg = channel.readInbound()) != null) {
            decoded.add(show((Request) msg));
            if (msg instanceof StoreRequest s) {
                s.release();
            }
        }
        return decoded;
    }

    /** Writes the chunks in one read burst (one channelReadComplete) and returns what was decoded. */
    private List<String> feedOneBurst(String... chunks) {
        ByteBuf[] bufs = new ByteBuf[chunks.length];
        for (int i = 0; i < chunks.length; i++) {
            bufs[i] = Unpooled.wrappedBuffer(chunks[i].getBytes(ISO_8859_1));
            fed.add(bufs[i]);
        }
        channel.writeInbound((Object[]) bufs);
        List<String> decoded = new ArrayList<>();
        Object msg;
        while ((msg = channel.readInbound()) != null) {
            decoded.add(show((Request) msg));
        }
        return decoded;
    }

    /** Writes {@code input} and returns the counter of every meta command decoded, requests released. */
    private List<MetaRequest.Counter> metaCounters(String input) {
        ByteBuf buf = Unpooled.wrappedBuffer(input.getBytes(ISO_8859_1));
        fed.add(buf);
        channel.writeInbound(buf);
        List<MetaRequest.Counter> counters = new ArrayList<>();
        Object msg;
        while ((msg = channel.readInbound()) != null) {
            MetaRequest meta = (MetaRequest) msg;
            counters.add(meta.counter());
            meta.release();
        }
        return counters;
    }

    /** A request in its canonical wire form, or a local reply as "reply ..." (see the class comment). */
    private static String show(Request request) {
        if (request instanceof LocalReply r) {
            return (r.closeAfter() ? "reply-and-close " : "reply ") + new String(r.bytes(), ISO_8859_1);
        } else if (request instanceof CutShortRetrievalRequest r) {
            return "fetch then refuse: " + show(r.fetched());
        } else if (request instanceof RetrievalRequest r) {
            StringBuilder s = new StringBuilder(r.kind().command());
            if (r.kind().touching()) {
                s.append(' ').append(r.exptime());
            }
            for (byte[] key : r.keys()) {
                s.append(' ').append(new String(key, ISO_8859_1));
            }
            return s.append("\r\n").toString();
        } else if (request instanceof StoreRequest r) {
            int length = r.value().readableBytes();
            String value = length > 64 ? "<" + length + " bytes>" : r.value().toString(ISO_8859_1);
            return r.kind().command() + " " + new String(r.key(), ISO_8859_1) + " "
                    + Integer.toUnsignedString(r.flags()) + " " + r.exptime() + " " + length
                    + (r.kind() == StoreRequest.Kind.CAS ? " " + Long.toUnsignedString(r.cas()) : "")
                    + noreply(r.noreply()) + "\r\n" + value + "\r\n";
        } else if (request instanceof OversizedStoreRequest r) {
            return "oversized " + r.kind().command() + " " + new String(r.key(), ISO_8859_1) + noreply(r.noreply());
        } else if (request instanceof DeleteRequest r) {
            return "delete " + new String(r.key(), ISO_8859_1) + noreply(r.noreply()) + "\r\n";
        } else if (request instanceof ArithmeticRequest r) {
            return (r.increment() ? "incr " : "decr ") + new String(r.key(), ISO_8859_1) + " "
                    + Long.toUnsignedString(r.delta()) + noreply(r.noreply()) + "\r\n";
        } else if (request instanceof TouchRequest r) {
            return "touch " + new String(r.key(), ISO_8859_1) + " " + r.exptime() + noreply(r.noreply()) + "\r\n";
        } else if (request instanceof FlushAllRequest r) {
            return "flush_all" + (r.delay() == null ? "" : " " + r.delay()) + noreply(r.noreply()) + "\r\n";
        } else if (request instanceof VerbosityRequest r) {
            return "verbosity " + Integer.toUnsignedString(r.level()) + noreply(r.noreply()) + "\r\n";
        } else if (request instanceof StatsRequest r) {
            return r.group().isEmpty() ? "stats\r\n" : "stats " + r.group() + "\r\n";
        } else if (request instanceof VersionRequest) {
            return "version\r\n";
        } else if (request instanceof QuitRequest) {
            return "quit\r\n";
        } else if (request instanceof MetaRequest r) {
            String shown = "meta " + r.kind() + " key=" + new String(r.key(), ISO_8859_1) + (r.quiet() ? " quiet" : "")
                    + (r.kind() == MetaRequest.Kind.SET ? (r.plainSet() ? " plain" : " not-plain") : "") + " | "
                    + r.line().toString(ISO_8859_1)
                    + (r.value() == null ? "" : r.value().toString(ISO_8859_1));
            r.release();
            return shown;
        }
        throw new AssertionError("unexpected request " + request);
    }

    private static String noreply(boolean noreply) {
        return noreply ? " noreply" : "";
    }
}
