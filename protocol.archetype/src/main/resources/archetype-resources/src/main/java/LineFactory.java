package ${package};

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

import org.osgi.service.component.annotations.Component;
import org.wharf.protocol.api.LineFrameDecoder;
import org.wharf.protocol.api.MessageProtocol;
import org.wharf.protocol.api.ProtocolContext;
import org.wharf.protocol.api.ProtocolFactory;
import org.wharf.protocol.api.ProtocolProperties;
import org.wharf.transport.api.Protocol;

import aQute.bnd.annotation.Resolution;
import aQute.bnd.annotation.spi.ServiceProvider;

/**
 * The {@code ${protocol}} protocol: each line comes back in capitals. Registered as a service
 * while the bundle runs (endpoints select it with {@code protocol = ${protocol}}), and as a
 * {@link java.util.ServiceLoader} provider for the plain module path.
 */
@Component(service = ProtocolFactory.class)
@ProtocolProperties(name = "${protocol}")
@ServiceProvider(value = ProtocolFactory.class, resolution = Resolution.OPTIONAL)
public final class LineFactory implements ProtocolFactory {

    /** Made by Declarative Services or ServiceLoader. */
    public LineFactory() {
    }

    @Override
    public Protocol newProtocol(ProtocolContext context) {      // one protocol per connection
        return new MessageProtocol<>(
                new LineFrameDecoder(8192),                     // lines up to 8 KiB, any split of the input
                (line, transport) -> transport.write(ByteBuffer.wrap(
                        (line.toUpperCase(Locale.ROOT) + "\r\n").getBytes(StandardCharsets.UTF_8))));
    }
}
