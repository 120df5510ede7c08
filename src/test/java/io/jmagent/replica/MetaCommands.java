package io.jmagent.replica;

/**
 * The meta commands on a {@link FakeServer} (protocol.txt, "Meta Commands"), with the flags the
 * proxy and the model's clients send: mg (v f t k c s q T), ms (F T C I q M with modes E A P R S),
 * md (C q), ma (D N J M v t c q) and mn. Return flags come back in the order asked, as memcached
 * 1.6 answers them. In quiet mode mg hides EN, ms hides HD, md and ma hide HD and NF.
 */
final class MetaCommands {

    private MetaCommands() {}

    static String execute(FakeServer s, String[] t, String data) {
        return switch (t[0]) {
            case "mn" -> "MN\r\n";
            case "mg" -> get(s, t);
            case "ms" -> set(s, t, data);
            case "md" -> delete(s, t);
            case "ma" -> arithmetic(s, t);
            default -> "ERROR\r\n";
        };
    }

    private static boolean has(String[] t, int from, char flag) {
        return flagValue(t, from, flag) != null;
    }

    /** The token after flag letter {@code flag} (empty for a bare flag), null when absent. */
    private static String flagValue(String[] t, int from, char flag) {
        for (int i = from; i < t.length; i++) {
            if (!t[i].isEmpty() && t[i].charAt(0) == flag) {
                return t[i].substring(1);
            }
        }
        return null;
    }

    private static String get(FakeServer s, String[] t) {
        String key = t[1];
        FakeServer.Item it = s.item(key);
        boolean quiet = has(t, 2, 'q');
        if (it == null) {
            return quiet ? "" : "EN\r\n";
        }
        String touch = flagValue(t, 2, 'T');
        if (touch != null) {
            it = s.put(key, it.value(), it.flags(), Integer.parseInt(touch), it.cas());
        }
        StringBuilder flags = new StringBuilder();
        for (int i = 2; i < t.length; i++) {
            switch (t[i].charAt(0)) {
                case 'f' -> flags.append(" f").append(Integer.toUnsignedString(it.flags()));
                case 't' -> flags.append(" t").append(it.exptime() == 0 ? -1 : it.exptime());
                case 'k' -> flags.append(" k").append(key);
                case 'c' -> flags.append(" c").append(it.cas());
                case 's' -> flags.append(" s").append(it.value().length());
                default -> {
                    // v, q, T: not return flags
                }
            }
        }
        if (has(t, 2, 'v')) {
            return "VA " + it.value().length() + flags + "\r\n" + it.value() + "\r\n";
        }
        return "HD" + flags + "\r\n";
    }

    private static String set(FakeServer s, String[] t, String data) {
        String key = t[1];
        boolean quiet = has(t, 3, 'q');
        String f = flagValue(t, 3, 'F');
        String ttl = flagValue(t, 3, 'T');
        String cas = flagValue(t, 3, 'C');
        String mode = flagValue(t, 3, 'M');
        char m = mode == null || mode.isEmpty() ? 'S' : Character.toUpperCase(mode.charAt(0));
        FakeServer.Item old = s.item(key);
        int flags = f != null ? Integer.parseUnsignedInt(f) : 0;
        int exptime = ttl != null ? Integer.parseInt(ttl) : 0;
        if (cas != null) {
            if (old == null) {
                return "NF\r\n";
            }
            if (old.cas() != Long.parseUnsignedLong(cas)) {
                return "EX\r\n";
            }
        }
        String value = data;
        switch (m) {
            case 'E' -> {
                if (old != null) {
                    return "NS\r\n";
                }
            }
            case 'R' -> {
                if (old == null) {
                    return "NS\r\n";
                }
            }
            case 'A', 'P' -> {
                if (old == null) {
                    return "NS\r\n";
                }
                value = m == 'A' ? old.value() + data : data + old.value();
                flags = old.flags();
                exptime = old.exptime();
            }
            default -> {
                // S: set
            }
        }
        s.put(key, value, flags, exptime, s.nextCas());
        return quiet ? "" : "HD\r\n";
    }

    private static String delete(FakeServer s, String[] t) {
        boolean quiet = has(t, 2, 'q');
        FakeServer.Item old = s.item(t[1]);
        if (old == null) {
            return quiet ? "" : "NF\r\n";
        }
        String cas = flagValue(t, 2, 'C');
        if (cas != null && old.cas() != Long.parseUnsignedLong(cas)) {
            return "EX\r\n";
        }
        s.remove(t[1]);
        return quiet ? "" : "HD\r\n";
    }

    private static String arithmetic(FakeServer s, String[] t) {
        String key = t[1];
        boolean quiet = has(t, 2, 'q');
        String mode = flagValue(t, 2, 'M');
        boolean incr = mode == null || mode.isEmpty() || "I+i".indexOf(mode.charAt(0)) >= 0;
        String d = flagValue(t, 2, 'D');
        long delta = d != null ? Long.parseUnsignedLong(d) : 1;
        String r = s.arithmetic(key, incr, delta);
        if (r == null) {
            String vivify = flagValue(t, 2, 'N');
            if (vivify == null) {
                return quiet ? "" : "NF\r\n";
            }
            String initial = flagValue(t, 2, 'J');
            r = initial != null ? initial : "0";
            s.put(key, r, 0, Integer.parseInt(vivify), s.nextCas());
        } else if (r.isEmpty()) {
            return FakeServer.NON_NUMERIC;
        }
        FakeServer.Item it = s.item(key);
        StringBuilder flags = new StringBuilder();
        for (int i = 2; i < t.length; i++) {
            switch (t[i].charAt(0)) {
                case 't' -> flags.append(" t").append(it.exptime() == 0 ? -1 : it.exptime());
                case 'c' -> flags.append(" c").append(it.cas());
                default -> {
                    // v, q, N, J, D, M: not return flags
                }
            }
        }
        if (has(t, 2, 'v')) {
            return "VA " + r.length() + flags + "\r\n" + r + "\r\n";
        }
        return quiet ? "" : "HD" + flags + "\r\n";
    }
}
