package io.jmagent.frontend;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static java.nio.charset.StandardCharsets.UTF_8;

import io.jmagent.auth.AuthFile;
import io.jmagent.metrics.ProxyStats;
import io.jmagent.protocol.BinaryOpcode;
import io.jmagent.protocol.BinaryRequest;
import io.jmagent.protocol.BinaryResponses;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;

/**
 * memcached's SASL authentication ({@code -S}) at one binary client, with the users of the pool's
 * auth file and the PLAIN mechanism only (RFC 4616: {@code [authzid] NUL user NUL password}).
 * Until an exchange succeeds only Version and the SASL commands are served; anything else is
 * answered "Auth failure." and the connection closed, as memcached does (proto_bin.c,
 * authenticated()). As there, every Auth or Step starts the client over as unauthenticated, an
 * Auth without credentials is answered "continue" (0x21) and the next Step carries them, and a
 * mechanism name over {@value #MAX_MECH_LENGTH} bytes is "Invalid arguments". The password is
 * checked off the event loop ({@link AuthFile#check}); requests that follow wait for its answer
 * ({@link #checking()}). Owned by the client channel's event loop.
 */
final class SaslGate {

    /** proto_bin.c: MAX_SASL_MECH_LEN. */
    static final int MAX_MECH_LENGTH = 32;

    private static final String MECHANISM = "PLAIN";
    private static final byte[] AUTHENTICATED = "Authenticated".getBytes(US_ASCII);

    private final BinarySession session;
    private final AuthFile auth;
    private final ProxyStats stats;
    private boolean authenticated;
    /** A client certificate named the client's tenant: no login needed. */
    void authenticatedByCertificate() {
        authenticated = true;
    }

    /** An Auth without credentials was answered "continue": a Step may bring them. */
    private boolean awaitingStep;
    /** An attempt is being checked. */
    private boolean checking;

    SaslGate(BinarySession session, AuthFile auth, ProxyStats stats) {
        this.session = session;
        this.auth = auth;
        this.stats = stats;
    }

    boolean checking() {
        return checking;
    }

    /**
     * True when the gate answered {@code r} itself (a SASL command, or a command refused before
     * authentication); false when the session serves it.
     */
    boolean answers(BinaryRequest r) {
        BinaryOpcode op = r.opcode();
        if (op != null && op.isSasl() && !r.invalid()) {
            serveSasl(r);
            return true;
        }
        if (authenticated || op == BinaryOpcode.VERSION || (op != null && op.isSasl())) {
            return false; // a misshapen SASL command or Version: "Invalid arguments", as memcached
        }
        r.release();
        session.answerAndClose(BinaryResponses.error(session.ctx.alloc(), r, BinaryResponses.AUTH_ERROR, null));
        return true;
    }

    private void serveSasl(BinaryRequest r) {
        if (r.opcode() == BinaryOpcode.SASL_LIST_MECHS) {
            // memcached lists its SASL library's mechanisms (and forgets the client's login: not copied)
            session.answer(BinaryResponses.response(
                    session.ctx.alloc(),
                    r.rawOpcode(),
                    BinaryResponses.SUCCESS,
                    r.opaque(),
                    0,
                    null,
                    null,
                    Unpooled.copiedBuffer(MECHANISM, US_ASCII)));
            return;
        }
        byte[] data = r.value() == null ? new byte[0] : ByteBufUtil.getBytes(r.value());
        r.release();
        if (r.key().length > MAX_MECH_LENGTH) {
            session.answer(BinaryResponses.error(session.ctx.alloc(), r, BinaryResponses.INVALID_ARGUMENTS, null));
            return;
        }
        authenticated = false;
        if (r.opcode() == BinaryOpcode.SASL_AUTH) {
            awaitingStep = false;
            if (!MECHANISM.equalsIgnoreCase(new String(r.key(), US_ASCII))) {
                refuse(r);
                return;
            }
            if (data.length == 0 && !r.tooLarge()) {
                awaitingStep = true;
                session.answer(BinaryResponses.response(
                        session.ctx.alloc(),
                        r.rawOpcode(),
                        BinaryResponses.AUTH_CONTINUE,
                        r.opaque(),
                        0,
                        null,
                        null,
                        null));
                return;
            }
        } else if (!awaitingStep) {
            refuse(r);
            return;
        }
        String[] plain = r.tooLarge() ? null : plain(data);
        if (plain == null) {
            refuse(r);
            return;
        }
        check(r, plain[0], plain[1]);
    }

    /**
     * RFC 4616's message as {user, password}, or null when it is not one: three fields split by
     * NUL, a user and a password, and an authzid that is empty or the user (memcached's SASL
     * library lets no one act as another).
     */
    static String[] plain(byte[] message) {
        String[] fields = new String(message, UTF_8).split("\0", -1);
        if (fields.length != 3
                || fields[1].isEmpty()
                || fields[2].isEmpty()
                || !(fields[0].isEmpty() || fields[0].equals(fields[1]))) {
            return null;
        }
        return new String[] {fields[1], fields[2]};
    }

    private void refuse(BinaryRequest r) {
        stats.authCmd();
        stats.authError();
        session.answer(BinaryResponses.error(session.ctx.alloc(), r, BinaryResponses.AUTH_ERROR, null));
    }

    private void check(BinaryRequest r, String user, String password) {
        stats.authCmd();
        checking = true;
        ClientSession.Slot slot = session.newSlot();
        session.updateReading();
        auth.check(user, password, session.clientAddress(), outcome -> session.ctx
                .executor()
                .execute(() -> settled(r, slot, user, outcome)));
    }

    /** An attempt's outcome, on the client's loop: answered, then what waited behind it is served. */
    private void settled(BinaryRequest r, ClientSession.Slot slot, String user, AuthFile.Outcome outcome) {
        checking = false;
        ByteBuf reply;
        int refusal = outcome == AuthFile.Outcome.ACCEPTED ? session.loggedIn(user) : BinaryResponses.SUCCESS;
        if (refusal != BinaryResponses.SUCCESS) {
            stats.authError();
            slot.reply(BinaryResponses.error(session.ctx.alloc(), r, refusal, null));
            if (refusal == BinaryResponses.TEMPORARY_FAILURE) {
                session.answerAndClose(Unpooled.EMPTY_BUFFER); // the tenant is at its connection limit
            }
            session.serveHeld();
            return;
        }
        if (outcome == AuthFile.Outcome.ACCEPTED) {
            authenticated = true;
            awaitingStep = false;
            reply = BinaryResponses.response(
                    session.ctx.alloc(),
                    r.rawOpcode(),
                    BinaryResponses.SUCCESS,
                    r.opaque(),
                    0,
                    null,
                    null,
                    Unpooled.wrappedBuffer(AUTHENTICATED));
        } else {
            stats.authError();
            reply = BinaryResponses.error(session.ctx.alloc(), r, BinaryResponses.AUTH_ERROR, null);
        }
        slot.reply(reply);
        session.serveHeld();
    }
}
