package io.jmagent.routing;

import io.jmagent.bench.BenchKeys;
import io.jmagent.protocol.RetrievalRequest;
import io.jmagent.protocol.StoreRequest;
import io.jmagent.protocol.TextReplies;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Encoding requests for a server with {@link TextEncoder} (package-private, hence this package):
 * a one-key get, a 10-key get, and a set of a 100-byte value (line plus value plus CRLF as a
 * composite buffer), and for comparison the same set with the value copied into one buffer.
 * Each encoded buffer is released, as the channel would after writing it.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class TextEncoderBenchmark {

    private final ByteBufAllocator alloc = ByteBufAllocator.DEFAULT;
    private RetrievalRequest get1;
    private RetrievalRequest get10;
    private byte[] key;
    private ByteBuf value;

    @Setup
    public void setUp() {
        byte[][] keys = BenchKeys.keys(10, 56);
        get1 = new RetrievalRequest(RetrievalRequest.Kind.GET, 0, List.of(keys[0]));
        get10 = new RetrievalRequest(RetrievalRequest.Kind.GET, 0, Arrays.asList(keys));
        key = keys[0];
        value = alloc.directBuffer(100).writeBytes(new byte[100]);
    }

    @TearDown
    public void tearDown() {
        value.release();
    }

    @Benchmark
    public int retrieval1() {
        return encodedLength(TextEncoder.retrieval(alloc, get1, get1.keys()));
    }

    @Benchmark
    public int retrieval10() {
        return encodedLength(TextEncoder.retrieval(alloc, get10, get10.keys()));
    }

    @Benchmark
    public int store100() {
        return encodedLength(TextEncoder.store(alloc, StoreRequest.Kind.SET, key, 0, 0, 0, value.retainedSlice()));
    }

    /**
     * Not jmagent's encoding: the alternative to {@link #store100} that copies a small value into
     * the command line's buffer instead of composing three buffers, to show what that would cost.
     */
    @Benchmark
    public int store100CopiedIntoLine() {
        ByteBuf v = value.retainedSlice();
        try {
            ByteBuf b = alloc.buffer(key.length + 64 + v.readableBytes());
            ByteBufUtil.writeAscii(b, "set ");
            b.writeBytes(key).writeByte(' ');
            ByteBufUtil.writeAscii(b, "0 0 ");
            ByteBufUtil.writeAscii(b, Integer.toString(v.readableBytes()));
            b.writeBytes(TextReplies.CRLF).writeBytes(v).writeBytes(TextReplies.CRLF);
            return encodedLength(b);
        } finally {
            v.release();
        }
    }

    private static int encodedLength(ByteBuf encoded) {
        int n = encoded.readableBytes();
        encoded.release();
        return n;
    }
}
