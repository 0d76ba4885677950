package org.wharf.transport.api;

import java.io.IOException;
import java.net.SocketOption;
import java.nio.channels.NetworkChannel;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * An immutable set of socket option values ({@link java.net.StandardSocketOptions}) to apply
 * to a channel, in the order they were added.
 */
public final class SocketOptions {

    /** No options: the operating system's defaults. */
    public static final SocketOptions NONE = new SocketOptions(Map.of());

    private final Map<SocketOption<?>, Object> values;

    private SocketOptions(Map<SocketOption<?>, Object> values) {
        this.values = values;
    }

    /**
     * These options plus one more (replacing an earlier value of the same option).
     *
     * @param <T> the option's value type
     * @param option the option
     * @param value its value
     * @return a new set of options
     * @throws IllegalArgumentException if the value is not of the option's type
     */
    public <T> SocketOptions with(SocketOption<T> option, T value) {
        Objects.requireNonNull(option, "option");
        Objects.requireNonNull(value, "value");
        if (!option.type().isInstance(value)) {
            throw new IllegalArgumentException("socket option " + option.name() + " takes a "
                    + option.type().getSimpleName() + ", got " + value.getClass().getSimpleName() + " " + value);
        }
        Map<SocketOption<?>, Object> copy = new LinkedHashMap<>(values);
        copy.put(option, value);
        return new SocketOptions(Collections.unmodifiableMap(copy));
    }

    /**
     * The value set for an option.
     *
     * @param <T> the option's value type
     * @param option the option
     * @return its value, or empty when not set here
     */
    public <T> Optional<T> get(SocketOption<T> option) {
        return Optional.ofNullable(option.type().cast(values.get(option)));
    }

    /**
     * The options that have a value here.
     *
     * @return the options, in the order added
     */
    public Set<SocketOption<?>> options() {
        return values.keySet();
    }

    /**
     * Sets every option on a channel, in the order added.
     *
     * @param channel the channel
     * @throws IOException if the channel refuses a value
     * @throws UnsupportedOperationException if the channel does not support an option
     */
    public void applyTo(NetworkChannel channel) throws IOException {
        for (Map.Entry<SocketOption<?>, Object> e : values.entrySet()) {
            set(channel, e.getKey(), e.getValue());
        }
    }

    private static <T> void set(NetworkChannel channel, SocketOption<T> option, Object value) throws IOException {
        channel.setOption(option, option.type().cast(value));
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SocketOptions other && other.values.equals(values);
    }

    @Override
    public int hashCode() {
        return values.hashCode();
    }

    @Override
    public String toString() {
        return values.toString();
    }
}
