package io.jmagent.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.util.ByteProcessor;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Token boundaries of a text command line, split on spaces only, as memcached's tokenize_command.
 * One per {@link TextRequestDecoder}, reused for every line and touched only from its event loop;
 * the tokens point into the decoder's buffer and are valid until the next {@link #split}.
 */
final class CommandTokens {
    /** Room for a storage command's 6 tokens and more; a longer line (a multi-get) grows them. */
    int[] starts = new int[8];

    private int[] ends = new int[8];
    int count;
    /** The longest key a command may name: memcached's 250, less a tenant's key prefix. */
    int keyLimit = TextRequestDecoder.MAX_KEY_LENGTH;

    void split(ByteBuf in, int from, int to) {
        count = 0;
        int s = from;
        while (s < to) {
            int space = in.forEachByte(s, to - s, ByteProcessor.FIND_ASCII_SPACE);
            int e = space < 0 ? to : space;
            if (e > s) {
                add(s, e);
            }
            s = e + 1;
        }
    }

    private void add(int s, int e) {
        if (count == starts.length) {
            starts = Arrays.copyOf(starts, count * 2);
            ends = Arrays.copyOf(ends, count * 2);
        }
        starts[count] = s;
        ends[count] = e;
        count++;
    }

    int length(int i) {
        return ends[i] - starts[i];
    }

    /** Token {@code i}, a key, is longer than {@link #keyLimit}: the line is refused as memcached refuses a key over 250. */
    boolean keyTooLong(int i) {
        return length(i) > keyLimit;
    }

    boolean is(ByteBuf in, int i, String word) {
        return length(i) == word.length() && startsWith(in, i, word);
    }

    boolean startsWith(ByteBuf in, int i, String prefix) {
        return startsWith(in, starts[i], ends[i], prefix);
    }

    /** memcached's set_noreply_maybe: the last token alone decides. */
    boolean noreplyMaybe(ByteBuf in) {
        return is(in, count - 1, "noreply");
    }

    byte[] bytes(ByteBuf in, int i) {
        byte[] b = new byte[length(i)];
        in.getBytes(starts[i], b);
        return b;
    }

    String string(ByteBuf in, int i) {
        return in.toString(starts[i], length(i), StandardCharsets.ISO_8859_1);
    }

    Integer int32(ByteBuf in, int i) {
        return TextNumbers.parseInt32Truncating(in, starts[i], ends[i]);
    }

    Integer uint32(ByteBuf in, int i) {
        return TextNumbers.parseUnsigned32Truncating(in, starts[i], ends[i]);
    }

    Long uint64(ByteBuf in, int i) {
        return TextNumbers.parseUnsigned64(in, starts[i], ends[i]);
    }

    /** True when the bytes of {@code in} from {@code i} (before {@code end}) start with {@code prefix}. */
    static boolean startsWith(ByteBuf in, int i, int end, String prefix) {
        if (end - i < prefix.length()) {
            return false;
        }
        for (int k = 0; k < prefix.length(); k++) {
            if (in.getByte(i + k) != prefix.charAt(k)) {
                return false;
            }
        }
        return true;
    }
}
