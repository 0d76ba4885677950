package org.wharf.protocol.echo.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import org.junit.jupiter.api.Test;
import org.wharf.protocol.api.DatagramProtocolFactory;
import org.wharf.protocol.api.ProtocolContext;
import org.wharf.protocol.api.ProtocolFactory;
import org.wharf.protocol.api.ProtocolProperties;
import org.wharf.transport.api.WriteBufferLimits;
import org.wharf.transport.tck.ManualEventLoop;
import org.wharf.transport.tck.MemoryTransport;

class EchoFactoryTest {

    private final ManualEventLoop loop = new ManualEventLoop();
    private final MemoryTransport transport = new MemoryTransport(loop);

    @Test
    void everyByteComesBackAndEndOfInputClosesAfterTheLastOne() {
        transport.start(new EchoFactory().newProtocol(ProtocolContext.of("test", "tcp")));
        transport.receive("hello ");
        transport.receive("world");
        assertEquals("hello world", transport.writtenText());
        transport.receiveEof();
        assertTrue(transport.isClosing());
    }

    @Test
    void aSlowReaderPausesReadingUntilTheEchoDrains() {
        transport.start(new EchoFactory().newProtocol(ProtocolContext.of("test", "tcp")));
        transport.setAutoFlush(false);
        transport.setWriteBufferLimits(new WriteBufferLimits(10, 2));
        transport.receive("0123456789abc");
        assertFalse(transport.isReading(), "more queued than the high mark: reading pauses");
        transport.flush(11);
        assertTrue(transport.isReading(), "drained to the low mark: reading resumes");
        loop.runPending(); // a resume takes effect on the loop's next turn
        assertEquals(1, transport.readingPauses());
        assertEquals(1, transport.readingResumes());
    }

    @Test
    void itSaysWhatItIsInOneAnnotation() {
        ProtocolProperties properties = EchoFactory.class.getAnnotation(ProtocolProperties.class);
        assertEquals("echo", properties.name());
        assertEquals(0, properties.transports().length, "no narrowing: every kind of its interfaces");
        assertTrue(ProtocolFactory.class.isAssignableFrom(EchoFactory.class), "stream: tcp and ssl");
        assertTrue(DatagramProtocolFactory.class.isAssignableFrom(EchoFactory.class), "datagram: udp");
    }
}
