package io.jmagent.metrics;

import java.util.function.LongSupplier;

/**
 * What a pool's shadow did, for {@code stats shadow} and {@code /metrics}: requests shadowed, their
 * answers the same as the real ones or different, shadow requests that failed, requests not
 * shadowed because {@code max-in-flight} were on their way, and those on their way now.
 */
public record ShadowCounters(
        String target,
        LongSupplier requests,
        LongSupplier same,
        LongSupplier different,
        LongSupplier failed,
        LongSupplier skipped,
        LongSupplier inFlight) {}
