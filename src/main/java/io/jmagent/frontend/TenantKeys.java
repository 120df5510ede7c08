package io.jmagent.frontend;

import static java.nio.charset.StandardCharsets.ISO_8859_1;

import io.jmagent.protocol.ArithmeticRequest;
import io.jmagent.protocol.CutShortRetrievalRequest;
import io.jmagent.protocol.DeleteRequest;
import io.jmagent.protocol.MetaRequest;
import io.jmagent.protocol.OversizedStoreRequest;
import io.jmagent.protocol.Request;
import io.jmagent.protocol.RetrievalRequest;
import io.jmagent.protocol.StoreRequest;
import io.jmagent.protocol.TextReplies;
import io.jmagent.protocol.TextRequestDecoder;
import io.jmagent.protocol.TouchRequest;
import io.jmagent.routing.ReplySink;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;

/**
 * A tenant's key prefix on the text and meta protocols: {@link #prefixed} puts it before every key
 * of a request, so the servers only ever see the tenant's own keys, and {@link #stripping} takes
 * it off every key a reply gives back (VALUE lines; a meta reply's {@code k} flag and {@code me}'s
 * key, in base64 where the client asked for it), so the client sees its keys as it wrote them.
 * The decoder already refused keys too long to take the prefix ({@code limitKeys}); a meta key in
 * base64 is checked here. Stateless beyond the prefix; one per tenant client.
 */
final class TenantKeys {

    private final byte[] prefix;

    TenantKeys(byte[] prefix) {
        this.prefix = prefix;
    }

    byte[] prefix() {
        return prefix;
    }

    byte[] key(byte[] key) {
        byte[] k = Arrays.copyOf(prefix, prefix.length + key.length);
        System.arraycopy(key, 0, k, prefix.length, key.length);
        return k;
    }

    /**
     * {@code r} with the prefix before each key; null when a key would be over memcached's 250
     * bytes with it (the caller answers as memcached answers a key too long; what the request
     * carried is released). The decoder refuses such keys once the tenant is known; this catches
     * those decoded before (in the same read as the login). A request that carries bytes hands them
     * to the result.
     */
    Request prefixed(Request r) {
        if (r instanceof RetrievalRequest g) {
            return fits(g.keys()) ? retrieval(g) : null;
        } else if (r instanceof CutShortRetrievalRequest c) {
            return fits(c.fetched().keys()) ? new CutShortRetrievalRequest(retrieval(c.fetched())) : null;
        } else if (r instanceof StoreRequest s) {
            if (!fits(s.key())) {
                s.release();
                return null;
            }
            return new StoreRequest(s.kind(), key(s.key()), s.flags(), s.exptime(), s.cas(), s.noreply(), s.value());
        } else if (r instanceof OversizedStoreRequest o) {
            return fits(o.key()) ? new OversizedStoreRequest(o.kind(), key(o.key()), o.noreply()) : null;
        } else if (r instanceof DeleteRequest d) {
            return fits(d.key()) ? new DeleteRequest(key(d.key()), d.noreply()) : null;
        } else if (r instanceof ArithmeticRequest a) {
            return fits(a.key()) ? new ArithmeticRequest(a.increment(), key(a.key()), a.delta(), a.noreply()) : null;
        } else if (r instanceof TouchRequest t) {
            return fits(t.key()) ? new TouchRequest(key(t.key()), t.exptime(), t.noreply()) : null;
        } else if (r instanceof MetaRequest m) {
            return meta(m);
        }
        return r;
    }

    /** {@code key} with the prefix is within memcached's 250 bytes. */
    boolean fits(byte[] key) {
        return prefix.length + key.length <= TextRequestDecoder.MAX_KEY_LENGTH;
    }

    private boolean fits(List<byte[]> keys) {
        for (byte[] k : keys) {
            if (!fits(k)) {
                return false;
            }
        }
        return true;
    }

    private RetrievalRequest retrieval(RetrievalRequest g) {
        List<byte[]> keys = new ArrayList<>(g.keys().size());
        for (byte[] k : g.keys()) {
            keys.add(key(k));
        }
        return new RetrievalRequest(g.kind(), g.exptime(), keys);
    }

    /**
     * The meta line with its key token replaced: the prefixed key, in base64 if the client wrote it
     * so; the line the backup gets instead ({@code mirrorLine}, when the parser made one from the
     * client's line) likewise.
     */
    private MetaRequest meta(MetaRequest m) {
        byte[] key = key(m.key());
        String token = m.base64() ? Base64.getEncoder().encodeToString(key) : new String(key, ISO_8859_1);
        if (key.length > TextRequestDecoder.MAX_KEY_LENGTH || token.length() > TextRequestDecoder.MAX_KEY_LENGTH) {
            m.release();
            return null;
        }
        ByteBuf mirror = m.mirrorLine() == null ? null : withKeyToken(m.mirrorLine(), token);
        return new MetaRequest(
                m.kind(),
                key,
                token,
                m.base64(),
                m.quiet(),
                m.plain(),
                m.counter(),
                withKeyToken(m.line(), token),
                m.value(),
                mirror);
    }

    /** {@code line} ("mX KEY flags...\r\n") with {@code token} for its key; {@code line} is released. */
    private static ByteBuf withKeyToken(ByteBuf line, String token) {
        int start = line.readerIndex();
        int end = line.writerIndex();
        int keyStart = line.indexOf(start, end, (byte) ' ');
        while (keyStart < end && line.getByte(keyStart) == ' ') {
            keyStart++;
        }
        int keyEnd = keyStart;
        while (keyEnd < end && line.getByte(keyEnd) != ' ' && line.getByte(keyEnd) != '\r') {
            keyEnd++;
        }
        ByteBuf next = Unpooled.buffer(end - start + token.length());
        next.writeBytes(line, start, keyStart - start);
        next.writeCharSequence(token, ISO_8859_1);
        next.writeBytes(line, keyEnd, end - keyEnd);
        line.release();
        return next;
    }

    /** {@code sink}, or one that takes the prefix off the keys in the reply to {@code original} first. */
    ReplySink stripping(Request original, ReplySink sink, ByteBufAllocator alloc) {
        if (original instanceof RetrievalRequest) {
            return bytes -> sink.reply(stripValues(bytes, alloc));
        }
        if (original instanceof MetaRequest m && (m.kind() == MetaRequest.Kind.DEBUG || returnsKey(m))) {
            return bytes -> sink.reply(stripMetaKey(bytes, m.kind() == MetaRequest.Kind.DEBUG, m.base64()));
        }
        return sink;
    }

    /** The request names the {@code k} flag (return the key): a token after the key starting with k. */
    private static boolean returnsKey(MetaRequest m) {
        String line = m.line().toString(ISO_8859_1);
        String[] tokens = line.strip().split(" +");
        for (int i = 2; i < tokens.length; i++) {
            if (tokens[i].startsWith("k")) {
                return true;
            }
        }
        return false;
    }

    /** VALUE blocks with the prefix cut out of each key; END and error lines as they are. */
    private ByteBuf stripValues(ByteBuf in, ByteBufAllocator alloc) {
        List<int[]> blocks = TextReplies.valueBlocks(in);
        if (blocks == null || blocks.isEmpty()) {
            return in;
        }
        CompositeByteBuf out = alloc.compositeBuffer(blocks.size() + 1);
        int copied = in.readerIndex();
        for (int[] block : blocks) {
            if (block[2] - block[1] >= prefix.length) {
                out.addComponent(true, in.retainedSlice(copied, block[1] - copied));
                copied = block[1] + prefix.length;
            }
        }
        out.addComponent(true, in.retainedSlice(copied, in.writerIndex() - copied));
        in.release();
        return out;
    }

    /** A meta reply whose first line's key (me: the token after ME; otherwise the k flag) loses the prefix. */
    private ByteBuf stripMetaKey(ByteBuf in, boolean debug, boolean base64) {
        int start = in.readerIndex();
        int lf = in.indexOf(start, in.writerIndex(), (byte) '\n');
        if (lf < 0) {
            return in;
        }
        String first = in.toString(start, lf + 1 - start, ISO_8859_1);
        String body = first.endsWith("\r\n") ? first.substring(0, first.length() - 2) : first.strip();
        String[] tokens = body.split(" ", -1);
        boolean changed = false;
        if (debug) {
            if (tokens.length > 1 && tokens[0].equals("ME")) {
                String k = strip(tokens[1], base64);
                changed = k != null;
                tokens[1] = changed ? k : tokens[1];
            }
        } else {
            for (int t = 1; t < tokens.length; t++) {
                if (tokens[t].startsWith("k")) {
                    String k = strip(tokens[t].substring(1), base64);
                    if (k != null) {
                        tokens[t] = "k" + k;
                        changed = true;
                    }
                }
            }
        }
        if (!changed) {
            return in;
        }
        ByteBuf out = Unpooled.buffer(in.readableBytes());
        out.writeCharSequence(String.join(" ", tokens) + "\r\n", ISO_8859_1);
        out.writeBytes(in, lf + 1, in.writerIndex() - lf - 1);
        in.release();
        return out;
    }

    /** {@code token} without the prefix (decoded and encoded again in base64), or null if it does not start with it. */
    private String strip(String token, boolean base64) {
        byte[] key;
        try {
            key = base64 ? Base64.getDecoder().decode(token) : token.getBytes(ISO_8859_1);
        } catch (IllegalArgumentException e) {
            return null;
        }
        if (key.length < prefix.length || !Arrays.equals(key, 0, prefix.length, prefix, 0, prefix.length)) {
            return null;
        }
        byte[] own = Arrays.copyOfRange(key, prefix.length, key.length);
        return base64 ? Base64.getEncoder().encodeToString(own) : new String(own, ISO_8859_1);
    }
}
