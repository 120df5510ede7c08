package io.jmagent.protocol;

import io.jmagent.bench.BenchKeys;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Decoding one client request in the text protocol: {@code decode} calls the decoder directly
 * (its own cost), {@code decodeThroughPipeline} writes the bytes into an EmbeddedChannel (adds
 * ByteToMessageDecoder's cumulation and the pipeline). The requests are what memcaslap sends:
 * a get, a set of a 100-byte value, a 10-key get.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class TextRequestDecoderBenchmark {

    @Param({"get", "set100", "get10"})
    public String request;

    private TextRequestDecoder decoder;
    private ByteBuf input;
    private final List<Object> out = new ArrayList<>();
    private EmbeddedChannel channel;

    @Setup
    public void setUp() {
        byte[][] keys = BenchKeys.keys(10, 56);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        switch (request) {
            case "get" -> line(bytes, "get " + ascii(keys[0]));
            case "set100" -> {
                line(bytes, "set " + ascii(keys[0]) + " 0 0 100");
                line(bytes, "x".repeat(100));
            }
            case "get10" -> {
                StringBuilder sb = new StringBuilder("get");
                for (byte[] k : keys) {
                    sb.append(' ').append(ascii(k));
                }
                line(bytes, sb.toString());
            }
            default -> throw new IllegalArgumentException(request);
        }
        input = ByteBufAllocator.DEFAULT.directBuffer().writeBytes(bytes.toByteArray());
        decoder = new TextRequestDecoder(1024 * 1024, 1024 * 1024);
        channel = new EmbeddedChannel(new TextRequestDecoder(1024 * 1024, 1024 * 1024));
    }

    @TearDown
    public void tearDown() {
        channel.finishAndReleaseAll();
        input.release();
    }

    @Benchmark
    public Object decode() {
        input.readerIndex(0);
        decoder.decode(null, input, out);
        Object request = out.get(0);
        release(request);
        out.clear();
        return request;
    }

    @Benchmark
    public Object decodeThroughPipeline() {
        channel.writeInbound(input.retainedDuplicate());
        Object request = channel.readInbound();
        release(request);
        return request;
    }

    private static void release(Object request) {
        if (request instanceof StoreRequest s) {
            s.release();
        }
    }

    private static String ascii(byte[] b) {
        return new String(b, StandardCharsets.US_ASCII);
    }

    private static void line(ByteArrayOutputStream out, String line) {
        out.writeBytes((line + "\r\n").getBytes(StandardCharsets.US_ASCII));
    }
}
