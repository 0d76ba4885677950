package org.wharf.endpoints.whiteboard;

import java.text.MessageFormat;
import java.util.ResourceBundle;
import java.util.function.Supplier;

import org.osgi.service.log.Logger;
import org.osgi.service.log.LoggerFactory;

/** A {@link System.Logger} that writes to the OSGi Log Service while there is one. */
final class LogServiceLogger implements System.Logger {

    private final String name;
    private final Supplier<LoggerFactory> factory;
    private final System.Logger fallback;

    LogServiceLogger(String name, Supplier<LoggerFactory> factory) {
        this.name = name;
        this.factory = factory;
        this.fallback = System.getLogger(name);
    }

    @Override
    public String getName() {
        return name;
    }

    @Override
    public boolean isLoggable(Level level) {
        Logger l = logger();
        if (l == null) {
            return fallback.isLoggable(level);
        }
        return switch (level) {
            case ALL, TRACE -> l.isTraceEnabled();
            case DEBUG -> l.isDebugEnabled();
            case INFO -> l.isInfoEnabled();
            case WARNING -> l.isWarnEnabled();
            case ERROR -> l.isErrorEnabled();
            default -> false;
        };
    }

    @Override
    public void log(Level level, ResourceBundle bundle, String message, Throwable thrown) {
        Logger l = logger();
        if (l == null) {
            fallback.log(level, bundle, message, thrown);
            return;
        }
        switch (level) {
            case ALL, TRACE -> l.trace(message, thrown);
            case DEBUG -> l.debug(message, thrown);
            case INFO -> l.info(message, thrown);
            case WARNING -> l.warn(message, thrown);
            case ERROR -> l.error(message, thrown);
            default -> { }
        }
    }

    @Override
    public void log(Level level, ResourceBundle bundle, String format, Object... params) {
        log(level, bundle, params == null || params.length == 0 ? format : MessageFormat.format(format, params),
                (Throwable) null);
    }

    private Logger logger() {
        LoggerFactory f = factory.get();
        return f == null ? null : f.getLogger(name);
    }
}
