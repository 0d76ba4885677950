package org.wharf.endpoints.internal;

import java.util.Collection;
import java.util.Comparator;
import java.util.Optional;

import org.osgi.framework.Filter;
import org.osgi.framework.FrameworkUtil;
import org.osgi.framework.InvalidSyntaxException;
import org.wharf.protocol.api.ProtocolFactory;
import org.wharf.transport.api.Settings;

/**
 * Which registered protocol serves a configuration: its {@code protocol} property is a name
 * ({@code echo}) or an LDAP filter over the factory's service properties
 * ({@code (&(wharf.protocol.name=http)(wharf.protocol.version>=2))}); of those that match and
 * serve the transport, the highest {@code service.ranking} wins, then the highest version,
 * then the newest registration. One rule for endpoints and pools.
 */
final class ProtocolSelector {

    /** The order of preference: ranking, then version, then registration. */
    static final Comparator<ProtocolEntry> PREFERENCE = Comparator.comparingInt(ProtocolEntry::ranking)
            .thenComparing(ProtocolEntry::version).thenComparingLong(ProtocolEntry::id);

    private final String selector;
    private final Filter filter;

    private ProtocolSelector(String selector, Filter filter) {
        this.selector = selector;
        this.filter = filter;
    }

    /**
     * Reads the {@code protocol} property.
     *
     * @param settings the configuration
     * @return the selector
     * @throws IllegalArgumentException if it is missing or not a valid filter
     */
    static ProtocolSelector of(Settings settings) {
        String selector = settings.required("protocol", "a protocol name or an LDAP filter");
        String filter = selector.startsWith("(") ? selector : "(" + ProtocolFactory.NAME_PROPERTY + "=" + selector + ")";
        try {
            return new ProtocolSelector(selector, FrameworkUtil.createFilter(filter));
        } catch (InvalidSyntaxException e) {
            throw Settings.wrong("protocol", selector, "not a valid LDAP filter (" + e.getMessage() + ")");
        }
    }

    /**
     * The preferred protocol among the registered ones.
     *
     * @param registered the registered protocols
     * @param transport the transport kind it must serve
     * @return the best match, or empty
     */
    Optional<ProtocolEntry> best(Collection<ProtocolEntry> registered, String transport) {
        return registered.stream().filter(p -> p.serves(transport) && filter.matches(p.properties())).max(PREFERENCE);
    }

    @Override
    public String toString() {
        return selector;
    }
}
