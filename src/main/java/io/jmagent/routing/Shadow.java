package io.jmagent.routing;

import io.jmagent.config.ShadowSpec;
import io.jmagent.metrics.ShadowCounters;
import io.jmagent.protocol.ArithmeticRequest;
import io.jmagent.protocol.DeleteRequest;
import io.jmagent.protocol.MetaRequest;
import io.jmagent.protocol.Request;
import io.jmagent.protocol.RetrievalRequest;
import io.jmagent.protocol.StoreRequest;
import io.jmagent.protocol.TextReplies;
import io.jmagent.protocol.TouchRequest;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Function;

/**
 * A pool's shadow (config file {@code shadow:}): a share of its keys, picked by their hash so the
 * same keys every time, also goes to another pool; that pool's answer is compared with the real
 * one and counted, never returned. At most {@code max-in-flight} shadow requests are on their way
 * at once (over every client): past that a request is not shadowed (counted as skipped), so a slow
 * or frozen shadow costs the real traffic nothing but the copy. Hits are compared by key, flags
 * and data (a cas differs between farms); other replies byte for byte. Shared by the pool's clients.
 */
public final class Shadow {

    private static final int SCALE = 10_000;

    private final ShadowSpec spec;
    private final int threshold;
    private final Function<String, Router> pools;
    private final AtomicInteger inFlight = new AtomicInteger();
    private final LongAdder requests = new LongAdder();
    private final LongAdder same = new LongAdder();
    private final LongAdder different = new LongAdder();
    private final LongAdder failed = new LongAdder();
    private final LongAdder skipped = new LongAdder();
    private final ShadowCounters counters;

    public Shadow(ShadowSpec spec, Function<String, Router> pools) {
        this.spec = spec;
        this.threshold = (int) Math.round(spec.share() * SCALE);
        this.pools = pools;
        this.counters = new ShadowCounters(
                spec.pool(), requests::sum, same::sum, different::sum, failed::sum, skipped::sum, inFlight::get);
    }

    public ShadowCounters counters() {
        return counters;
    }

    /** Whether {@code key} is in the shadowed share: the same answer for a key every time, on every proxy. */
    public boolean samples(byte[] key) {
        return Math.floorMod(KetamaRing.hash(key), SCALE) < threshold;
    }

    /**
     * Sends the shadowed part of {@code request} (before it is routed: it takes copies of what the
     * request carries) to the shadow pool, and returns the sink the real reply must go through to
     * be compared ({@code sink} itself when nothing is shadowed).
     */
    public ReplySink shadow(Request request, Function<Router, Router.RouteContext> contexts, ReplySink sink) {
        Request copy = sampledCopy(request);
        if (copy == null) {
            return sink;
        }
        Router shadowRouter = pools.apply(spec.pool());
        if (shadowRouter == null || !enter()) {
            release(copy);
            return sink;
        }
        requests.increment();
        Comparison c = new Comparison(copy instanceof RetrievalRequest r ? r.keys() : null);
        shadowRouter.route(copy, contexts.apply(shadowRouter), c::shadowReply);
        return bytes -> {
            c.realReply(bytes.retainedDuplicate());
            sink.reply(bytes);
        };
    }

    private boolean enter() {
        while (true) {
            int n = inFlight.get();
            if (n >= spec.maxInFlight()) {
                skipped.increment();
                return false;
            }
            if (inFlight.compareAndSet(n, n + 1)) {
                return true;
            }
        }
    }

    /** The request for the shadow: a copy, a multi-get of its sampled keys only; null when none is sampled. */
    private Request sampledCopy(Request request) {
        if (request instanceof RetrievalRequest r) {
            List<byte[]> keys = new ArrayList<>();
            for (byte[] k : r.keys()) {
                if (samples(k)) {
                    keys.add(k);
                }
            }
            return keys.isEmpty() ? null : new RetrievalRequest(r.kind(), r.exptime(), keys);
        } else if (request instanceof StoreRequest s) {
            return samples(s.key())
                    ? new StoreRequest(
                            s.kind(),
                            s.key(),
                            s.flags(),
                            s.exptime(),
                            s.cas(),
                            s.noreply(),
                            s.value().retainedDuplicate())
                    : null;
        } else if (request instanceof DeleteRequest d) {
            return samples(d.key()) ? d : null;
        } else if (request instanceof ArithmeticRequest a) {
            return samples(a.key()) ? a : null;
        } else if (request instanceof TouchRequest t) {
            return samples(t.key()) ? t : null;
        } else if (request instanceof MetaRequest m) {
            return samples(m.key())
                    ? new MetaRequest(
                            m.kind(),
                            m.key(),
                            m.keyToken(),
                            m.base64(),
                            m.quiet(),
                            m.plain(),
                            m.counter(),
                            m.line().retainedDuplicate(),
                            m.value() == null ? null : m.value().retainedDuplicate(),
                            m.mirrorLine() == null ? null : m.mirrorLine().retainedDuplicate())
                    : null;
        }
        return null;
    }

    private static void release(Request r) {
        if (r instanceof StoreRequest s) {
            s.release();
        } else if (r instanceof MetaRequest m) {
            m.release();
        }
    }

    /** The real and the shadow reply of one request, compared once both came (on the client's loop). */
    private final class Comparison {
        /** The keys the shadow was asked for, for a multi-get; null otherwise. */
        private final List<byte[]> shadowKeys;

        private ByteBuf real;
        private ByteBuf shadow;

        Comparison(List<byte[]> shadowKeys) {
            this.shadowKeys = shadowKeys;
        }

        void realReply(ByteBuf bytes) {
            real = bytes;
            compareIfBoth();
        }

        void shadowReply(ByteBuf bytes) {
            shadow = bytes;
            compareIfBoth();
        }

        /** Once both came: counted, released, and the shadow request no longer in flight (in that order). */
        private void compareIfBoth() {
            if (real == null || shadow == null) {
                return;
            }
            if (TextReplies.startsWith(shadow, TextReplies.SERVER_ERROR_PREFIX)) {
                failed.increment();
            } else if (shadowKeys != null ? sameHits() : ByteBufUtil.equals(real, shadow)) {
                same.increment();
            } else {
                different.increment();
            }
            real.release();
            shadow.release();
            inFlight.decrementAndGet();
        }

        /** The real reply's hits of the shadowed keys and the shadow's: same keys, flags and data, in order. */
        private boolean sameHits() {
            List<int[]> realBlocks = TextReplies.valueBlocks(real);
            List<int[]> shadowBlocks = TextReplies.valueBlocks(shadow);
            if (realBlocks == null || shadowBlocks == null) {
                return ByteBufUtil.equals(real, shadow);
            }
            List<String> realHits = new ArrayList<>();
            for (int[] b : realBlocks) {
                String hit = withoutCas(real, b);
                if (shadowKeys.stream().anyMatch(k -> keyIs(real, b, k))) {
                    realHits.add(hit);
                }
            }
            List<String> shadowHits = new ArrayList<>();
            for (int[] b : shadowBlocks) {
                shadowHits.add(withoutCas(shadow, b));
            }
            return realHits.equals(shadowHits);
        }

        /** A VALUE block as "key flags bytes" and its data, without a cas. */
        private String withoutCas(ByteBuf buf, int[] block) {
            String header = buf.toString(block[0], buf.indexOf(block[0], block[3], (byte) '\n') - block[0], US);
            String[] t = header.strip().split(" ");
            int dataStart = buf.indexOf(block[0], block[3], (byte) '\n') + 1;
            return t[1] + " " + t[2] + " " + t[3] + " " + buf.toString(dataStart, block[3] - dataStart, US);
        }

        private boolean keyIs(ByteBuf buf, int[] block, byte[] key) {
            if (block[2] - block[1] != key.length) {
                return false;
            }
            for (int i = 0; i < key.length; i++) {
                if (buf.getByte(block[1] + i) != key[i]) {
                    return false;
                }
            }
            return true;
        }
    }

    private static final java.nio.charset.Charset US = java.nio.charset.StandardCharsets.ISO_8859_1;
}
