package io.jmagent.protocol;

/**
 * A storage command whose value is larger than the item size limit. The decoder swallowed the
 * value without buffering it; the client gets {@code SERVER_ERROR object too large for cache}.
 * memcached also unlinks the key's old value on an oversized {@code set}, so the proxy must
 * delete it on the server to answer later reads the same way.
 */
public record OversizedStoreRequest(StoreRequest.Kind kind, byte[] key, boolean noreply) implements Request {}
