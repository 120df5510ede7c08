package io.jmagent.protocol;

/** What a server's reply to one request looks like, so that it can be framed. */
public enum ReplyShape {
    /** One line: STORED, DELETED, 42, OK, an error... */
    LINE,
    /** Text retrieval: VALUE blocks closed by END (or one error line). */
    VALUES,
    /**
     * Text retrieval kept whole: its VALUE blocks and END framed as one {@link ServerReply.Line},
     * the bytes as the server sent them (or the error line alone).
     */
    WHOLE_VALUES,
    /** A pipeline of quiet meta gets closed by mn: VA blocks, then MN. */
    META_VALUES,
    /** One meta reply: a line (HD, EN, NF, an error...) or a VA line and its data. */
    META_ONE,
    /** Whatever a quiet meta command answered (maybe nothing), up to the MN of the mn sent after it. */
    META_UNTIL_MN
}
