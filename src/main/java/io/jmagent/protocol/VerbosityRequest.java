package io.jmagent.protocol;

/** verbosity &lt;level&gt; [noreply]. */
public record VerbosityRequest(int level, boolean noreply) implements Request {}
