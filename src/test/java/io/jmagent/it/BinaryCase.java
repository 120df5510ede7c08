package io.jmagent.it;

import io.jmagent.testing.BinaryClient;
import io.jmagent.testing.BinaryResponse;
import java.util.ArrayList;
import java.util.List;

/**
 * One case of the binary differential script: its steps are sent in order to memcached and to
 * jmagent, each on the connection the previous step used (a new one once a step saw it closed).
 * A step is fixed bytes, or bytes computed from the responses to the previous step on the same
 * side (a cas from a Get). A step either ends with a sentinel Noop, which memcached answers after
 * everything before it, or expects the other side to close the connection.
 */
record BinaryCase(String name, List<Step> steps) {

    /** Computes a step's request from the responses to the previous step on the same side. */
    @FunctionalInterface
    interface Request {
        byte[] bytes(List<BinaryResponse> previous);
    }

    record Step(Request request, boolean closes) {}

    static Builder named(String name) {
        return new Builder(name);
    }

    static final class Builder {
        private final String name;
        private final List<Step> steps = new ArrayList<>();

        private Builder(String name) {
            this.name = name;
        }

        /** A step of the given requests, closed by the sentinel Noop. */
        Builder send(byte[]... requests) {
            byte[] all = BinaryClient.concat(requests);
            steps.add(new Step(previous -> all, false));
            return this;
        }

        /** A step computed from the previous step's responses, closed by the sentinel Noop. */
        Builder then(Request request) {
            steps.add(new Step(request, false));
            return this;
        }

        /** A step after which the other side must close the connection. */
        Builder sendExpectingClose(byte[]... requests) {
            byte[] all = BinaryClient.concat(requests);
            steps.add(new Step(previous -> all, true));
            return this;
        }

        BinaryCase build() {
            return new BinaryCase(name, List.copyOf(steps));
        }
    }
}
