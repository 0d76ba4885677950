package org.wharf.protocol.proxy.internal;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

import org.wharf.protocol.api.HealthProbe;
import org.wharf.transport.api.Protocol;
import org.wharf.transport.api.Transport;

/**
 * The gateway's own probes ({@link RedisPingProbe}, {@link HttpHeadProbe}): one request, and a
 * verdict on the first line of the answer. How much is read and for how long is the gateway's
 * to bound ({@link HealthCheck}), so the line is kept as it comes.
 */
abstract class FirstLineProbe implements HealthProbe {

    /** @return the request, sent as soon as the check connection is made */
    abstract String request(Check check);

    /** @return what is wrong with the answer's first line (without its CRLF), or null if nothing is */
    abstract String judge(String line);

    @Override
    public Protocol newCheck(Check check) {
        return new Protocol() {
            private final ByteArrayOutputStream line = new ByteArrayOutputStream();

            @Override
            public void connectionMade(Transport transport) {
                transport.write(ByteBuffer.wrap(request(check).getBytes(StandardCharsets.US_ASCII)));
            }

            @Override
            public void dataReceived(ByteBuffer data) {
                while (data.hasRemaining()) {
                    byte b = data.get();
                    if (b == '\n') {
                        byte[] got = line.toByteArray();
                        int end = got.length > 0 && got[got.length - 1] == '\r' ? got.length - 1 : got.length;
                        String problem = judge(new String(got, 0, end, StandardCharsets.US_ASCII));
                        if (problem == null) {
                            check.healthy();
                        } else {
                            check.unhealthy(problem);
                        }
                        return;
                    }
                    line.write(b);
                }
            }

            @Override
            public void connectionLost(Throwable cause) {
                // the gateway fails a check that ends without a verdict
            }
        };
    }
}
