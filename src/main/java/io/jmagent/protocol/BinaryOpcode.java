package io.jmagent.protocol;

/**
 * The opcodes of memcached's binary protocol (protocol_binary.h) that jmagent serves, with what
 * they need: extras length, whether a key and a value are required, and whether it is quiet.
 * Verbosity (0x1b) is not among them: memcached 1.6 answers it "Unknown command". The SASL
 * commands are, as memcached -S serves them; without an auth file they are "Unknown command".
 */
public enum BinaryOpcode {
    GET(0x00),
    SET(0x01),
    ADD(0x02),
    REPLACE(0x03),
    DELETE(0x04),
    INCREMENT(0x05),
    DECREMENT(0x06),
    QUIT(0x07),
    FLUSH(0x08),
    GETQ(0x09),
    NOOP(0x0a),
    VERSION(0x0b),
    GETK(0x0c),
    GETKQ(0x0d),
    APPEND(0x0e),
    PREPEND(0x0f),
    STAT(0x10),
    SETQ(0x11),
    ADDQ(0x12),
    REPLACEQ(0x13),
    DELETEQ(0x14),
    INCREMENTQ(0x15),
    DECREMENTQ(0x16),
    QUITQ(0x17),
    FLUSHQ(0x18),
    APPENDQ(0x19),
    PREPENDQ(0x1a),
    TOUCH(0x1c),
    GAT(0x1d),
    GATQ(0x1e),
    SASL_LIST_MECHS(0x20),
    SASL_AUTH(0x21),
    SASL_STEP(0x22),
    GATK(0x23),
    GATKQ(0x24);

    private static final BinaryOpcode[] BY_CODE = new BinaryOpcode[256];

    static {
        for (BinaryOpcode op : values()) {
            BY_CODE[op.code] = op;
        }
    }

    private final int code;

    BinaryOpcode(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }

    /** The opcode for {@code code}, or null for one jmagent does not serve. */
    public static BinaryOpcode of(int code) {
        return BY_CODE[code & 0xFF];
    }

    /** Quiet commands answer only on error (gets: only on a hit). */
    public boolean quiet() {
        return switch (this) {
            case GETQ,
                    GETKQ,
                    SETQ,
                    ADDQ,
                    REPLACEQ,
                    DELETEQ,
                    INCREMENTQ,
                    DECREMENTQ,
                    QUITQ,
                    FLUSHQ,
                    APPENDQ,
                    PREPENDQ,
                    GATQ,
                    GATKQ -> true;
            default -> false;
        };
    }

    /** Gets whose response carries the key. */
    public boolean returnsKey() {
        return this == GETK || this == GETKQ || this == GATK || this == GATKQ;
    }

    public boolean isGet() {
        return this == GET || this == GETQ || this == GETK || this == GETKQ;
    }

    public boolean isGat() {
        return this == GAT || this == GATQ || this == GATK || this == GATKQ;
    }

    public boolean isStore() {
        return this == SET || this == SETQ || this == ADD || this == ADDQ || this == REPLACE || this == REPLACEQ;
    }

    public boolean isConcat() {
        return this == APPEND || this == APPENDQ || this == PREPEND || this == PREPENDQ;
    }

    public boolean isArithmetic() {
        return this == INCREMENT || this == INCREMENTQ || this == DECREMENT || this == DECREMENTQ;
    }

    /** Goes to the servers (a key's, or all of them for a flush): what a tenant's rate and prefix apply to. */
    public boolean touchesKeys() {
        return switch (this) {
            case NOOP, VERSION, QUIT, QUITQ, STAT, SASL_LIST_MECHS, SASL_AUTH, SASL_STEP -> false;
            default -> true;
        };
    }

    public boolean isSasl() {
        return this == SASL_LIST_MECHS || this == SASL_AUTH || this == SASL_STEP;
    }

    /**
     * memcached's shape checks (proto_bin.c): true when extras, key and body lengths fit this
     * command; a request that does not fit is answered "Invalid arguments" and the connection closed.
     */
    public boolean accepts(int extrasLength, int keyLength, long bodyLength) {
        long valueLength = bodyLength - extrasLength - keyLength;
        if (valueLength < 0) {
            return false;
        }
        if (isGet() || this == DELETE || this == DELETEQ) {
            return extrasLength == 0 && keyLength > 0 && valueLength == 0;
        }
        if (isStore()) {
            return extrasLength == 8 && keyLength > 0;
        }
        if (isConcat()) {
            return extrasLength == 0 && keyLength > 0;
        }
        if (isArithmetic()) {
            return extrasLength == 20 && keyLength > 0 && valueLength == 0;
        }
        if (isGat() || this == TOUCH) {
            return extrasLength == 4 && keyLength > 0 && valueLength == 0;
        }
        return switch (this) {
            case QUIT, QUITQ, NOOP, VERSION -> extrasLength == 0 && keyLength == 0 && bodyLength == 0;
            case FLUSH, FLUSHQ -> keyLength == 0 && valueLength == 0 && (extrasLength == 0 || extrasLength == 4);
            case STAT -> extrasLength == 0 && valueLength == 0;
            // memcached checks the SASL commands' shape with or without -S
            case SASL_LIST_MECHS -> extrasLength == 0 && keyLength == 0 && bodyLength == 0;
            case SASL_AUTH, SASL_STEP -> extrasLength == 0 && keyLength > 0;
            default -> false;
        };
    }
}
