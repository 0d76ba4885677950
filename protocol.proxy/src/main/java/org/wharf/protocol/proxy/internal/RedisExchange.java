package org.wharf.protocol.proxy.internal;

import java.nio.ByteBuffer;
import java.util.Set;

/**
 * A Redis client's exchange over a pooled connection: each command it sends is owed one
 * reply, and the connection is reusable once every reply has come back whole. Commands after
 * which the connection is not what the next client expects make it unsafe: blocking ones
 * (their reply may come at any time), subscriptions and MONITOR (messages without requests),
 * and those that change the connection's state (database, user, protocol version, client
 * flags and tracking, replication); a transaction or WATCH left open when the client ends
 * does too.
 */
final class RedisExchange extends Exchange implements RespRequests.Commands {

    /** Commands after which the connection is never handed to another client. */
    static final Set<String> UNSAFE = Set.of(
            // blocking: the reply comes when the server decides
            "BLPOP", "BRPOP", "BRPOPLPUSH", "BLMOVE", "BLMPOP", "BZPOPMIN", "BZPOPMAX", "BZMPOP", "WAIT", "WAITAOF",
            // messages without requests
            "SUBSCRIBE", "PSUBSCRIBE", "SSUBSCRIBE", "UNSUBSCRIBE", "PUNSUBSCRIBE", "SUNSUBSCRIBE", "MONITOR",
            "SYNC", "PSYNC", "REPLCONF",
            // the connection's own state
            "SELECT", "AUTH", "HELLO", "CLIENT", "READONLY", "READWRITE", "RESET", "ASKING", "QUIT");

    private final RespRequests requests = new RespRequests(this);
    private final RespReplies replies = new RespReplies();
    /** Commands read, each owed one reply. */
    private long sent;
    private boolean multi;
    private boolean watching;

    @Override
    public void command(String name, boolean blockArgument) {
        sent++;
        switch (name) {
            case "MULTI" -> multi = true;
            case "EXEC", "DISCARD" -> {
                // Only a transaction's end unwatches: without MULTI, Redis refuses them with an
                // error and the keys stay watched (the next client's transactions would fail).
                if (multi) {
                    watching = false;
                }
                multi = false;
            }
            case "WATCH" -> watching = true;
            case "UNWATCH" -> watching = false;
            case "XREAD", "XREADGROUP" -> {
                if (blockArgument) {
                    unsafe("the client sent " + name + " BLOCK, a blocking command");
                }
            }
            default -> {
                if (UNSAFE.contains(name)) {
                    unsafe("the client sent " + name + ", after which the connection is not fit for another client");
                }
            }
        }
    }

    @Override
    void requests(ByteBuffer data) {
        requests.feed(data);
        if (requests.failed()) {
            unsafe("the client sent what Redis does not read as a command (" + requests.error() + ")");
        }
    }

    @Override
    void answers(ByteBuffer data) {
        replies.feed(data);
        if (replies.failed()) {
            unsafe("the upstream sent what is not RESP (" + replies.error() + ")");
        } else if (replies.replies() > sent) {
            unsafe("the upstream sent a reply no command asked for");
        }
    }

    @Override
    boolean midRequest() {
        return requests.midCommand();
    }

    @Override
    boolean settled() {
        return !requests.midCommand() && replies.atBoundary() && replies.replies() == sent && !multi && !watching;
    }

    @Override
    String owed() {
        return (sent - replies.replies()) + " of " + sent + " replies owed" + (requests.midCommand() ? ", a command cut off"
                : "") + (replies.atBoundary() ? "" : ", a reply cut off") + (multi ? ", a transaction open" : "")
                + (watching ? ", keys watched" : "");
    }

    @Override
    void ended() {
        if (multi || watching) {
            unsafe("the client left a transaction or WATCH open");
        }
    }

    /** @return commands read so far, for tests */
    long commands() {
        return sent;
    }
}
