package io.jmagent.protocol;

/** stats [group]: {@code group} is empty for plain {@code stats}. */
public record StatsRequest(String group) implements Request {}
