package io.jmagent.protocol;

/** touch &lt;key&gt; &lt;exptime&gt; [noreply]. */
public record TouchRequest(byte[] key, int exptime, boolean noreply) implements Request {}
