package org.wharf.itest.protocol;

import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.wharf.protocol.api.DatagramProtocolFactory;
import org.wharf.protocol.api.LineFrameDecoder;
import org.wharf.protocol.api.MessageProtocol;
import org.wharf.protocol.api.ProtocolContext;
import org.wharf.protocol.api.ProtocolFactory;
import org.wharf.protocol.api.ProtocolProperties;
import org.wharf.transport.api.DatagramProtocol;
import org.wharf.transport.api.DatagramTransport;
import org.wharf.transport.api.Protocol;

/**
 * The {@code greeter} protocol: answers each line with {@code greeter <bundle version>: <line>},
 * so a test sees which version of the bundle served it. Datagrams are answered the same way.
 */
@Component(service = {ProtocolFactory.class, DatagramProtocolFactory.class})
@ProtocolProperties(name = "greeter")
@aQute.bnd.annotation.spi.ServiceProvider(value = ProtocolFactory.class,
        resolution = aQute.bnd.annotation.Resolution.OPTIONAL)
@aQute.bnd.annotation.spi.ServiceProvider(value = DatagramProtocolFactory.class,
        resolution = aQute.bnd.annotation.Resolution.OPTIONAL)
public final class GreeterFactory implements ProtocolFactory, DatagramProtocolFactory {

    /** Outside a framework (ServiceLoader) the version is the module's; inside, the bundle's (activate). */
    private volatile String prefix = "greeter " + moduleVersion() + ": ";

    private static String moduleVersion() {
        java.lang.module.ModuleDescriptor d = GreeterFactory.class.getModule().getDescriptor();
        return d == null ? "?" : d.rawVersion().orElse("?");
    }

    /** Made by Declarative Services. */
    public GreeterFactory() {
    }

    @Activate
    void activate(BundleContext context) {
        prefix = "greeter " + context.getBundle().getVersion() + ": ";
    }

    /**
     * After deactivation no connection should reach this object; one that does anyway is
     * answered {@code greeter gone: <line>}, so a test sees the platform's mistake.
     */
    @Deactivate
    void deactivate() {
        prefix = "greeter gone: ";
    }

    @Override
    public Protocol newProtocol(ProtocolContext context) {
        String p = prefix;
        return new MessageProtocol<>(new LineFrameDecoder(1024), (line, transport) -> {
            failAsTheVirtualMachineWould(line);
            transport.write(ByteBuffer.wrap((p + line + "\n").getBytes(StandardCharsets.UTF_8)));
        });
    }

    /**
     * Two lines make the greeter fail as a broken virtual machine would, for the tests of the
     * platform's last line of defence: {@code fatal:InternalError} throws one on the event loop,
     * {@code fatal:OutOfMemoryError} asks for more memory than any heap has.
     */
    private static void failAsTheVirtualMachineWould(String line) {
        if (line.equals("fatal:InternalError")) {
            throw new InternalError("the greeter was asked to fail as the virtual machine would");
        }
        if (line.equals("fatal:OutOfMemoryError")) {
            long[][] hoard = new long[64][];
            for (int i = 0; i < hoard.length; i++) {
                hoard[i] = new long[Integer.MAX_VALUE - 8]; // 16 GiB each: the heap runs out
            }
        }
    }

    @Override
    public DatagramProtocol newDatagramProtocol(ProtocolContext context) {
        String p = prefix;
        return new DatagramProtocol() {
            private DatagramTransport transport;

            @Override
            public void connectionMade(DatagramTransport t) {
                transport = t;
            }

            @Override
            public void datagramReceived(ByteBuffer data, SocketAddress sender) {
                byte[] in = new byte[data.remaining()];
                data.get(in);
                transport.sendTo(ByteBuffer.wrap((p + new String(in, StandardCharsets.UTF_8)).getBytes(
                        StandardCharsets.UTF_8)), sender);
            }

            @Override
            public void connectionLost(Throwable cause) {
            }
        };
    }
}
