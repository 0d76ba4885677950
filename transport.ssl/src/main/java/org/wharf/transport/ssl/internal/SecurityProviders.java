package org.wharf.transport.ssl.internal;

import java.security.Provider;
import java.security.Security;
import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;

/**
 * Finds a JCA security provider by name for {@code tls.provider}: one installed in
 * {@link Security}; Conscrypt when its classes are reachable (it installs itself nowhere:
 * {@code org.conscrypt.Conscrypt.newProvider()} makes one, once); or one declared through
 * {@link ServiceLoader}. In a framework, Conscrypt is reached through an optional import: its
 * bundle must be there when transport.ssl resolves (or transport.ssl refreshed after).
 */
public final class SecurityProviders {

    private static volatile Provider conscrypt;

    private SecurityProviders() {
    }

    /**
     * The provider of that name.
     *
     * @param name such as {@code SunJSSE} or {@code Conscrypt}
     * @return the provider
     * @throws IllegalArgumentException naming {@code tls.provider}, the value and the providers there are
     */
    public static Provider named(String name) {
        Provider p = Security.getProvider(name);
        if (p == null && name.equalsIgnoreCase("Conscrypt")) {
            p = conscrypt();
        }
        if (p == null) {
            for (Provider loaded : ServiceLoader.load(Provider.class, SecurityProviders.class.getClassLoader())) {
                if (loaded.getName().equals(name)) {
                    p = loaded;
                    break;
                }
            }
        }
        if (p == null) {
            List<String> known = new ArrayList<>();
            for (Provider installed : Security.getProviders()) {
                if (installed.getService("SSLContext", "TLS") != null) {
                    known.add(installed.getName());
                }
            }
            throw new IllegalArgumentException("tls.provider = '" + name + "': no such security provider with TLS"
                    + " (there are " + String.join(", ", known) + "; Conscrypt needs org.conscrypt:"
                    + "conscrypt-openjdk-uber beside Wharf)");
        }
        if (p.getService("SSLContext", "TLS") == null) {
            throw new IllegalArgumentException("tls.provider = '" + name + "': that provider offers no TLS (SSLContext)");
        }
        return p;
    }

    /** Conscrypt's provider, made once, or null when its classes cannot be reached. */
    private static Provider conscrypt() {
        Provider p = conscrypt;
        if (p != null) {
            return p;
        }
        synchronized (SecurityProviders.class) {
            if (conscrypt == null) {
                conscrypt = reflectively("org.conscrypt.Conscrypt", "newProvider");
            }
            return conscrypt;
        }
    }

    /**
     * Conscrypt is optional: reached by name, so Wharf neither needs nor pins it (an optional
     * import of {@code org.conscrypt} in OSGi, any class or module path otherwise).
     */
    private static Provider reflectively(String type, String factory) {
        try {
            Class<?> c = Class.forName(type, true, SecurityProviders.class.getClassLoader());
            return (Provider) c.getMethod(factory).invoke(null);
        } catch (ClassNotFoundException | NoClassDefFoundError e) {
            return null;
        } catch (ReflectiveOperationException | LinkageError e) {
            throw new IllegalArgumentException("tls.provider = 'Conscrypt': its classes are there but it cannot start ("
                    + (e.getCause() != null ? e.getCause() : e) + ")", e);
        }
    }
}
