package io.jmagent.protocol;

/** delete &lt;key&gt; [noreply]. */
public record DeleteRequest(byte[] key, boolean noreply) implements Request {}
