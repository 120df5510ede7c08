package io.jmagent.metrics;

import java.util.function.LongSupplier;

/**
 * The requests one route of a pool's route table took, for {@code stats routes} and
 * {@code /metrics}: {@code route} is its key prefix ("" for the keys no prefix took), {@code target}
 * the pool it leads to.
 */
public record RouteCounter(String route, String target, LongSupplier requests) {}
