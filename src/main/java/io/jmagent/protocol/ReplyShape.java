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
    /**
     * What one meta command answered, up to the MN of the {@code mn} the proxy sends after every
     * meta command, quiet or not: nothing, one line (HD, EN, NF, an error...) or a VA line and its
     * data. Its end never depends on the proxy's reading of the command's flags; more than one
     * reply before the MN is a {@link ReplyFramingException}.
     */
    META_UNTIL_MN
}
