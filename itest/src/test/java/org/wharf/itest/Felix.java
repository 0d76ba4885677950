package org.wharf.itest;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;

import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleException;
import org.osgi.framework.Constants;
import org.osgi.framework.FrameworkEvent;
import org.osgi.framework.launch.Framework;
import org.osgi.framework.launch.FrameworkFactory;
import org.osgi.framework.wiring.FrameworkWiring;

/**
 * A real Apache Felix for a test: started with the platform's OSGi services (SCR,
 * ConfigAdmin, Metatype, Log), the Wharf API exported by the system bundle so test code and
 * bundles share one copy of it.
 */
final class Felix implements AutoCloseable {

    /** The API packages test code shares with the bundles. */
    static final String SHARED_API = "org.wharf.transport.api;version=0.5.0";

    final Framework framework;

    Felix(String name) throws Exception {
        this(name, "");
    }

    /** A framework whose system bundle also exports {@code extraPackages} (comma-separated, or empty). */
    Felix(String name, String extraPackages) throws Exception {
        this(name, extraPackages, Map.of());
    }

    /** A framework with framework properties of its own (such as {@code wharf.shutdown.grace}). */
    Felix(String name, String extraPackages, Map<String, String> properties) throws Exception {
        Map<String, String> config = new HashMap<>(properties);
        config.put(Constants.FRAMEWORK_STORAGE, Path.of(System.getProperty("wharf.felix.storage"), name).toString());
        config.put(Constants.FRAMEWORK_STORAGE_CLEAN, Constants.FRAMEWORK_STORAGE_CLEAN_ONFIRSTINIT);
        config.put(Constants.FRAMEWORK_SYSTEMPACKAGES_EXTRA, extraPackages.isEmpty() ? SHARED_API
                : SHARED_API + "," + extraPackages);
        framework = ServiceLoader.load(FrameworkFactory.class).findFirst().orElseThrow().newFramework(config);
        framework.start();
    }

    BundleContext context() {
        return framework.getBundleContext();
    }

    /** Installs and starts the platform's OSGi services. */
    List<Bundle> startPlatformServices() throws IOException, BundleException {
        List<Bundle> installed = new ArrayList<>();
        try (Stream<Path> jars = Files.list(Path.of(System.getProperty("wharf.platform.bundles")))) {
            for (Path jar : jars.sorted().toList()) {
                installed.add(context().installBundle(jar.toUri().toString()));
            }
        }
        for (Bundle b : installed) {
            b.start();
        }
        return installed;
    }

    /**
     * Starts the platform's OSGi services, then Wharf's core (APIs, NIO transports, endpoints)
     * and the given protocol bundles, as the launcher does.
     *
     * @param protocols the protocol bundles to start, such as {@code protocol.echo}
     */
    void startWharf(String... protocols) throws IOException, BundleException {
        startPlatformServices();
        for (String module : List.of("protocol.api", "transport.core", "transport.nio", "endpoints.api", "endpoints")) {
            start(module);
        }
        for (String module : protocols) {
            start(module);
        }
    }

    /** Installs and starts a bundle the build made, such as {@code transport.nio}. */
    Bundle start(String module) throws BundleException {
        Bundle b = context().installBundle(BuiltBundles.jar(module).toUri().toString());
        b.start();
        return b;
    }

    /** Refreshes the framework after uninstalls, and waits until it is done. */
    void refresh() throws InterruptedException {
        CountDownLatch done = new CountDownLatch(1);
        framework.adapt(FrameworkWiring.class).refreshBundles(null, e -> {
            if (e.getType() == FrameworkEvent.PACKAGES_REFRESHED) {
                done.countDown();
            }
        });
        if (!done.await(30, TimeUnit.SECONDS)) {
            throw new AssertionError("refresh did not finish");
        }
    }

    /** Polls a condition until it holds, failing after the deadline. */
    static void awaitTrue(BooleanSupplier condition, String what) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within 30 s: " + what);
            }
            java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
        }
    }

    /**
     * Calls a method of a service object through one of its public interfaces, for services
     * whose API the test does not share with the framework (ConfigAdmin, Metatype).
     */
    static Object call(Object target, String method, Object... args) throws Exception {
        for (Class<?> c = target.getClass(); c != null; c = c.getSuperclass()) {
            for (Class<?> i : allInterfaces(c)) {
                for (java.lang.reflect.Method m : i.getMethods()) {
                    if (m.getName().equals(method) && m.getParameterCount() == args.length) {
                        return m.invoke(target, args);
                    }
                }
            }
        }
        throw new NoSuchMethodException(method + " on " + target.getClass());
    }

    /**
     * Reads a public accessor (a record component, say) or a public field (a DTO's) of an
     * object of a bundle; a DTO's arrays come back as lists.
     */
    static Object get(Object target, String accessor) {
        try {
            return target.getClass().getMethod(accessor).invoke(target);
        } catch (NoSuchMethodException notAnAccessor) {
            try {
                Object value = target.getClass().getField(accessor).get(target);
                return value instanceof Object[] array ? java.util.List.of(array) : value;
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException("cannot read " + accessor + " of " + target, e);
            }
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot read " + accessor + " of " + target, e);
        }
    }

    private static List<Class<?>> allInterfaces(Class<?> c) {
        List<Class<?>> all = new ArrayList<>();
        for (Class<?> i : c.getInterfaces()) {
            all.add(i);
            all.addAll(allInterfaces(i));
        }
        return all;
    }

    @Override
    public void close() throws Exception {
        framework.stop();
        framework.waitForStop(30_000);
    }
}
