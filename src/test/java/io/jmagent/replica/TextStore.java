package io.jmagent.replica;

/** The text storage commands on a {@link FakeServer}: set, add, replace, append, prepend, cas (protocol.txt). */
final class TextStore {

    private TextStore() {}

    /** {@code t}: "cmd key flags exptime bytes [cas]"; {@code data}: the data block. */
    static String store(FakeServer s, String[] t, String data) {
        String key = t[1];
        int flags = Integer.parseUnsignedInt(t[2]);
        int exptime = Integer.parseInt(t[3]);
        FakeServer.Item old = s.item(key);
        switch (t[0]) {
            case "set" -> s.put(key, data, flags, exptime, s.nextCas());
            case "add" -> {
                if (old != null) {
                    return "NOT_STORED\r\n";
                }
                s.put(key, data, flags, exptime, s.nextCas());
            }
            case "replace" -> {
                if (old == null) {
                    return "NOT_STORED\r\n";
                }
                s.put(key, data, flags, exptime, s.nextCas());
            }
            case "append", "prepend" -> {
                if (old == null) {
                    return "NOT_STORED\r\n";
                }
                String v = t[0].equals("append") ? old.value() + data : data + old.value();
                s.put(key, v, old.flags(), old.exptime(), s.nextCas());
            }
            case "cas" -> {
                if (old == null) {
                    return "NOT_FOUND\r\n";
                }
                if (old.cas() != Long.parseUnsignedLong(t[5])) {
                    return "EXISTS\r\n";
                }
                s.put(key, data, flags, exptime, s.nextCas());
            }
            default -> throw new IllegalArgumentException(t[0]);
        }
        return "STORED\r\n";
    }
}
