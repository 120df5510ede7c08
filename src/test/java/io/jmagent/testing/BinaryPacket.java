package io.jmagent.testing;

import static java.nio.charset.StandardCharsets.ISO_8859_1;

import java.nio.ByteBuffer;

/**
 * Builds memcached binary-protocol requests (protocol_binary.h: a 24-byte header, then extras,
 * key and value), written from the header file rather than from jmagent's code so that tests do
 * not share the proxy's mistakes. Lengths default to what the parts add up to; a test that wants
 * a malformed packet overrides them ({@link #keyLength}, {@link #extrasLength}, {@link #bodyLength}).
 */
public final class BinaryPacket {

    public static final int REQUEST_MAGIC = 0x80;
    public static final int RESPONSE_MAGIC = 0x81;

    /** Opcodes (protocol_binary.h). */
    public static final int GET = 0x00,
            SET = 0x01,
            ADD = 0x02,
            REPLACE = 0x03,
            DELETE = 0x04,
            INCREMENT = 0x05,
            DECREMENT = 0x06,
            QUIT = 0x07,
            FLUSH = 0x08,
            GETQ = 0x09,
            NOOP = 0x0a,
            VERSION = 0x0b,
            GETK = 0x0c,
            GETKQ = 0x0d,
            APPEND = 0x0e,
            PREPEND = 0x0f,
            STAT = 0x10,
            SETQ = 0x11,
            ADDQ = 0x12,
            REPLACEQ = 0x13,
            DELETEQ = 0x14,
            INCREMENTQ = 0x15,
            DECREMENTQ = 0x16,
            QUITQ = 0x17,
            FLUSHQ = 0x18,
            APPENDQ = 0x19,
            PREPENDQ = 0x1a,
            VERBOSITY = 0x1b,
            TOUCH = 0x1c,
            GAT = 0x1d,
            GATQ = 0x1e,
            SASL_LIST_MECHS = 0x20,
            SASL_AUTH = 0x21,
            SASL_STEP = 0x22,
            GATK = 0x23,
            GATKQ = 0x24,
            RGET = 0x30;

    /** Response statuses (protocol_binary.h). */
    public static final int SUCCESS = 0x00,
            KEY_NOT_FOUND = 0x01,
            KEY_EXISTS = 0x02,
            TOO_LARGE = 0x03,
            INVALID_ARGUMENTS = 0x04,
            NOT_STORED = 0x05,
            NON_NUMERIC = 0x06,
            UNKNOWN_COMMAND = 0x81,
            NOT_SUPPORTED = 0x83;

    /** Incr/decr expiration that means "do not create a missing counter". */
    public static final int NO_AUTO_CREATE = 0xffffffff;

    private int magic = REQUEST_MAGIC;
    private final int opcode;
    private byte[] extras = new byte[0];
    private byte[] key = new byte[0];
    private byte[] value = new byte[0];
    private int opaque;
    private long cas;
    private int datatype;
    private int vbucket;
    private Integer keyLength;
    private Integer extrasLength;
    private Long bodyLength;

    private BinaryPacket(int opcode) {
        this.opcode = opcode;
    }

    public static BinaryPacket request(int opcode) {
        return new BinaryPacket(opcode);
    }

    // the common shapes

    public static byte[] get(int opcode, String key, int opaque) {
        return request(opcode).key(key).opaque(opaque).bytes();
    }

    /** set/add/replace (and their quiet forms) with flags and expiration extras. */
    public static BinaryPacket store(int opcode, String key, int flags, int exptime, String value) {
        return request(opcode).key(key).extras(storeExtras(flags, exptime)).value(value);
    }

    public static BinaryPacket concat(int opcode, String key, String value) {
        return request(opcode).key(key).value(value);
    }

    public static BinaryPacket arithmetic(int opcode, String key, long delta, long initial, int exptime) {
        return request(opcode).key(key).extras(arithmeticExtras(delta, initial, exptime));
    }

    /** touch, gat, gatq, gatk, gatkq. */
    public static BinaryPacket touching(int opcode, String key, int exptime) {
        return request(opcode).key(key).extras(expiration(exptime));
    }

    public static byte[] noop(int opaque) {
        return request(NOOP).opaque(opaque).bytes();
    }

    public static byte[] storeExtras(int flags, int exptime) {
        return ByteBuffer.allocate(8).putInt(flags).putInt(exptime).array();
    }

    public static byte[] arithmeticExtras(long delta, long initial, int exptime) {
        return ByteBuffer.allocate(20)
                .putLong(delta)
                .putLong(initial)
                .putInt(exptime)
                .array();
    }

    public static byte[] expiration(int exptime) {
        return ByteBuffer.allocate(4).putInt(exptime).array();
    }

    // the fields

    public BinaryPacket magic(int magic) {
        this.magic = magic;
        return this;
    }

    public BinaryPacket key(String key) {
        return key(key.getBytes(ISO_8859_1));
    }

    public BinaryPacket key(byte[] key) {
        this.key = key;
        return this;
    }

    public BinaryPacket extras(byte[] extras) {
        this.extras = extras;
        return this;
    }

    public BinaryPacket value(String value) {
        return value(value.getBytes(ISO_8859_1));
    }

    public BinaryPacket value(byte[] value) {
        this.value = value;
        return this;
    }

    public BinaryPacket opaque(int opaque) {
        this.opaque = opaque;
        return this;
    }

    public BinaryPacket cas(long cas) {
        this.cas = cas;
        return this;
    }

    public BinaryPacket datatype(int datatype) {
        this.datatype = datatype;
        return this;
    }

    public BinaryPacket vbucket(int vbucket) {
        this.vbucket = vbucket;
        return this;
    }

    /** A key length in the header that differs from the key sent. */
    public BinaryPacket keyLength(int keyLength) {
        this.keyLength = keyLength;
        return this;
    }

    /** An extras length in the header that differs from the extras sent. */
    public BinaryPacket extrasLength(int extrasLength) {
        this.extrasLength = extrasLength;
        return this;
    }

    /** A total body length in the header that differs from what is sent (unsigned 32 bits). */
    public BinaryPacket bodyLength(long bodyLength) {
        this.bodyLength = bodyLength;
        return this;
    }

    /** The header followed by extras, key and value as given (whatever the header claims). */
    public byte[] bytes() {
        int kl = keyLength != null ? keyLength : key.length;
        int el = extrasLength != null ? extrasLength : extras.length;
        long bl = bodyLength != null ? bodyLength : (long) extras.length + key.length + value.length;
        ByteBuffer b = ByteBuffer.allocate(24 + extras.length + key.length + value.length);
        b.put((byte) magic)
                .put((byte) opcode)
                .putShort((short) kl)
                .put((byte) el)
                .put((byte) datatype)
                .putShort((short) vbucket)
                .putInt((int) bl)
                .putInt(opaque)
                .putLong(cas);
        return b.put(extras).put(key).put(value).array();
    }
}
