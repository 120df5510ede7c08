package io.jmagent.protocol;

import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * Keys on the text protocol's lines. A binary client's key may hold any byte; a text command line
 * cannot carry a space (it splits the line), a CR or LF (they end it) or a NUL (memcached ends the
 * line there): passed on, such a key would be read as more commands than were sent. Those keys go
 * to the servers as meta commands with the key in base64 and the {@code b} flag instead.
 */
public final class TextKeys {

    private TextKeys() {}

    /** Whether {@code key} can stand on a text command line as it is. */
    public static boolean carries(byte[] key) {
        for (byte b : key) {
            if (b == ' ' || b == '\n' || b == '\r' || b == 0) {
                return false;
            }
        }
        return true;
    }

    /** The key's token on a meta command line with the {@code b} flag. */
    public static String base64(byte[] key) {
        return Base64.getEncoder().encodeToString(key);
    }

    /** The key's token on a meta command line other than ms (whose data length comes next): as it is, or base64 and " b". */
    public static String metaToken(byte[] key) {
        return carries(key) ? new String(key, StandardCharsets.ISO_8859_1) : base64(key) + " b";
    }
}
