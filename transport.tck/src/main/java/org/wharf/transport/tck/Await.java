package org.wharf.transport.tck;

import java.time.Duration;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/**
 * Waiting in tests without sleeping: for a stage to complete or fail, or for a condition,
 * each with a deadline ({@link #TIMEOUT}) after which the test fails saying what it waited for.
 */
public final class Await {

    /** How long a test waits for anything before it fails. */
    public static final Duration TIMEOUT = Duration.ofSeconds(60);

    private Await() {
    }

    /**
     * Waits for a stage's value.
     *
     * @param <T> the value type
     * @param stage the stage
     * @return its value
     * @throws AssertionError if it fails (with the cause) or does not complete in time
     */
    public static <T> T await(CompletionStage<T> stage) {
        try {
            return stage.toCompletableFuture().get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw new AssertionError("failed: " + e.getCause(), e.getCause());
        } catch (TimeoutException | InterruptedException e) {
            throw new AssertionError("not completed within " + TIMEOUT.toSeconds() + " s", e);
        }
    }

    /**
     * Waits for a stage to fail.
     *
     * @param stage the stage
     * @return why it failed
     * @throws AssertionError if it completes normally or not in time
     */
    public static Throwable failure(CompletionStage<?> stage) {
        try {
            Object r = stage.toCompletableFuture().get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            throw new AssertionError("expected a failure, got " + r);
        } catch (ExecutionException e) {
            return e.getCause();
        } catch (TimeoutException | InterruptedException e) {
            throw new AssertionError("did not fail within " + TIMEOUT.toSeconds() + " s", e);
        }
    }

    /**
     * Polls a condition every millisecond until it holds.
     *
     * @param condition the condition
     * @param what what is awaited, for the failure message
     * @throws AssertionError if it does not hold in time
     */
    public static void awaitTrue(BooleanSupplier condition, String what) {
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within " + TIMEOUT.toSeconds() + " s: " + what);
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
        }
    }
}
