package io.jmagent.protocol;

import io.netty.buffer.ByteBuf;

/**
 * One binary-protocol request, validated: the header fields the reply needs (opcode, opaque,
 * cas) and the parsed extras. {@code value} is a retained slice (or null) and must be released
 * by whoever consumes the request. {@code opcode} is null for a command jmagent does not serve
 * (then {@code rawOpcode} says which); {@code closingStatus}, when not 0, marks a request that
 * broke the framing rules: it is answered with that status, then the connection closes;
 * {@code tooLarge} marks a storage request whose value was over the item size and was swallowed
 * unread. {@code keyPrefix} is how many leading bytes of {@code key} the client did not send (a
 * tenant's key prefix, {@link #withKeyPrefix}): replies give the client back {@link #clientKey}.
 */
public record BinaryRequest(
        BinaryOpcode opcode,
        int rawOpcode,
        int opaque,
        long cas,
        byte[] key,
        int flags,
        int exptime,
        long delta,
        long initial,
        ByteBuf value,
        int closingStatus,
        boolean tooLarge,
        int keyPrefix) {

    /** A request as the client sent it. */
    public BinaryRequest(
            BinaryOpcode opcode,
            int rawOpcode,
            int opaque,
            long cas,
            byte[] key,
            int flags,
            int exptime,
            long delta,
            long initial,
            ByteBuf value,
            int closingStatus,
            boolean tooLarge) {
        this(opcode, rawOpcode, opaque, cas, key, flags, exptime, delta, initial, value, closingStatus, tooLarge, 0);
    }

    /** This request with {@code prefix} before its key, the key the servers see; the value moves to the result. */
    public BinaryRequest withKeyPrefix(byte[] prefix) {
        byte[] k = new byte[prefix.length + key.length];
        System.arraycopy(prefix, 0, k, 0, prefix.length);
        System.arraycopy(key, 0, k, prefix.length, key.length);
        return new BinaryRequest(
                opcode,
                rawOpcode,
                opaque,
                cas,
                k,
                flags,
                exptime,
                delta,
                initial,
                value,
                closingStatus,
                tooLarge,
                keyPrefix + prefix.length);
    }

    /** The key as the client sent it. */
    public byte[] clientKey() {
        return keyPrefix == 0 ? key : java.util.Arrays.copyOfRange(key, keyPrefix, key.length);
    }

    public void release() {
        if (value != null && value.refCnt() > 0) {
            value.release();
        }
    }

    /**
     * The expiration as the text and meta commands say it. A binary expiration is unsigned 32 bits
     * (protocol_binary.h), a text one a signed int, where a negative value expires at once: past
     * 2^31 (2038), the text form is the latest it can say.
     */
    public int textExptime() {
        return exptime < 0 ? Integer.MAX_VALUE : exptime;
    }

    /** Not a request header at all: the connection is closed without a reply, as memcached does. */
    public boolean badMagic() {
        return rawOpcode < 0;
    }

    /** Broke the framing rules: answered {@link #closingStatus}, then the connection closes. */
    public boolean invalid() {
        return closingStatus != 0;
    }

    static BinaryRequest badMagicRequest() {
        return new BinaryRequest(
                null, -1, 0, 0, new byte[0], 0, 0, 0, 0, null, BinaryResponses.INVALID_ARGUMENTS, false);
    }

    static BinaryRequest closing(int rawOpcode, int opaque, int status) {
        return new BinaryRequest(
                BinaryOpcode.of(rawOpcode), rawOpcode, opaque, 0, new byte[0], 0, 0, 0, 0, null, status, false);
    }
}
