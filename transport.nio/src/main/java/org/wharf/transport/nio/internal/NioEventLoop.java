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

/**
 * One selector, one thread: runs the I/O of the channels registered with it, the tasks
 * handed to it and its timers, in that order on each turn.
 *
 * <p>Tasks from other threads go into a lock-free queue; the selector is woken at most once
 * until the loop next looks at the queue, however many tasks arrive. Timers live in a heap
 * owned by the loop thread; the select timeout is the time to the next one.
 */
public final class NioEventLoop implements EventLoop {

    /** The largest datagram receive buffer: 64 KiB and one byte, to tell truncation. */
    static final int DATAGRAM_BUFFER = 65536 + 1;

    private final Selector selector;
    private final Thread thread;
    private final Log log;
    private final Queue<Runnable> tasks = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean wakeupPending = new AtomicBoolean();
    private final PriorityQueue<LoopTimer> timers = new PriorityQueue<>();
    private final AtomicInteger cancelledTimers = new AtomicInteger();
    private final ByteBuffer readBuffer;
    private final ByteBuffer datagramBuffer;
    private final ChunkPool chunks = new ChunkPool();
    private final CompletableFuture<Void> terminated = new CompletableFuture<>();
    private volatile boolean shuttingDown;
    private long timerSequence;

    NioEventLoop(String name, int readBufferSize, Log log) {
        try {
            this.selector = Selector.open();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open a selector for " + name, e);
        }
        this.log = log;
        this.readBuffer = ByteBuffer.allocateDirect(readBufferSize);
        this.datagramBuffer = ByteBuffer.allocateDirect(DATAGRAM_BUFFER);
        this.thread = new Thread(this::run, name);
        this.thread.setDaemon(true);
        // No class loader of ours is kept reachable from the thread.
        this.thread.setContextClassLoader(null);
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
        if (!inEventLoop() && wakeupPending.compareAndSet(false, true)) {
            selector.wakeup();
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

    Log log() {
        return log;
    }

    String name() {
        return thread.getName();
    }

    /** Number of channels registered (for introspection and tests). */
    int channels() {
        return selector.keys().size();
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
            while (!shuttingDown) {
                select();
                wakeupPending.set(false);
                runTasks();
                runTimers();
            }
            drainTasks(); // what was handed over before the shutdown still runs
            closeAll();
        } catch (Throwable fatal) {
            log.warn(thread.getName() + " stopped by an unexpected error; its connections are closed", fatal);
            shuttingDown = true;
            closeAll();
        } finally {
            try {
                selector.close();
            } catch (IOException e) {
                log.warn("closing the selector of " + thread.getName() + " failed", e);
            }
            tasks.clear();
            timers.clear();
            terminated.complete(null);
        }
    }

    private void select() throws IOException {
        long timeoutMillis = 0;
        if (!tasks.isEmpty()) {
            selector.selectNow(this::dispatch);
            return;
        }
        LoopTimer next = timers.peek();
        if (next != null) {
            long nanos = next.deadline - System.nanoTime();
            if (nanos <= 0) {
                selector.selectNow(this::dispatch);
                return;
            }
            timeoutMillis = Math.max(1, TimeUnit.NANOSECONDS.toMillis(nanos + 999_999));
        }
        selector.select(this::dispatch, timeoutMillis);
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
        }
    }

    private void runTasks() {
        // Bounded, so I/O is not starved by tasks that queue tasks.
        for (int i = 0, n = Math.max(64, tasks.size()); i < n; i++) {
            Runnable task = tasks.poll();
            if (task == null) {
                return;
            }
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
                safely(next.task);
            }
        }
    }

    private void safely(Runnable task) {
        try {
            task.run();
        } catch (Throwable e) {
            log.warn("task on " + thread.getName() + " failed: " + e, e);
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
                    log.warn("closing a channel of " + thread.getName() + " failed", e);
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
        final Runnable task;
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
