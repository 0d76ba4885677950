package org.wharf.protocol.api;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

import org.osgi.service.component.annotations.ComponentPropertyType;

/**
 * Declares the service properties of a {@link ProtocolFactory} component in one line:
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
     * The protocol's name ({@value ProtocolFactory#NAME_PROPERTY}).
     *
     * @return the name, such as {@code echo}
     */
    String name();

    /**
     * The protocol's version ({@value ProtocolFactory#VERSION_PROPERTY}); empty for the
     * bundle's version.
     *
     * @return the version, or empty
     */
    String version() default "";

    /**
     * The transport kinds served ({@value ProtocolFactory#TRANSPORTS_PROPERTY}).
     *
     * @return the kinds; stream transports by default
     */
    String[] transports() default {"tcp", "ssl"};
}
