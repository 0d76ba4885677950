package org.wharf.protocol.api;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

import org.osgi.service.component.annotations.ComponentPropertyType;

/**
 * Declares the service properties of a {@link ProtocolFactory} or {@link DatagramProtocolFactory} component in one line:
 *
 * <pre>
 * &#64;Component(service = ProtocolFactory.class)
 * &#64;ProtocolProperties(name = "echo", transports = {"tcp", "ssl", "udp"})
 * public class EchoFactory implements ProtocolFactory { ... }
 * </pre>
 *
 * <p>Each element becomes the property {@code wharf.protocol.<element>}. The annotation is
 * kept at run time, so outside a framework a factory found with {@link java.util.ServiceLoader}
 * tells its name and transports the same way.
 */
@ComponentPropertyType
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.TYPE)
public @interface ProtocolProperties {

    /** Prefix of the property names, as Declarative Services defines for property types. */
    String PREFIX_ = "wharf.protocol.";

    /**
     * The protocol's name ({@value BaseProtocolFactory#NAME_PROPERTY}).
     *
     * @return the name, such as {@code echo}
     */
    String name();

    /**
     * The protocol's version ({@value BaseProtocolFactory#VERSION_PROPERTY}); empty for the
     * bundle's version.
     *
     * @return the version, or empty
     */
    String version() default "";

    /**
     * The transport kinds served ({@value BaseProtocolFactory#TRANSPORTS_PROPERTY}), narrowing
     * what the factory's interfaces serve.
     *
     * @return the kinds; empty (the default) for every kind of the factory's interfaces
     */
    String[] transports() default {};

    /**
     * A factory configuration PID whose configurations are this protocol's endpoints
     * ({@value BaseProtocolFactory#CONFIGURATION_PID_PROPERTY}).
     *
     * @return the PID, or empty for none
     */
    String configurationPid() default "";
}
