package io.jmagent.config;

/**
 * A configuration that cannot be used, said in one line that names where it was given: the file
 * and the key, {@code /etc/jmagent.yml: pools.web.listen: bad address '127.0.0.1:x': not a number},
 * or the flag, {@code -s 10.0.0.1:11211: given twice}.
 */
public final class ConfigException extends Exception {

    private static final long serialVersionUID = 1L;

    public ConfigException(String source, String key, String problem) {
        super(source + ": " + (key == null || key.isEmpty() ? "" : key + ": ") + oneLine(problem));
    }

    private static String oneLine(String s) {
        return s == null ? "invalid" : s.replaceAll("\\s*[\\r\\n]+\\s*", " ").trim();
    }
}
