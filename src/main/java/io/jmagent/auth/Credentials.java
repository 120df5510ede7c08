package io.jmagent.auth;

import io.jmagent.config.TextFiles;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;

/**
 * Who may use the proxy: memcached's auth file ({@code -Y}), one {@code user:password} a line,
 * where the password may also be a PBKDF2 hash, {@code pbkdf2-sha256$ITERATIONS$SALT$HASH} (salt
 * and hash in base64; {@link #hash} makes one), so that the file need not hold passwords in clear.
 * Blank lines and lines starting with {@code #} are skipped. Immutable.
 */
public final class Credentials {

    private static final String PBKDF2 = "pbkdf2-sha256";
    private static final int HASH_ITERATIONS = 210_000;
    private static final int MAX_USERS = 100_000;

    private final Map<String, String> secrets;
    /** What a missing user is checked against, so that a missing user costs what a present one does. */
    private final String decoy;

    private Credentials(Map<String, String> secrets) {
        this.secrets = Map.copyOf(secrets);
        this.decoy = secrets.values().stream()
                .filter(s -> s.startsWith(PBKDF2 + "$"))
                .findFirst()
                .orElse("");
    }

    /** Reads {@code file}; an IllegalArgumentException naming the file and line if it is not one. */
    public static Credentials load(Path file) {
        List<String> lines = TextFiles.lines(file);
        Map<String, String> secrets = new HashMap<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            String at = file + " line " + (i + 1);
            int colon = line.indexOf(':');
            if (colon <= 0 || colon == line.length() - 1) {
                throw new IllegalArgumentException(at + ": expected user:password");
            }
            String user = line.substring(0, colon);
            String secret = line.substring(colon + 1);
            if (user.chars().anyMatch(c -> c <= ' ') || secret.chars().anyMatch(c -> c <= ' ')) {
                throw new IllegalArgumentException(at + ": no spaces in a user or a password (the text protocol's "
                        + "auth token is \"user password\")");
            }
            if (secret.startsWith(PBKDF2 + "$")) {
                checkHashFormat(secret, at);
            }
            if (secrets.put(user, secret) != null) {
                throw new IllegalArgumentException(at + ": user '" + user + "' given twice");
            }
            if (secrets.size() > MAX_USERS) {
                throw new IllegalArgumentException(file + ": more than " + MAX_USERS + " users");
            }
        }
        if (secrets.isEmpty()) {
            throw new IllegalArgumentException(file + ": no user:password line");
        }
        return new Credentials(secrets);
    }

    public int users() {
        return secrets.size();
    }

    /** True if {@code user} is known and {@code password} is theirs. */
    public boolean check(String user, String password) {
        String secret = secrets.get(user);
        boolean known = secret != null;
        boolean matches = matches(known ? secret : decoy, password);
        return known && matches;
    }

    /** A hash of {@code password} for the file, with a fresh salt. */
    public static String hash(String password) {
        byte[] salt = new byte[16];
        new SecureRandom().nextBytes(salt);
        Base64.Encoder b64 = Base64.getEncoder().withoutPadding();
        return PBKDF2 + "$" + HASH_ITERATIONS + "$" + b64.encodeToString(salt) + "$"
                + b64.encodeToString(pbkdf2(password, salt, HASH_ITERATIONS));
    }

    private static boolean matches(String secret, String password) {
        if (!secret.startsWith(PBKDF2 + "$")) {
            return MessageDigest.isEqual(
                    secret.getBytes(StandardCharsets.UTF_8), password.getBytes(StandardCharsets.UTF_8));
        }
        String[] parts = secret.split("\\$");
        int iterations = Integer.parseInt(parts[1]);
        byte[] salt = Base64.getDecoder().decode(parts[2]);
        byte[] expected = Base64.getDecoder().decode(parts[3]);
        return MessageDigest.isEqual(expected, pbkdf2(password, salt, iterations));
    }

    private static void checkHashFormat(String secret, String at) {
        String[] parts = secret.split("\\$");
        try {
            if (parts.length != 4 || Integer.parseInt(parts[1]) < 1000) {
                throw new IllegalArgumentException();
            }
            Base64.getDecoder().decode(parts[2]);
            if (Base64.getDecoder().decode(parts[3]).length != 32) {
                throw new IllegalArgumentException();
            }
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(
                    at + ": a hash is " + PBKDF2
                            + "$ITERATIONS$SALT$HASH (at least 1000 iterations, base64 salt and 32-byte hash)",
                    e);
        }
    }

    private static byte[] pbkdf2(String password, byte[] salt, int iterations) {
        try {
            PBEKeySpec spec = new PBEKeySpec(password.toCharArray(), salt, iterations, 256);
            return SecretKeyFactory.getInstance("PBKDF2WithHmacSHA256")
                    .generateSecret(spec)
                    .getEncoded();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("PBKDF2WithHmacSHA256 is part of every Java 17", e);
        }
    }
}
