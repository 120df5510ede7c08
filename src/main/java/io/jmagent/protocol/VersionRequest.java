package io.jmagent.protocol;

/** version: answered by the proxy itself. */
public record VersionRequest() implements Request {}
