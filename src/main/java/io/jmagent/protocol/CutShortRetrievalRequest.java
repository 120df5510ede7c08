package io.jmagent.protocol;

/**
 * A get, gets, gat or gats with a key over 250 bytes after other keys. memcached reads the keys in
 * order and stops at the long one (proto_text.c, process_get_command): the keys before it are
 * fetched, touched by gat and gats, and counted, then their values are dropped and the client is
 * answered {@code CLIENT_ERROR bad command line format} alone. {@code fetched} is the retrieval of
 * those keys, to be served for its effects and its reply discarded.
 */
public record CutShortRetrievalRequest(RetrievalRequest fetched) implements Request {}
