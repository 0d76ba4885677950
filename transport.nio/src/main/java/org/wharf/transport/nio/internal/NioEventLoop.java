package org.wharf.transport.nio.internal;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectableChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.ArrayList;
import java.util.List;
import java.util.PriorityQueue;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import org.wharf.transport.api.EventLoop;
import org.wharf.transport.api.TimerHandle;
import org.wharf.transport.core.AbstractTransport;

/**
 * One selector, one thread: runs the I/O of the channels registered with it, the tasks
 * handed to it and its timers, in that order on each turn.
 *
 * <p>Tasks from other threads go into a lock-free queue; the selector is woken at most once
 * until the loop next looks at the queue, however many tasks arrive. Timers live in a heap
 * owned by the loop thread; the select timeout is the time to the next one.
 *
 * <p>The loop survives what its work throws: a task or timer that throws is logged, an I/O
 * handler that throws closes its own channel. Only a {@linkplain AbstractTransport#isFatal
 * fatal} error ends the thread; then its channels are closed (their protocols get
 * {@code connectionLost}), it is logged once, and the group hears of it and stops giving the
 * loop new channels. Every task handed to {@link #execute} either runs or is refused.
 */
public final class NioEventLoop implements EventLoop {

    /** The largest datagram receive buffer: 64 KiB and one byte, to tell truncation. */
    static final int DATAGRAM_BUFFER = 65536 + 1;
    /** Buffers per gathering write. */
    static final int MAX_GATHER = 64;
    /** Tasks per turn before I/O gets its turn again, so tasks that queue tasks cannot starve it. */
    private static final int MAX_TASKS_PER_TURN = 1024;

    private final Selector selector;
    private final Thread thread;
    private static final System.Logger LOG = System.getLogger("org.wharf.transport.nio");
    private final Queue<Runnable> tasks = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean wakeupPending = new AtomicBoolean();
    private final PriorityQueue<LoopTimer> timers = new PriorityQueue<>();
    private final AtomicInteger cancelledTimers = new AtomicInteger();
    /** A selection is dispatching (the selector refuses another from inside it). On the loop. */
    private boolean selecting;
    /** A channel closed during a selection: select again before anything else. On the loop. */
    private boolean selectAgain;
    private final ByteBuffer readBuffer;
    private final ByteBuffer datagramBuffer;
    /** Datagrams per batch call (settings); 0 for none. */
    private final int udpBatch;
    /** The loop's batch I/O, made at the first datagram transport; absent without the fragment. */
    private java.util.Optional<DatagramBatch> datagramBatch;
    private final ChunkPool chunks = new ChunkPool();
    private final ByteBuffer[] gather = new ByteBuffer[MAX_GATHER];
    /** For a selection that only deregisters cancelled keys: the events it finds come again. */
    private static final java.util.function.Consumer<SelectionKey> IGNORE = key -> { };
    /** {@link #dispatch}, made once: a method reference evaluated per selection allocates per wakeup. */
    private final java.util.function.Consumer<SelectionKey> dispatcher = this::dispatch;
    private final CompletableFuture<Void> terminated = new CompletableFuture<>();
    private final java.util.function.BiConsumer<NioEventLoop, Throwable> onDeath;
    private volatile boolean shuttingDown;
    /** The thread takes no more tasks: set after its last drain but one. */
    private volatile boolean ended;
    private volatile Throwable death;
    private long timerSequence;

    /** How often the lag probe runs. */
    static final long LAG_PROBE_NANOS = TimeUnit.MILLISECONDS.toNanos(500);
    // Figures for metrics: counted by the loop thread alone, published once per turn with an
    // ordered store, so the hot path pays no atomic operation per task or event.
    private long tasksRunHere;
    private long ioEventsHere;
    private final java.util.concurrent.atomic.AtomicLong tasksRun = new java.util.concurrent.atomic.AtomicLong();
    private final java.util.concurrent.atomic.AtomicLong ioEvents = new java.util.concurrent.atomic.AtomicLong();
    private final java.util.concurrent.atomic.AtomicLong busyPolls = new java.util.concurrent.atomic.AtomicLong();
    private final java.util.concurrent.atomic.AtomicLong busyPollsFound = new java.util.concurrent.atomic.AtomicLong();
    private final java.util.concurrent.atomic.AtomicInteger channelCount =
            new java.util.concurrent.atomic.AtomicInteger();
    private final org.wharf.transport.api.Histogram lag = org.wharf.transport.api.Histogram.ofDurations();

    /** How long a closing connection of this loop may go without its peer taking a byte. */
    private final java.time.Duration closeTimeout;
    /** Polling before the loop sleeps ({@code busyPollMicros}); null when off. */
    private final BusyPoll busyPoll;
    /** When the loop last went idle (its poll began); with {@link #busyPoll} only. */
    private long idleSince;

    NioEventLoop(String name, int readBufferSize) {
        this(name, readBufferSize, NioSettings.DEFAULT_UDP_BATCH, (loop, error) -> { });
    }

    NioEventLoop(String name, int readBufferSize, int udpBatch,
            java.util.function.BiConsumer<NioEventLoop, Throwable> onDeath) {
        this(name, readBufferSize, udpBatch, NioSettings.DEFAULT_CLOSE_TIMEOUT, onDeath);
    }

    NioEventLoop(String name, int readBufferSize, int udpBatch, java.time.Duration closeTimeout,
            java.util.function.BiConsumer<NioEventLoop, Throwable> onDeath) {
        this(name, readBufferSize, udpBatch, closeTimeout, 0, onDeath);
    }

    NioEventLoop(String name, int readBufferSize, int udpBatch, java.time.Duration closeTimeout, int busyPollMicros,
            java.util.function.BiConsumer<NioEventLoop, Throwable> onDeath) {
        this.onDeath = onDeath;
        this.busyPoll = busyPollMicros == 0 ? null : new BusyPoll(TimeUnit.MICROSECONDS.toNanos(busyPollMicros));
        this.closeTimeout = closeTimeout;
        this.udpBatch = udpBatch;
        try {
            this.selector = Selector.open();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open a selector for " + name, e);
        }
        this.readBuffer = ByteBuffer.allocateDirect(readBufferSize);
        this.datagramBuffer = ByteBuffer.allocateDirect(DATAGRAM_BUFFER);
        this.thread = new Thread(this::run, name);
        this.thread.setDaemon(true);
        // No class loader of ours is kept reachable from the thread.
        this.thread.setContextClassLoader(null);
    }

    /** @return how long a closing connection of this loop may go without its peer taking a byte (zero: for ever) */
    java.time.Duration closeTimeout() {
        return closeTimeout;
    }

    void start() {
        thread.start();
    }

    @Override
    public boolean inEventLoop() {
        return Thread.currentThread() == thread;
    }

    @Override
    public void execute(Runnable task) {
        // While shutting down the loop still takes its own tasks (connectionLost calls).
        if (shuttingDown && !inEventLoop()) {
            throw new RejectedExecutionException(thread.getName() + " is shut down");
        }
        tasks.add(task);
        if (!inEventLoop()) {
            // The thread may have taken its last look at the queue since the check above: then
            // the task would never run, so it is refused instead (unless the last look took it).
            if (ended && tasks.remove(task)) {
                throw new RejectedExecutionException(thread.getName() + " is shut down");
            }
            if (wakeupPending.compareAndSet(false, true)) {
                selector.wakeup();
            }
        }
    }

    @Override
    public TimerHandle schedule(Runnable task, long delay, TimeUnit unit) {
        if (delay < 0) {
            throw new IllegalArgumentException("delay must be >= 0, got " + delay);
        }
        LoopTimer timer = new LoopTimer(task, System.nanoTime() + unit.toNanos(delay), cancelledTimers);
        if (inEventLoop()) {
            addTimer(timer);
        } else {
            execute(() -> addTimer(timer));
        }
        return timer;
    }

    /** Registers a channel; on the loop thread. */
    SelectionKey register(SelectableChannel channel, int ops, Selectable handler) throws IOException {
        return channel.register(selector, ops, handler);
    }

    /** The loop's read buffer, cleared; valid until the loop's next read. On the loop thread. */
    ByteBuffer readBuffer() {
        return readBuffer.clear();
    }

    /** The direct buffers transports copy unsent bytes into. On the loop thread. */
    ChunkPool chunks() {
        return chunks;
    }

    /** The loop's datagram buffer, cleared and limited to {@code size + 1} bytes. On the loop thread. */
    ByteBuffer datagramBuffer(int size) {
        return datagramBuffer.clear().limit(size + 1);
    }

    /** Whether a buffer is one the loop lends to receive callbacks (its read or datagram buffers). */
    boolean isLoopBuffer(ByteBuffer buffer) {
        return buffer == readBuffer || buffer == datagramBuffer
                || (datagramBatch != null && datagramBatch.isPresent() && datagramBatch.get().isSlot(buffer));
    }

    /**
     * Gives the loop a batch of its own, in place of the fragment's: for tests of the
     * transport's batch logic on any JVM. On the loop thread, before its first datagram transport.
     */
    void datagramBatch(DatagramBatch batch) {
        datagramBatch = java.util.Optional.of(batch);
    }

    /**
     * The loop's batch datagram I/O (recvmmsg and sendmmsg), made at the first call; empty when
     * turned off or where the native path is not installed or cannot run. On the loop thread.
     */
    java.util.Optional<DatagramBatch> datagramBatch() {
        if (datagramBatch == null) {
            datagramBatch = DatagramBatch.open(udpBatch);
        }
        return datagramBatch;
    }

    /** The loop's array for gathering writes, all nulls; put back as found. On the loop thread. */
    ByteBuffer[] gatherArray() {
        return gather;
    }

    /** Whether the loop's thread ended on a fatal error. */
    boolean isDead() {
        return death != null;
    }

    String name() {
        return thread.getName();
    }

    /** Number of channels registered (for introspection and tests). */
    int channels() {
        return selector.keys().size();
    }

    /** The loop's figures for metrics, as of its last turn; from any thread. */
    org.wharf.transport.api.LoopStats stats() {
        return new org.wharf.transport.api.LoopStats(thread.getName(), channelCount.get(), tasksRun.get(),
                ioEvents.get(), lag.snapshot(), busyPolls.get(), busyPollsFound.get());
    }

    /**
     * Measures the lag: a timer at a known deadline hands a task to the loop's queue; the time
     * from the deadline to that task's run is how long work waits here (I/O, the tasks ahead
     * of it, the timers). One sample per interval costs nothing on the paths of connections.
     *
     * <p>The next probe is armed when this one fires, so the heap always holds a timer while
     * the loop runs: an empty heap, first met when the last connection's timers went, made the
     * compiled loop ({@code runTimers}, inlined into {@code turn}) fall back to the interpreter
     * and be compiled again, on the loop's own core.
     */
    private void probeLag() {
        long deadline = System.nanoTime() + LAG_PROBE_NANOS;
        addTimer(new LoopTimer(() -> {
            if (!shuttingDown) {
                probeLag();
            }
            tasks.add(() -> lag.record(System.nanoTime() - deadline));
        }, deadline, cancelledTimers));
    }

    /**
     * Closes every channel (their protocols get {@code connectionLost}), then ends the thread.
     *
     * @return completes when the thread has ended
     */
    CompletableFuture<Void> shutdown() {
        shuttingDown = true;
        selector.wakeup();
        return terminated;
    }

    /** Waits until the loop's thread has ended; not from the loop itself. */
    void join() throws InterruptedException {
        thread.join();
    }

    private void addTimer(LoopTimer timer) {
        if (!timer.cancelled) {
            timer.sequence = timerSequence++;
            timers.add(timer);
        }
    }

    private void run() {
        try {
            probeLag();
            while (!shuttingDown) {
                turn();
            }
            drainTasks(); // what was handed over before the shutdown still runs
            closeAll();
        } catch (Throwable fatal) {
            death = fatal;
            shuttingDown = true;
            try {
                LOG.log(System.Logger.Level.ERROR, thread.getName() + " died of a fatal error and takes no more "
                        + "connections; its connections are closed: " + fatal, fatal);
                closeAll();
            } catch (Throwable again) {
                // the virtual machine is failing: what could be closed is closed
            }
        } finally {
            try {
                selector.close();
            } catch (Throwable e) {
                // nothing more to release
            }
            ended = true;
            try {
                drainTasks(); // tasks handed over before `ended` was seen
            } catch (Throwable e) {
                if (death == null) {
                    death = e;
                }
            }
            timers.clear();
            terminated.complete(null);
            if (death != null) {
                onDeath.accept(this, death);
            }
        }
    }

    /** One turn: I/O, tasks, timers. What is not fatal is logged and the loop goes on. */
    private void turn() {
        try {
            select();
            while (selectAgain) {
                // A channel closed while the selection dispatched: let go of its socket before
                // anything else runs (its connectionLost, a bind of the same port).
                selectAgain = false;
                selectNow();
            }
            wakeupPending.set(false);
            runTasks();
            runTimers();
            tasksRun.lazySet(tasksRunHere);
            ioEvents.lazySet(ioEventsHere);
            channelCount.lazySet(selector.keys().size());
            if (busyPoll != null) {
                busyPolls.lazySet(busyPoll.hits() + busyPoll.misses());
                busyPollsFound.lazySet(busyPoll.hits());
            }
        } catch (Throwable e) {
            AbstractTransport.rethrowIfFatal(e);
            LOG.log(System.Logger.Level.WARNING, "a turn of " + thread.getName() + " failed; the loop goes on: " + e, e);
        }
    }

    private void select() throws IOException {
        // Milliseconds to the next timer, rounded up, 0 once it is due; and whether to select
        // without waiting (tasks wait, or a timer is due). Computed without a branch of its own
        // for the due timer: the compiled loop rarely finds one here, and a branch it has never
        // seen taken sends the whole loop back to the interpreter, to be compiled again on the
        // loop's own core, the first time it is.
        long timeoutMillis = 0;
        int now = tasks.isEmpty() ? 0 : 1;
        LoopTimer next = timers.peek();
        if (next != null) { // always, while the loop runs: the lag probe keeps a timer armed
            long millis = (next.deadline - System.nanoTime() + 999_999) / 1_000_000;
            timeoutMillis = millis & ~(millis >> 63); // 0 once due; Math.max has the branch this avoids
            now |= (int) ((timeoutMillis - 1) >>> 63); // 1 when timeoutMillis is 0
        }
        if (now != 0) {
            selectNow();
            return;
        }
        if (busyPoll != null) {
            if (poll(next.deadline)) {
                return;
            }
            // The poll took time: sleep until the timer from now. At least 1 ms, as ever: a poll
            // the timer cut short has it due, and select(0) would sleep for ever.
            timeoutMillis = Math.max(1, (next.deadline - System.nanoTime() + 999_999) / 1_000_000);
        }
        selecting = true;
        int events;
        try {
            events = selector.select(dispatcher, timeoutMillis);
        } finally {
            selecting = false;
        }
        ioEventsHere += events;
        if (busyPoll != null && events > 0) {
            busyPoll.woke(System.nanoTime() - idleSince);
        }
    }

    /**
     * Polls the selector (and the task queue) for up to the busy poll's budget, and not past the
     * next timer, before the loop sleeps. Only I/O found counts as a hit for the budget; a poll
     * that a task ends counts as a miss, so a loop that only tasks wake stops polling.
     *
     * @param timerDeadline the next timer's deadline (there always is one while the loop runs:
     *     the lag probe, re-armed as it fires until a shutdown, which ends the loop first)
     * @return whether it found work: the turn goes on without sleeping
     */
    private boolean poll(long timerDeadline) throws IOException {
        long start = System.nanoTime();
        idleSince = start;
        long budget = busyPoll.budgetNanos();
        if (budget == 0) {
            return false;
        }
        long end = start + Math.min(budget, timerDeadline - start);
        do {
            Thread.onSpinWait();
            if (selectNow() > 0) {
                busyPoll.found();
                return true;
            }
            if (!tasks.isEmpty() || wakeupPending.get() || shuttingDown) {
                // Work, but not I/O. A set wakeupPending ends the poll too: the selectNow above
                // may have taken the wakeup it stands for, and while it is set no other thread
                // makes one, so sleeping now could leave a task waiting for the next timer. The
                // turn clears it.
                busyPoll.missed();
                return true;
            }
        } while (System.nanoTime() - end < 0);
        busyPoll.missed();
        return false;
    }

    /** The flag that stands for a wakeup made and not yet cleared by a turn: for tests. */
    AtomicBoolean wakeupFlag() {
        return wakeupPending;
    }

    /** Wakes the selector, as another thread's {@link #execute} does after setting the flag: for tests. */
    void wakeSelector() {
        selector.wakeup();
    }

    /**
     * The busy poll's figures, read on the loop: polls that found I/O and polls that did not.
     *
     * @return {hits, misses, budget in nanoseconds}; all 0 when busy polling is off
     */
    CompletableFuture<long[]> busyPollFigures() {
        CompletableFuture<long[]> figures = new CompletableFuture<>();
        execute(() -> figures.complete(busyPoll == null ? new long[3]
                : new long[] {busyPoll.hits(), busyPoll.misses(), busyPoll.budgetNanos()}));
        return figures;
    }

    /** @return the keys it dispatched */
    private int selectNow() throws IOException {
        selecting = true;
        int events;
        try {
            events = selector.selectNow(dispatcher);
        } finally {
            selecting = false;
        }
        ioEventsHere += events;
        return events;
    }

    /**
     * A channel closed on this loop keeps its socket, and so its port, until the selector
     * deregisters its key at its next selection: this has that happen now, or, while a
     * selection is dispatching, right after it, before any task runs. For what frees a port
     * (a listener, a datagram socket), so that the port can be bound again once its close has
     * been reported. On the loop.
     *
     * <p>That selection dispatches nothing: it runs from a task, a timer or a callback they made
     * (a protocol closing a datagram transport), and dispatching there ran other connections'
     * I/O, and even the same protocol's, inside that callback. What it finds ready is dropped,
     * and the selector's epoll, level-triggered, reports it again at the loop's next selection.
     */
    void deregisterCancelled() {
        if (selecting) {
            selectAgain = true;
            return;
        }
        try {
            selector.selectNow(IGNORE);
        } catch (IOException | java.nio.channels.ClosedSelectorException e) {
            LOG.log(System.Logger.Level.DEBUG, () -> thread.getName() + ": selecting to release closed channels failed: " + e);
        }
        if (wakeupPending.get()) {
            // That selection consumed a wakeup another thread made for a task it queued, and while
            // wakeupPending is set nobody makes another: without this one the loop's next select
            // would sleep until its next timer with that task waiting.
            selector.wakeup();
        }
    }

    private void dispatch(SelectionKey key) {
        Selectable handler = (Selectable) key.attachment();
        if (!key.isValid()) {
            return;
        }
        try {
            handler.ready(key.readyOps());
        } catch (java.nio.channels.CancelledKeyException closedMeanwhile) {
            // the handler closed its channel while handling the event
        } catch (Throwable e) {
            AbstractTransport.rethrowIfFatal(e);
            try {
                handler.failed(e); // logs, and closes what the handler owns
            } catch (Throwable again) {
                AbstractTransport.rethrowIfFatal(again);
                LOG.log(System.Logger.Level.WARNING, "closing " + handler + " after it failed also failed: " + again, again);
            }
        }
    }

    private void runTasks() {
        for (int i = 0; i < MAX_TASKS_PER_TURN; i++) {
            Runnable task = tasks.poll();
            if (task == null) {
                return;
            }
            tasksRunHere++;
            safely(task);
        }
    }

    private void runTimers() {
        // Cancelled timers wait in the heap for their deadline; when they are the majority
        // (idle timeouts re-armed on every write), sweep them out.
        if (cancelledTimers.get() > 1024 && cancelledTimers.get() > timers.size() / 2) {
            cancelledTimers.set(0);
            timers.removeIf(t -> t.cancelled);
        }
        long now = System.nanoTime();
        while (true) {
            LoopTimer next = timers.peek();
            if (next == null || next.deadline - now > 0) {
                return;
            }
            timers.poll();
            if (next.fire()) {
                tasksRunHere++;
                safely(next.task);
            }
        }
    }

    private void safely(Runnable task) {
        try {
            task.run();
        } catch (Throwable e) {
            AbstractTransport.rethrowIfFatal(e);
            LOG.log(System.Logger.Level.WARNING, "task on " + thread.getName() + " failed: " + e, e);
        }
    }

    private void closeAll() {
        List<SelectionKey> keys = new ArrayList<>(selector.keys());
        for (SelectionKey key : keys) {
            Object handler = key.attachment();
            if (handler instanceof Selectable s) {
                try {
                    s.loopShutdown();
                } catch (Throwable e) {
                    LOG.log(System.Logger.Level.WARNING, "closing a channel of " + thread.getName() + " failed", e);
                }
            }
        }
        // connectionLost callbacks queued by the closes run before the thread ends.
        drainTasks();
    }

    private void drainTasks() {
        for (Runnable task; (task = tasks.poll()) != null;) {
            safely(task);
        }
    }

    /** A timer of this loop. */
    private static final class LoopTimer implements TimerHandle, Comparable<LoopTimer> {
        /** Null once cancelled: a cancelled timer waits in the heap until its deadline or a sweep, holding nothing. */
        Runnable task;
        final long deadline;
        long sequence;
        private final AtomicBoolean done = new AtomicBoolean();
        private final AtomicInteger cancelledCount;
        volatile boolean cancelled;

        LoopTimer(Runnable task, long deadline, AtomicInteger cancelledCount) {
            this.task = task;
            this.deadline = deadline;
            this.cancelledCount = cancelledCount;
        }

        /** Claims the timer for running; false if it was cancelled. */
        boolean fire() {
            return done.compareAndSet(false, true);
        }

        @Override
        public boolean cancel() {
            if (done.compareAndSet(false, true)) {
                task = null; // fire() lost: the loop never reads it
                cancelled = true;
                cancelledCount.incrementAndGet();
                return true;
            }
            return false;
        }

        @Override
        public boolean isCancelled() {
            return cancelled;
        }

        @Override
        public int compareTo(LoopTimer o) {
            int c = Long.compare(deadline - o.deadline, 0);
            return c != 0 ? c : Long.compare(sequence, o.sequence);
        }
    }
}
