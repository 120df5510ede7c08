package io.jmagent.replica;

import io.jmagent.backend.ServerHealth;
import io.jmagent.routing.KetamaRing;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * One run of the model: a {@link ModelFarm}, its clients, the history of their commands, and the
 * steps that drive it ({@link #apply}). Before the first step every server is probed once (the
 * checker learns each process) and the counters are set; after the last, {@link #finish} brings
 * every server back, lets everything land, probes until the farm is clean, and reads every key once
 * more. A clock ticks at every command start and every acknowledgement.
 */
final class ModelRun implements AutoCloseable {

    final ModelConfig config;
    final ModelFarm farm;
    final List<ModelClient> clients = new ArrayList<>();
    final List<Op> ops = new ArrayList<>();
    final CounterCopies copies;
    /** Failures of the proxy itself (an exception out of a route), which are findings too. */
    final List<String> crashes = new ArrayList<>();

    private long clock;

    ModelRun(ModelConfig config) {
        this.config = config;
        this.farm = new ModelFarm(
                config.primaries(), config.backups(), config.connectionsPerServer(), config.failureLimit());
        this.copies = new CounterCopies(this);
        for (int c = 0; c <= config.clients(); c++) {
            clients.add(new ModelClient(c, farm, this::tick, copies::acknowledged));
        }
        for (int s = 0; s < farm.servers.size(); s++) {
            farm.probe(s);
        }
        send(0, "set " + ModelConfig.COUNTER + " 0 0 1\r\n0\r\n");
        send(0, "set " + ModelConfig.UPDOWN + " 0 0 3\r\n100\r\n");
        settle();
        copies.start();
    }

    long tick() {
        return ++clock;
    }

    long now() {
        return clock;
    }

    /** The servers holding {@code key}'s copies: its primary, and its backup (numbered after the primaries). */
    int[] copiesOf(String key) {
        byte[] k = key.getBytes(StandardCharsets.ISO_8859_1);
        KetamaRing backupRing = new KetamaRing(farm.router.backups().servers());
        return new int[] {farm.router.ring().serverFor(k), farm.primaryCount + backupRing.serverFor(k)};
    }

    /** Whether no server is dead, frozen or not UP but {@code s}: taking {@code s} down leaves one copy of every key. */
    boolean mayFault(int s) {
        for (int t = 0; t < farm.servers.size(); t++) {
            // a RECOVERING server still refills the keys it missed: they have one copy until it is UP
            if (t != s
                    && (!farm.servers.get(t).available() || farm.healths.get(t).state() != ServerHealth.State.UP)) {
                return false;
            }
        }
        return farm.servers.get(s).available();
    }

    boolean applicable(Step step) {
        int t = step.target();
        return switch (step.kind()) {
            case OP -> true;
            case EXEC -> farm.connections.get(t).canExecute();
            case DELIVER -> farm.connections.get(t).canDeliver();
            case TIMEOUT ->
                farm.connections.get(t).server.frozen()
                        && farm.connections.get(t).hasPending();
            case ORPHAN ->
                farm.servers.get(t).available() && !farm.servers.get(t).orphans.isEmpty();
            case KILL, FREEZE -> mayFault(t);
            case RESTART -> !farm.servers.get(t).alive();
            case THAW -> farm.servers.get(t).frozen();
            case PROBE, SETTLE -> true;
        };
    }

    /** Runs {@code step} if it applies now; returns whether it did. */
    boolean apply(Step step) {
        if (!applicable(step)) {
            return false;
        }
        int t = step.target();
        try {
            switch (step.kind()) {
                case OP -> send(t, step.text());
                case EXEC -> farm.connections.get(t).execute();
                case DELIVER -> farm.connections.get(t).deliver();
                case TIMEOUT -> farm.connections.get(t).timeOut();
                case ORPHAN -> farm.runOrphan(t);
                case KILL -> {
                    copies.fault(t);
                    farm.kill(t);
                }
                case RESTART -> {
                    copies.fault(t);
                    farm.restart(t);
                }
                case FREEZE -> {
                    copies.fault(t);
                    farm.freeze(t);
                }
                case THAW -> farm.thaw(t);
                case PROBE -> farm.probe(t);
                case SETTLE -> settle();
            }
        } catch (RuntimeException | AssertionError e) {
            crashes.add(step.describe(farm) + " threw " + e);
            throw new ModelCrash(e);
        }
        return true;
    }

    /** A route or the model broke: the run stops here. */
    static final class ModelCrash extends RuntimeException {
        ModelCrash(Throwable cause) {
            super(cause);
        }
    }

    Op send(int client, String text) {
        Op op = OpParser.parse(ops.size(), client, text, tick());
        ops.add(op);
        copies.started(op);
        clients.get(client).send(op);
        return op;
    }

    /** Lets every request run and every reply land, oldest connection first, until nothing moves. */
    void settle() {
        boolean moved = true;
        while (moved) {
            moved = false;
            for (FakeConnection c : farm.connections) {
                while (c.canExecute()) {
                    c.execute();
                    moved = true;
                }
                while (c.canDeliver()) {
                    c.deliver();
                    moved = true;
                }
            }
            for (int s = 0; s < farm.servers.size(); s++) {
                while (farm.servers.get(s).available()
                        && !farm.servers.get(s).orphans.isEmpty()) {
                    farm.runOrphan(s);
                    moved = true;
                }
            }
        }
    }

    /** Every server back, everything landed, three probe rounds, then every key read once more. */
    void finish() {
        for (int s = 0; s < farm.servers.size(); s++) {
            if (farm.servers.get(s).frozen()) {
                farm.thaw(s);
            } else if (!farm.servers.get(s).alive()) {
                copies.fault(s);
                farm.restart(s);
            }
        }
        settle();
        for (int round = 0; round < 3; round++) {
            for (int s = 0; s < farm.servers.size(); s++) {
                farm.probe(s);
            }
            settle();
        }
        for (String key : ModelConfig.allKeys()) {
            send(0, "get " + key + "\r\n");
            settle();
        }
    }

    @Override
    public void close() {
        for (ModelClient c : clients) {
            c.close();
        }
        farm.close();
    }
}
