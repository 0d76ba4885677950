package org.wharf.itest;

import java.util.Hashtable;
import java.util.List;
import java.util.Map;

/** Configures endpoints through ConfigAdmin and reads them back from the EndpointRuntime, by reflection. */
final class EndpointsInFelix {

    private final Felix felix;

    EndpointsInFelix(Felix felix) {
        this.felix = felix;
    }

    /** Creates or updates the {@code org.wharf.server} factory configuration named {@code name}. */
    void configure(String name, Map<String, Object> properties) throws Exception {
        Object admin = felix.context().getService(felix.context().getServiceReference(
                "org.osgi.service.cm.ConfigurationAdmin"));
        Object configuration = Felix.call(admin, "getFactoryConfiguration", "org.wharf.server", name, "?");
        Hashtable<String, Object> dictionary = new Hashtable<>(properties);
        dictionary.put("name", name);
        Felix.call(configuration, "update", dictionary);
    }

    /** Deletes the {@code org.wharf.server} factory configuration named {@code name}. */
    void delete(String name) throws Exception {
        Object admin = felix.context().getService(felix.context().getServiceReference(
                "org.osgi.service.cm.ConfigurationAdmin"));
        Felix.call(Felix.call(admin, "getFactoryConfiguration", "org.wharf.server", name, "?"), "delete");
    }

    /** The PIDs of the configurations matching an LDAP filter, none if there are none. */
    List<String> configurations(String filter) throws Exception {
        Object admin = felix.context().getService(felix.context().getServiceReference(
                "org.osgi.service.cm.ConfigurationAdmin"));
        Object[] found = (Object[]) Felix.call(admin, "listConfigurations", filter);
        List<String> pids = new java.util.ArrayList<>();
        for (Object c : found == null ? new Object[0] : found) {
            pids.add((String) Felix.call(c, "getPid"));
        }
        return pids;
    }

    Object runtime() {
        Felix.awaitTrue(() -> felix.context().getServiceReference("org.wharf.endpoints.api.EndpointRuntime") != null,
                "the endpoint runtime is registered");
        return felix.context().getService(felix.context().getServiceReference("org.wharf.endpoints.api.EndpointRuntime"));
    }

    /** The EndpointDTO named {@code name}, or null. */
    Object endpoint(String name) {
        Object snapshot = Felix.get(runtime(), "getRuntimeDTO");
        for (Object info : (List<?>) Felix.get(snapshot, "endpoints")) {
            if (name.equals(Felix.get(info, "name"))) {
                return info;
            }
        }
        return null;
    }

    String state(String name) {
        Object e = endpoint(name);
        return e == null ? "(none)" : String.valueOf(Felix.get(e, "state"));
    }

    String reason(String name) {
        Object e = endpoint(name);
        return e == null ? "(none)" : String.valueOf(Felix.get(e, "failureMessage"));
    }

    int port(String name) {
        return port(endpoint(name));
    }

    /** The endpoint's first listening port, or -1 while it has none. */
    static int port(Object endpoint) {
        List<?> addresses = (List<?>) Felix.get(endpoint, "addresses");
        if (addresses.isEmpty()) {
            return -1;
        }
        String first = String.valueOf(addresses.get(0));
        return Integer.parseInt(first.substring(first.lastIndexOf(':') + 1));
    }

    void awaitState(String name, String expected) {
        awaitRuntime(() -> expected.equals(state(name)), () -> "endpoint " + name + " is " + expected + " (it is "
                + describe(name) + ")");
    }

    /** The runtime service's {@code service.changecount}, or -1 while it is not registered. */
    long changeCount() {
        org.osgi.framework.ServiceReference<?> ref = felix.context().getServiceReference(
                "org.wharf.endpoints.api.EndpointRuntime");
        Object count = ref == null ? null : ref.getProperty("service.changecount");
        return count == null ? -1 : (Long) count;
    }

    /**
     * Waits until a condition on the runtime's DTOs holds: checked now and again on every
     * change of the runtime service ({@code service.changecount} grows, a service event), not
     * by polling; fails after 30 s.
     */
    void awaitRuntime(java.util.function.BooleanSupplier condition, java.util.function.Supplier<String> what) {
        java.util.concurrent.Semaphore changes = new java.util.concurrent.Semaphore(0);
        org.osgi.framework.ServiceListener listener = event -> changes.release();
        try {
            felix.context().addServiceListener(listener,
                    "(objectClass=org.wharf.endpoints.api.EndpointRuntime)");
        } catch (org.osgi.framework.InvalidSyntaxException e) {
            throw new IllegalStateException(e);
        }
        try {
            runtime();
            long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(30);
            while (!condition.getAsBoolean()) {
                long left = deadline - System.nanoTime();
                if (left <= 0 || !changes.tryAcquire(left, java.util.concurrent.TimeUnit.NANOSECONDS)) {
                    throw new AssertionError("not within 30 s (change count " + changeCount() + "): " + what.get());
                }
                changes.drainPermits();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted waiting for: " + what.get());
        } finally {
            felix.context().removeServiceListener(listener);
        }
    }

    /**
     * State and reason from one look at the endpoint: a reconfiguration replaces its entry,
     * so two looks can find it, then not.
     */
    private String describe(String name) {
        Object e = endpoint(name);
        return e == null ? "(none)" : Felix.get(e, "state") + ": " + Felix.get(e, "failureMessage");
    }

    /** Runs a Gogo command (such as {@code wharf:endpoints}) and returns what it answered. */
    String gogo(String command) throws Exception {
        Object processor = felix.context().getService(felix.context().getServiceReference(
                "org.apache.felix.service.command.CommandProcessor"));
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        Object session = Felix.call(processor, "createSession", new java.io.ByteArrayInputStream(new byte[0]),
                new java.io.PrintStream(out), new java.io.PrintStream(out));
        return String.valueOf(Felix.call(session, "execute", command));
    }
}
