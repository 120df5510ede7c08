package io.jmagent.replica;

/**
 * One step of a schedule, replayable: a client command ({@code OP}: client {@code target} sends
 * {@code text}), or an event on connection or server {@code target}. A step that does not apply
 * when replayed (nothing to deliver, a kill that would take a second copy down) is skipped.
 */
record Step(Kind kind, int target, String text) {

    enum Kind {
        /** A client sends a command. */
        OP,
        /** A server runs the oldest request waiting on one connection. */
        EXEC,
        /** The oldest reply on one connection reaches the proxy. */
        DELIVER,
        /** The connection's oldest request times out (frozen server): the socket is abandoned. */
        TIMEOUT,
        /** A server runs one request an abandoned socket left behind. */
        ORPHAN,
        KILL,
        RESTART,
        FREEZE,
        THAW,
        /** The health checker probes one server (recovery, flush on return, cleaning). */
        PROBE,
        /** Every request runs and every reply lands (for scripted scenarios; the explorer does not pick it). */
        SETTLE
    }

    static Step op(int client, String text) {
        return new Step(Kind.OP, client, text);
    }

    static Step on(Kind kind, int target) {
        return new Step(kind, target, null);
    }

    String describe(ModelFarm farm) {
        return switch (kind) {
            case OP -> "c" + target + ": " + text.replace("\r\n", "\\r\\n");
            case EXEC, DELIVER, TIMEOUT -> kind.name().toLowerCase() + " " + farm.connections.get(target).name;
            case SETTLE -> "settle";
            default -> kind.name().toLowerCase() + " " + farm.serverName(target);
        };
    }

    /** Java source that rebuilds this step, for pasting a shrunk schedule into a scenario test. */
    String source() {
        return kind == Kind.OP
                ? "Step.op(" + target + ", \"" + text.replace("\r\n", "\\r\\n") + "\")"
                : "Step.on(Step.Kind." + kind + ", " + target + ")";
    }
}
