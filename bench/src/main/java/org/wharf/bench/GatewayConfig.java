package org.wharf.bench;

import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The configuration files of the gateway scenario's peers, each the plain layer-4 forwarding
 * its users write: HAProxy in TCP mode and nginx's stream module, one thread or worker each,
 * in front of one upstream; and the nginx that serves the HTTP upstream's static file. Every
 * path (pid file, logs, nginx's temporary folders) is in the run's own folder, so nothing is
 * written outside it.
 */
final class GatewayConfig {

    /** Where Debian installs nginx's stream module (package libnginx-mod-stream). */
    static final List<Path> STREAM_MODULES = List.of(Path.of("/usr/lib/nginx/modules/ngx_stream_module.so"),
            Path.of("/usr/lib64/nginx/modules/ngx_stream_module.so"));

    /** Connections each proxy accepts: far above the clients' 32 or 50. */
    static final int MAX_CONNECTIONS = 4096;

    private GatewayConfig() {
    }

    /**
     * HAProxy forwarding TCP, one thread, sleeping in epoll_wait when idle as by default.
     *
     * @param port the loopback port to listen on
     * @param upstream where to forward
     * @return haproxy.cfg
     */
    static String haproxy(int port, InetSocketAddress upstream) {
        return haproxy(port, upstream, false);
    }

    /**
     * HAProxy forwarding TCP, one thread (HAProxy's {@code nbthread} defaults to the CPUs it
     * may run on; it is said here so a machine with more does not change the comparison).
     * With {@code busyPolling}, its {@code global} section says {@code busy-polling}: the
     * thread then never sleeps in epoll_wait, polling with a zero timeout until its next
     * timer (off by default).
     *
     * @param port the loopback port to listen on
     * @param upstream where to forward
     * @param busyPolling whether HAProxy busy polls
     * @return haproxy.cfg
     */
    static String haproxy(int port, InetSocketAddress upstream, boolean busyPolling) {
        List<String> lines = new ArrayList<>(List.of(
                "# Made by the Wharf bench: HAProxy forwarding TCP, one thread"
                        + (busyPolling ? ", busy polling." : "."),
                "global",
                "    nbthread 1",
                "    maxconn " + MAX_CONNECTIONS));
        if (busyPolling) {
            lines.add("    busy-polling");
        }
        lines.addAll(List.of(
                "defaults",
                "    mode tcp",
                "    timeout connect 5s",
                "    timeout client 60s",
                "    timeout server 60s",
                "frontend gateway",
                "    bind 127.0.0.1:" + port,
                "    default_backend upstream",
                "backend upstream",
                "    server upstream " + hostPort(upstream),
                ""));
        return String.join("\n", lines);
    }

    /**
     * nginx's stream module forwarding TCP, one worker process.
     *
     * @param dir the run's folder: pid file and error log
     * @param port the loopback port to listen on
     * @param upstream where to forward
     * @param streamModule the stream module to load, or empty if nginx has it built in
     * @return nginx.conf
     */
    static String nginxStream(Path dir, int port, InetSocketAddress upstream, Optional<Path> streamModule) {
        StringBuilder conf = new StringBuilder("# Made by the Wharf bench: nginx's stream module forwarding TCP, one worker.\n");
        streamModule.ifPresent(module -> conf.append("load_module ").append(module).append(";\n"));
        conf.append(common(dir));
        conf.append("stream {\n");
        conf.append("    server {\n");
        conf.append("        listen 127.0.0.1:").append(port).append(";\n");
        conf.append("        proxy_pass ").append(hostPort(upstream)).append(";\n");
        conf.append("    }\n");
        conf.append("}\n");
        return conf.toString();
    }

    /**
     * nginx serving one folder over HTTP/1.1 with keep-alive: the HTTP upstream.
     *
     * @param dir the run's folder: pid file, error log, temporary folders
     * @param port the loopback port to listen on
     * @param root the folder served
     * @return nginx.conf
     */
    static String nginxHttp(Path dir, int port, Path root) {
        return "# Made by the Wharf bench: the HTTP upstream, a static file, one worker.\n"
                + common(dir)
                + "http {\n"
                + "    access_log off;\n"
                + "    keepalive_requests 1000000000;\n"
                + "    client_body_temp_path " + dir.resolve("client_body") + ";\n"
                + "    proxy_temp_path " + dir.resolve("proxy") + ";\n"
                + "    fastcgi_temp_path " + dir.resolve("fastcgi") + ";\n"
                + "    uwsgi_temp_path " + dir.resolve("uwsgi") + ";\n"
                + "    scgi_temp_path " + dir.resolve("scgi") + ";\n"
                + "    server {\n"
                + "        listen 127.0.0.1:" + port + ";\n"
                + "        root " + root + ";\n"
                + "    }\n"
                + "}\n";
    }

    /** What every nginx here shares: in the foreground, one worker, files in the run's folder. */
    private static String common(Path dir) {
        return "daemon off;\n"
                + "worker_processes 1;\n"
                + "pid " + dir.resolve("nginx.pid") + ";\n"
                + "error_log " + dir.resolve("error.log") + " warn;\n"
                + "events {\n"
                + "    worker_connections " + MAX_CONNECTIONS + ";\n"
                + "}\n";
    }

    /**
     * The stream module to load, if nginx does not have it built in.
     *
     * @return the first of {@link #STREAM_MODULES} that exists, or empty
     */
    static Optional<Path> streamModule() {
        return STREAM_MODULES.stream().filter(Files::isRegularFile).findFirst();
    }

    private static String hostPort(InetSocketAddress address) {
        return address.getAddress().getHostAddress() + ":" + address.getPort();
    }
}
