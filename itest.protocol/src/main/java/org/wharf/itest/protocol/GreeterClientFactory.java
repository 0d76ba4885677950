package org.wharf.itest.protocol;

import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import org.osgi.service.component.annotations.Component;
import org.wharf.protocol.api.LineFrameDecoder;
import org.wharf.protocol.api.MessageProtocol;
import org.wharf.protocol.api.ProtocolContext;
import org.wharf.protocol.api.ProtocolFactory;
import org.wharf.protocol.api.ProtocolProperties;
import org.wharf.transport.api.Protocol;

/** The client side of {@code greeter} ({@code greeter-client}): keeps the lines it is answered. */
@Component(service = ProtocolFactory.class)
@ProtocolProperties(name = "greeter-client")
public final class GreeterClientFactory implements ProtocolFactory {

    /** Made by Declarative Services. */
    public GreeterClientFactory() {
    }

    @Override
    public Protocol newProtocol(ProtocolContext context) {
        return new GreeterClient();
    }

    /** Keeps every answer line. */
    public static final class GreeterClient extends MessageProtocol<String> {
        private final BlockingQueue<String> answers;

        GreeterClient() {
            this(new LinkedBlockingQueue<>());
        }

        private GreeterClient(BlockingQueue<String> answers) {
            super(new LineFrameDecoder(1024), (line, transport) -> answers.add(line));
            this.answers = answers;
        }

        /**
         * The next answer line.
         *
         * @param millis how long to wait
         * @return the line, or {@code null} if none came
         * @throws InterruptedException if interrupted
         */
        public String next(long millis) throws InterruptedException {
            return answers.poll(millis, TimeUnit.MILLISECONDS);
        }
    }
}
