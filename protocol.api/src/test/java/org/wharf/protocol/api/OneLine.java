package org.wharf.protocol.api;

import java.nio.ByteBuffer;
import java.util.function.BiConsumer;

/** A request of one line, ended by LF; the test answers it and the request finishes. */
final class OneLine implements ProtocolConsumer {

    private final BiConsumer<Connection, String> answer;
    private final StringBuilder line = new StringBuilder();
    private Connection connection;

    /** @param answer writes the answer to the line (without its LF) */
    OneLine(BiConsumer<Connection, String> answer) {
        this.answer = answer;
    }

    @Override
    public void start(Connection c) {
        connection = c;
    }

    @Override
    public void dataReceived(ByteBuffer data) {
        while (data.hasRemaining()) {
            char ch = (char) data.get();
            if (ch == '\n') {
                answer.accept(connection, line.toString());
                connection.finished(this);
                return;
            }
            line.append(ch);
        }
    }
}
