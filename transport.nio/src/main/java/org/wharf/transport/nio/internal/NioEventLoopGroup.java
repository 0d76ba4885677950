package org.wharf.transport.nio.internal;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The event loops of the NIO transports. Channels are spread over them round robin; each
 * channel stays on its loop for life. A loop that died of a fatal error gets no new channels,
 * and whoever registered with {@link #onLoopDeath} hears of it.
 */
public final class NioEventLoopGroup {

    private static final AtomicInteger GROUPS = new AtomicInteger();

    private final NioEventLoop[] loops;
    private final NioSettings settings;
    private final AtomicInteger next = new AtomicInteger();
    private final java.util.List<java.util.function.BiConsumer<String, Throwable>> deathListeners =
            new java.util.concurrent.CopyOnWriteArrayList<>();

    /**
     * Starts the loops.
     *
     * @param settings threads and buffer sizes
     */
    public NioEventLoopGroup(NioSettings settings) {
        this("wharf-nio-" + GROUPS.incrementAndGet(), settings);
    }

    /**
     * Starts the loops, with threads named {@code <name>-<index>}.
     *
     * @param name the prefix of the thread names
     * @param settings threads and buffer sizes
     */
    public NioEventLoopGroup(String name, NioSettings settings) {
        this.settings = settings;
        loops = new NioEventLoop[settings.threads()];
        for (int i = 0; i < loops.length; i++) {
            loops[i] = new NioEventLoop(name + "-" + i, settings.readBufferSize(), settings.udpBatch(),
                    settings.closeTimeout(), settings.busyPollMicros(), this::loopDied);
        }
        for (NioEventLoop loop : loops) {
            loop.start();
        }
    }

    /**
     * The loop for the next channel, skipping loops that died.
     *
     * @throws java.util.concurrent.RejectedExecutionException if every loop died
     */
    NioEventLoop next() {
        for (int tries = 0; tries < loops.length; tries++) {
            NioEventLoop loop = loops[Math.floorMod(next.getAndIncrement(), loops.length)];
            if (!loop.isDead()) {
                return loop;
            }
        }
        throw new java.util.concurrent.RejectedExecutionException("every event loop of this group died of a fatal error");
    }

    /**
     * Calls an action when a loop dies of a fatal error (its thread has ended and its channels
     * are closed), with the loop's name and the error; from the dying thread.
     *
     * @param action what to do
     */
    public void onLoopDeath(java.util.function.BiConsumer<String, Throwable> action) {
        deathListeners.add(action);
    }

    /**
     * The number of loops that died of a fatal error.
     *
     * @return the count
     */
    public int deadLoops() {
        int dead = 0;
        for (NioEventLoop loop : loops) {
            if (loop.isDead()) {
                dead++;
            }
        }
        return dead;
    }

    private void loopDied(NioEventLoop loop, Throwable error) {
        for (var action : deathListeners) {
            try {
                action.accept(loop.name(), error);
            } catch (RuntimeException e) {
                System.getLogger("org.wharf.transport.nio").log(System.Logger.Level.WARNING,
                        "a listener of the death of " + loop.name() + " failed", e);
            }
        }
    }

    /** The preferred loop if it is one of this group's, else the next one. */
    NioEventLoop next(java.util.Optional<org.wharf.transport.api.EventLoop> preferred) {
        if (preferred.isPresent()) {
            for (NioEventLoop loop : loops) {
                if (loop == preferred.get() && !loop.isDead()) {
                    return loop;
                }
            }
        }
        return next();
    }

    NioSettings settings() {
        return settings;
    }

    /**
     * The figures of every loop, for metrics.
     *
     * @return one per loop, in order
     */
    public java.util.List<org.wharf.transport.api.LoopStats> stats() {
        return java.util.Arrays.stream(loops).map(NioEventLoop::stats).toList();
    }

    /**
     * The number of loops.
     *
     * @return the count
     */
    public int size() {
        return loops.length;
    }

    /**
     * Closes every channel of every loop (their protocols get {@code connectionLost}) and
     * ends the loop threads.
     *
     * @return completes when every thread has ended
     */
    public CompletableFuture<Void> shutdown() {
        CompletableFuture<?>[] all = new CompletableFuture<?>[loops.length];
        for (int i = 0; i < loops.length; i++) {
            all[i] = loops[i].shutdown();
        }
        // The loops report done from their last lines; complete only once the threads are gone.
        return CompletableFuture.allOf(all).thenRunAsync(() -> {
            for (NioEventLoop loop : loops) {
                try {
                    loop.join();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        });
    }
}
