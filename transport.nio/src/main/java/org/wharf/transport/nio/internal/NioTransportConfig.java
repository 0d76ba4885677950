package org.wharf.transport.nio.internal;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/** Configuration of the NIO transports (PID {@code org.wharf.transport.nio}). */
@ObjectClassDefinition(id = "org.wharf.transport.nio", name = "Wharf NIO transports",
        description = "Event loops of the TCP and UDP transports. A change restarts the loops and closes their connections.")
@interface NioTransportConfig {

    @AttributeDefinition(name = "Event loop threads", min = "0", max = "1024",
            description = "Selector threads that run the connections; 0 for one per processor.")
    int loopThreads() default 0;

    @AttributeDefinition(name = "Read buffer size", min = "512", max = "16777216",
            description = "Bytes read from a connection at a time (one buffer per loop thread).")
    int readBufferSize() default 65536;

    @AttributeDefinition(name = "Write buffer high-water mark", min = "0",
            description = "Default bytes queued for writing above which a protocol is told to pause writing.")
    int writeBufferHigh() default 65536;

    @AttributeDefinition(name = "Write buffer low-water mark", min = "-1",
            description = "Default bytes queued at or below which a paused protocol is told to resume writing; "
                    + "-1 (unset) for a quarter of the high-water mark.")
    int writeBufferLow() default -1;

    @AttributeDefinition(name = "UDP batch", min = "0", max = "64",
            description = "Datagrams received or sent per system call where the native batch path is installed "
                    + "(the org.wharf.transport.nio.ffm fragment: Linux, Java 22+); 0 turns it off. Each event loop "
                    + "keeps this many 64 KiB receive slots.")
    int udpBatch() default 16;

    @AttributeDefinition(name = "Close timeout (ms)", min = "0",
            description = "How long a closing TCP connection (TLS too), or a half-close (writeEof) waiting for "
                    + "queued bytes, may go without its peer taking a byte of what "
                    + "is still to be written before it is aborted, so a client that stops reading cannot hold it "
                    + "open; each period in which the peer takes some starts another. 0 waits for ever.")
    long closeTimeout() default 30000;

    @AttributeDefinition(name = "Busy poll (µs)", min = "0", max = "10000",
            description = "How long an event loop that was busy a moment ago polls for I/O before it sleeps. "
                    + "A sleeping loop is woken by the kernel when a packet comes, which on a virtual machine "
                    + "costs the sending core an interrupt; polling spares that while requests come in quick "
                    + "succession, for the CPU the polling takes. Adaptive: a poll that finds nothing halves "
                    + "the next, so an idle loop soon sleeps at once. 0 never polls (like HAProxy's "
                    + "busy-polling, which is off unless set).")
    int busyPollMicros() default 0;
}
