package io.jmagent.replica;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Picks the next step of a run at random among those that apply now, weighted so that replies and
 * executions dominate, commands come often, and faults (kill, freeze) are rare; and makes up the
 * client commands: text and meta, reads and writes of a few keys, counters. Every value written is
 * a tag unique in the run ({@code w<op>}, {@code .a<op>} appended, {@code p<op>.} prepended), so
 * the checker knows which write any value came from.
 */
final class Scheduler {

    /** Commands a client may have in flight at once (it pipelines). */
    private static final int MAX_OUTSTANDING = 3;

    private final ModelRun run;
    private final Random random;

    Scheduler(ModelRun run, Random random) {
        this.run = run;
        this.random = random;
    }

    Step next() {
        List<Step> steps = new ArrayList<>();
        List<Double> weights = new ArrayList<>();
        for (int c = 1; c < run.clients.size(); c++) {
            if (run.clients.get(c).outstanding() < MAX_OUTSTANDING) {
                add(steps, weights, Step.op(c, null), 2.0);
            }
        }
        for (int i = 0; i < run.farm.connections.size(); i++) {
            add(steps, weights, Step.on(Step.Kind.EXEC, i), 3.0);
            add(steps, weights, Step.on(Step.Kind.DELIVER, i), 3.0);
            add(steps, weights, Step.on(Step.Kind.TIMEOUT, i), 0.7);
        }
        for (int s = 0; s < run.farm.servers.size(); s++) {
            add(steps, weights, Step.on(Step.Kind.ORPHAN, s), 0.7);
            add(steps, weights, Step.on(Step.Kind.KILL, s), 0.08);
            add(steps, weights, Step.on(Step.Kind.FREEZE, s), 0.08);
            add(steps, weights, Step.on(Step.Kind.RESTART, s), 0.4);
            add(steps, weights, Step.on(Step.Kind.THAW, s), 0.25);
            add(steps, weights, Step.on(Step.Kind.PROBE, s), 0.25);
        }
        double total = weights.stream().mapToDouble(Double::doubleValue).sum();
        double pick = random.nextDouble() * total;
        for (int i = 0; i < steps.size(); i++) {
            pick -= weights.get(i);
            if (pick < 0 || i == steps.size() - 1) {
                Step s = steps.get(i);
                return s.kind() == Step.Kind.OP ? Step.op(s.target(), command(s.target())) : s;
            }
        }
        throw new IllegalStateException("no step");
    }

    private void add(List<Step> steps, List<Double> weights, Step step, double weight) {
        if (step.kind() == Step.Kind.OP || run.applicable(step)) {
            steps.add(step);
            weights.add(weight);
        }
    }

    private String command(int client) {
        String tag = "w" + run.ops.size();
        if (random.nextInt(10) < 3) {
            return counterCommand();
        }
        String k = ModelConfig.KEYS.get(random.nextInt(ModelConfig.KEYS.size()));
        int r = random.nextInt(100);
        if (r < 14) {
            return store("set", k, tag);
        } else if (r < 18) {
            return store("add", k, tag);
        } else if (r < 21) {
            return store("replace", k, tag);
        } else if (r < 25) {
            Long seen = run.clients.get(client).casSeen.get(k);
            String data = tag;
            return "cas " + k + " 0 0 " + data.length() + " " + (seen != null ? seen : 1 + random.nextInt(9)) + "\r\n"
                    + data + "\r\n";
        } else if (r < 29) {
            return store("append", k, ".a" + run.ops.size());
        } else if (r < 31) {
            return store("prepend", k, "p" + run.ops.size() + ".");
        } else if (r < 39) {
            return "delete " + k + "\r\n";
        } else if (r < 41) {
            return "touch " + k + " 0\r\n";
        } else if (r < 55) {
            return "get " + k + "\r\n";
        } else if (r < 59) {
            return "gets " + k + "\r\n";
        } else if (r < 63) {
            return "get k0 k1 k2\r\n";
        } else if (r < 65) {
            return "gat 0 " + k + "\r\n";
        } else if (r < 75) {
            String[] flags = {" v", " v f t", " v q", " s v"};
            return "mg " + k + flags[random.nextInt(flags.length)] + "\r\n";
        } else if (r < 85) {
            String[] modes = {"", "", " q", " ME", " T0 F3"};
            return "ms " + k + " " + tag.length() + modes[random.nextInt(modes.length)] + "\r\n" + tag + "\r\n";
        } else if (r < 88) {
            String data = ".a" + run.ops.size();
            return "ms " + k + " " + data.length() + " MA\r\n" + data + "\r\n";
        } else {
            return "md " + k + (random.nextInt(4) == 0 ? " q" : "") + "\r\n";
        }
    }

    private String counterCommand() {
        int r = random.nextInt(100);
        if (r < 60) {
            String c = ModelConfig.COUNTER;
            return switch (r % 6) {
                case 0, 1 -> "incr " + c + " " + (1 + random.nextInt(3)) + "\r\n";
                case 2 -> "ma " + c + " v\r\n";
                case 3 -> "ma " + c + "\r\n";
                case 4 -> "mg " + c + " v\r\n";
                default -> "get " + c + "\r\n";
            };
        }
        String c = ModelConfig.UPDOWN;
        return switch (r % 4) {
            case 0 -> "incr " + c + " 2\r\n";
            case 1 -> "decr " + c + " 1\r\n";
            case 2 -> "ma " + c + " MD v\r\n";
            default -> "get " + c + "\r\n";
        };
    }

    private static String store(String command, String key, String data) {
        return command + " " + key + " 0 0 " + data.length() + "\r\n" + data + "\r\n";
    }
}
