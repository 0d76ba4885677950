package org.wharf.endpoints.internal;

import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.SimpleFormatter;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.log.Logger;
import org.osgi.service.log.LoggerFactory;

/**
 * The one way Wharf logs inside a framework, kept by the endpoints runtime (the bundle every
 * Wharf platform runs). Every Wharf class logs through
 * {@link System.Logger} (named {@code org.wharf.<bundle>}), whose default back end is
 * {@code java.util.logging}; while a Log Service runs, this bridge takes the {@code org.wharf}
 * part of that tree and hands each record to the Log Service's logger of the same name, so
 * Wharf's lines reach the Log Service, its levels and its listeners (Karaf's Pax Logging, the
 * launcher's console) and nothing else. Outside a framework nothing changes: the same calls
 * go to {@code java.util.logging}.
 */
@Component(immediate = true, service = {})
public final class LogServiceBridge {

    private static final String ROOT = "org.wharf";

    /** Held strongly: java.util.logging keeps its loggers only weakly. */
    private final java.util.logging.Logger wharf = java.util.logging.Logger.getLogger(ROOT);
    @Reference
    private LoggerFactory factory;
    private final Bridge handler = new Bridge();
    private boolean parentHandlersBefore;
    private Level levelBefore;

    /** Made by Declarative Services while a Log Service runs. */
    public LogServiceBridge() {
    }

    @Activate
    void activate() {
        parentHandlersBefore = wharf.getUseParentHandlers();
        levelBefore = wharf.getLevel();
        wharf.addHandler(handler);
        wharf.setUseParentHandlers(false);
        // The Log Service decides what is kept; debug lines are rare and cheap to hand over.
        wharf.setLevel(Level.ALL);
    }

    @Deactivate
    void deactivate() {
        wharf.removeHandler(handler);
        wharf.setUseParentHandlers(parentHandlersBefore);
        wharf.setLevel(levelBefore);
    }

    /** Hands java.util.logging records to the Log Service. */
    private final class Bridge extends Handler {
        private final SimpleFormatter messages = new SimpleFormatter();

        Bridge() {
            setLevel(Level.ALL);
        }

        @Override
        public void publish(LogRecord record) {
            Logger logger = factory.getLogger(record.getLoggerName() == null ? ROOT : record.getLoggerName());
            String message = messages.formatMessage(record);
            Throwable thrown = record.getThrown();
            int level = record.getLevel().intValue();
            // "{}" with the message as its argument: a '{}' in a message is not a placeholder.
            if (level >= Level.SEVERE.intValue()) {
                logger.error("{}", message, thrown);
            } else if (level >= Level.WARNING.intValue()) {
                logger.warn("{}", message, thrown);
            } else if (level >= Level.INFO.intValue()) {
                logger.info("{}", message, thrown);
            } else if (level >= Level.FINE.intValue()) {
                logger.debug("{}", message, thrown);
            } else {
                logger.trace("{}", message, thrown);
            }
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    }
}
