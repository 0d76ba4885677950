package org.wharf.transport.tck;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.logging.SimpleFormatter;

/**
 * Keeps what Wharf logs while a test runs: Wharf logs through {@link System.Logger}, which
 * outside a framework writes to {@code java.util.logging}; this handler sits on the
 * {@code org.wharf} logger (the lines still reach the console too). Close it when done.
 */
public final class LogCapture extends Handler implements AutoCloseable {

    /**
     * One line logged.
     *
     * @param logger the logger's name
     * @param level the level
     * @param message the message
     * @param error the exception logged with it, or {@code null}
     */
    public record Line(String logger, Level level, String message, Throwable error) {
        /**
         * The message and the messages of the exception and its causes, as one text.
         *
         * @return the text
         */
        public String text() {
            StringBuilder b = new StringBuilder(message);
            for (Throwable t = error; t != null; t = t.getCause()) {
                b.append(": ").append(t.getMessage());
            }
            return b.toString();
        }
    }

    private final Logger wharf = Logger.getLogger("org.wharf");
    private final List<Line> lines = new CopyOnWriteArrayList<>();
    private final SimpleFormatter formatter = new SimpleFormatter();

    /** Starts capturing. */
    public LogCapture() {
        setLevel(Level.ALL);
        wharf.addHandler(this);
    }

    @Override
    public void publish(LogRecord record) {
        lines.add(new Line(record.getLoggerName(), record.getLevel(), formatter.formatMessage(record), record.getThrown()));
    }

    /**
     * What was logged so far.
     *
     * @return the lines, oldest first
     */
    public List<Line> lines() {
        return List.copyOf(lines);
    }

    /**
     * The warnings (and worse) logged so far, as text.
     *
     * @return the messages
     */
    public List<String> warnings() {
        return lines.stream().filter(l -> l.level().intValue() >= Level.WARNING.intValue()).map(Line::message).toList();
    }

    /**
     * Tells whether a line containing some text was logged.
     *
     * @param text the text
     * @return {@code true} if one was
     */
    public boolean contains(String text) {
        return lines.stream().anyMatch(l -> l.text().contains(text));
    }

    /** Forgets what was captured so far. */
    public void clear() {
        lines.clear();
    }

    @Override
    public void flush() {
    }

    @Override
    public void close() {
        wharf.removeHandler(this);
    }
}
