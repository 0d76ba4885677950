package org.wharf.protocol.echo.internal;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/**
 * One UDP echo endpoint's figures since it first bound, kept across rebinds: datagrams and
 * bytes each way, and datagrams dropped by reason. Read from any thread.
 */
final class UdpEchoCounters {

    final LongAdder datagramsIn = new LongAdder();
    final LongAdder bytesIn = new LongAdder();
    final LongAdder datagramsOut = new LongAdder();
    final LongAdder bytesOut = new LongAdder();
    /** From the endpoint's own address and port: answering would talk to itself, forever. */
    final LongAdder droppedOwnAddress = new LongAdder();
    /** From a port other reflectors answer on (echo, chargen, DNS, ...) or this endpoint's own port on another host. */
    final LongAdder droppedReflectorPort = new LongAdder();
    /** From no address anyone can be answered at: port 0, the wildcard, multicast, broadcast. */
    final LongAdder droppedInvalidSource = new LongAdder();
    /** Over the per-source rate. */
    final LongAdder droppedSourceRate = new LongAdder();
    /** Over the rate for all sources together. */
    final LongAdder droppedTotalRate = new LongAdder();
    /** The socket's send queue was over its high-water mark. */
    final LongAdder droppedBusy = new LongAdder();
    /** Send and receive errors the transport reported. */
    final LongAdder errors = new LongAdder();
    /** Sources (IPv4 addresses, IPv6 /64s) whose rate is followed now, over the endpoint's sockets. */
    final LongAdder sources = new LongAdder();

    /** @return the figures by name, as {@code metrics} reports them */
    Map<String, Long> figures() {
        Map<String, Long> m = new LinkedHashMap<>();
        m.put("echo.udp.datagrams.in", datagramsIn.sum());
        m.put("echo.udp.bytes.in", bytesIn.sum());
        m.put("echo.udp.datagrams.out", datagramsOut.sum());
        m.put("echo.udp.bytes.out", bytesOut.sum());
        m.put("echo.udp.dropped.ownAddress", droppedOwnAddress.sum());
        m.put("echo.udp.dropped.reflectorPort", droppedReflectorPort.sum());
        m.put("echo.udp.dropped.invalidSource", droppedInvalidSource.sum());
        m.put("echo.udp.dropped.sourceRate", droppedSourceRate.sum());
        m.put("echo.udp.dropped.totalRate", droppedTotalRate.sum());
        m.put("echo.udp.dropped.busy", droppedBusy.sum());
        m.put("echo.udp.errors", errors.sum());
        m.put("echo.udp.sources", sources.sum());
        return m;
    }
}
