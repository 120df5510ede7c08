package io.jmagent.protocol;

/**
 * One client request, decoded from whatever protocol the client speaks. Implementations are
 * small immutable records; the ones that carry a value ({@link StoreRequest}) own a retained
 * slice of the bytes it arrived in and must be released by whoever consumes them.
 */
public sealed interface Request
        permits RetrievalRequest,
                CutShortRetrievalRequest,
                StoreRequest,
                OversizedStoreRequest,
                DeleteRequest,
                ArithmeticRequest,
                TouchRequest,
                FlushAllRequest,
                VerbosityRequest,
                VersionRequest,
                StatsRequest,
                QuitRequest,
                LocalReply,
                MetaRequest {

    /** True when the client asked for no reply (text protocol's trailing {@code noreply}). */
    default boolean noreply() {
        return false;
    }
}
