package io.jmagent.protocol;

/** quit: the connection closes once every earlier reply has been written. */
public record QuitRequest() implements Request {}
