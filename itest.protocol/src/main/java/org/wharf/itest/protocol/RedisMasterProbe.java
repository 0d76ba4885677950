package org.wharf.itest.protocol;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

import org.osgi.service.component.annotations.Component;
import org.wharf.protocol.api.HealthProbe;
import org.wharf.transport.api.Protocol;
import org.wharf.transport.api.Transport;

/**
 * The {@code redis-master} health probe, as a protocol bundle other than the gateway supplies
 * one: {@code INFO replication}, healthy only when the server says {@code role:master}, so a
 * gateway route with {@code proxy.health.probe = redis-master} sends no client to a replica.
 */
@Component(service = HealthProbe.class, property = HealthProbe.NAME_PROPERTY + "=redis-master")
public final class RedisMasterProbe implements HealthProbe {

    /** Made by Declarative Services. */
    public RedisMasterProbe() {
    }

    @Override
    public Protocol newCheck(Check check) {
        return new Protocol() {
            private final ByteArrayOutputStream answer = new ByteArrayOutputStream();

            @Override
            public void connectionMade(Transport transport) {
                transport.write(ByteBuffer.wrap("*2\r\n$4\r\nINFO\r\n$11\r\nreplication\r\n".getBytes(
                        StandardCharsets.US_ASCII)));
            }

            @Override
            public void dataReceived(ByteBuffer data) {
                byte[] bytes = new byte[data.remaining()];
                data.get(bytes);
                answer.writeBytes(bytes);
                String text = answer.toString(StandardCharsets.US_ASCII);
                int header = text.indexOf("\r\n");
                if (header < 0) {
                    return;
                }
                if (text.charAt(0) != '$') {
                    check.unhealthy("answered INFO replication with " + text.substring(0, header));
                    return;
                }
                // A bulk string: $LENGTH, then that many bytes; the gateway bounds how many it hands over.
                int length = Integer.parseInt(text.substring(1, header));
                if (text.length() < header + 2 + length) {
                    return;
                }
                String info = text.substring(header + 2, header + 2 + length);
                if (info.contains("\r\nrole:master\r\n")) {
                    check.healthy();
                } else {
                    int at = info.indexOf("role:");
                    check.unhealthy("is not a master ("
                            + (at < 0 ? "no role in INFO replication" : info.substring(at, info.indexOf('\r', at))) + ")");
                }
            }

            @Override
            public void connectionLost(Throwable cause) {
            }
        };
    }
}
