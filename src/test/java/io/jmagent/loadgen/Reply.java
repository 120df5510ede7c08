package io.jmagent.loadgen;

/** What one reply to a get or a set said, as far as the generator counts it. */
enum Reply {
    /** A get answered with its value (VALUE ... END). */
    HIT,
    /** A get answered with END alone. */
    MISS,
    /** STORED. */
    STORED,
    /** Another storage answer: NOT_STORED, EXISTS, NOT_FOUND. */
    NOT_STORED,
    /** ERROR, CLIENT_ERROR or SERVER_ERROR. */
    ERROR
}
