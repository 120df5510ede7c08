package io.jmagent.routing;

import io.jmagent.backend.ServerAddress;
import io.jmagent.bench.BenchKeys;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
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
import org.openjdk.jmh.annotations.Warmup;

/**
 * Placing a key: {@link KetamaRing#serverFor} over 3 and 30 servers (160 points each), and the
 * MD5 of the key alone, to show how much of the placement is hashing and how much the search.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class KetamaRingBenchmark {

    @Param({"3", "30"})
    public int servers;

    private KetamaRing ring;
    private byte[][] keys;
    private int next;
    private MessageDigest md5;

    @Setup
    public void setUp() throws NoSuchAlgorithmException {
        List<ServerAddress> list = new ArrayList<>();
        for (int i = 0; i < servers; i++) {
            list.add(new ServerAddress("10.0.0." + (i + 1), 11211, 1));
        }
        ring = new KetamaRing(list);
        keys = BenchKeys.keys(1024, 56);
        md5 = MessageDigest.getInstance("MD5");
    }

    @Benchmark
    public int serverFor() {
        return ring.serverFor(keys[next++ & 1023]);
    }

    @Benchmark
    public byte[] md5Only() {
        md5.reset();
        return md5.digest(keys[next++ & 1023]);
    }
}
