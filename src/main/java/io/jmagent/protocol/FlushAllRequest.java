package io.jmagent.protocol;

/** flush_all [delay] [noreply]: {@code delay} is null when the client gave none. */
public record FlushAllRequest(Integer delay, boolean noreply) implements Request {}
