package io.jmagent;

import java.util.List;

/**
 * One case of the differential script: its steps are sent in order on one connection to
 * memcached and on one to jmagent, and the two transcripts must match. A step is usually fixed
 * bytes; it may also be computed from the reply to the previous step on the same side (a cas
 * unique from gets). Requests are ISO-8859-1 strings, one char per byte. {@code oracleReplyStart},
 * when set, is what memcached's reply must begin with: a case written for one memcached
 * behaviour then notices when it no longer exercises it.
 */
record DifferentialCase(String name, List<Step> steps, String oracleReplyStart) {

    /** One request, possibly computed from the reply to the previous step on the same side. */
    @FunctionalInterface
    interface Step {
        String request(String previousReply);
    }

    static DifferentialCase of(String name, String request) {
        return new DifferentialCase(name, List.of(previous -> request), null);
    }

    static DifferentialCase of(String name, Step... steps) {
        return new DifferentialCase(name, List.of(steps), null);
    }

    DifferentialCase expectingOracle(String start) {
        return new DifferentialCase(name, steps, start);
    }

    static String line(String s) {
        return s + "\r\n";
    }

    static String store(String cmd, String key, int flags, int exptime, String value) {
        return cmd + " " + key + " " + Integer.toUnsignedString(flags) + " " + exptime + " " + value.length() + "\r\n"
                + value + "\r\n";
    }

    /** Adds " noreply" to the first line of a request. */
    static String withNoreply(String request) {
        int end = request.indexOf("\r\n");
        return request.substring(0, end) + " noreply" + request.substring(end);
    }
}
