/** The wharf:* commands for Karaf's shell; nothing exported. */
package org.wharf.shell.karaf;
