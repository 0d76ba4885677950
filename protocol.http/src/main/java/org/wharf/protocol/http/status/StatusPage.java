package org.wharf.protocol.http.status;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.stream.Collectors;

import org.wharf.endpoints.EndpointInfo;
import org.wharf.endpoints.EndpointRuntime;
import org.wharf.endpoints.ProtocolInfo;
import org.wharf.protocol.http.HttpHandler;
import org.wharf.protocol.http.HttpRequest;
import org.wharf.protocol.http.HttpResponse;

/** The platform's status: {@code /status} as JSON, {@code /} as a small page. */
final class StatusPage implements HttpHandler {

    private final EndpointRuntime runtime;

    StatusPage(EndpointRuntime runtime) {
        this.runtime = runtime;
    }

    @Override
    public HttpResponse handle(HttpRequest request) {
        if (!request.method().equals("GET") && !request.method().equals("HEAD")) {
            return HttpResponse.text(405, "only GET and HEAD\n").withHeader("Allow", "GET, HEAD");
        }
        return switch (request.path()) {
            case "/status" -> HttpResponse.of(200, "application/json", json().getBytes(StandardCharsets.UTF_8));
            case "/" -> HttpResponse.of(200, "text/html; charset=utf-8", html().getBytes(StandardCharsets.UTF_8));
            default -> HttpResponse.text(404, "not found: " + request.path() + "\n");
        };
    }

    private String json() {
        String endpoints = runtime.endpoints().stream().map(e -> "{\"name\":" + q(e.name()) + ",\"transport\":"
                + q(e.transport()) + ",\"state\":" + q(e.state().name()) + ",\"reason\":" + q(e.reason())
                + ",\"addresses\":[" + e.addresses().stream().map(a -> q(a.getHostString() + ":" + a.getPort()))
                .collect(Collectors.joining(",")) + "],\"protocol\":" + q(e.protocol()) + ",\"version\":"
                + q(e.protocolVersion()) + ",\"sessions\":" + e.counters().sessions() + ",\"open\":" + e.counters().open()
                + ",\"rejected\":" + e.counters().rejected() + ",\"requests\":" + e.counters().requests()
                + ",\"bytesReceived\":" + e.counters().bytesReceived() + ",\"bytesSent\":" + e.counters().bytesSent()
                + "}").collect(Collectors.joining(","));
        String protocols = runtime.protocols().stream().map(p -> "{\"name\":" + q(p.name()) + ",\"version\":"
                + q(p.version()) + ",\"transports\":[" + p.transports().stream().map(StatusPage::q)
                .collect(Collectors.joining(",")) + "],\"bundle\":" + q(p.bundle()) + "}").collect(Collectors.joining(","));
        return "{\"changeCount\":" + runtime.changeCount() + ",\"endpoints\":[" + endpoints + "],\"protocols\":["
                + protocols + "]}";
    }

    private String html() {
        StringBuilder b = new StringBuilder("<!doctype html><html><head><meta charset=\"utf-8\"><title>Wharf</title>"
                + "<style>body{font-family:sans-serif;margin:2em}td,th{padding:.2em .8em;text-align:left}</style>"
                + "</head><body><h1>Wharf</h1><h2>Endpoints</h2><table><tr><th>name</th><th>transport</th><th>address"
                + "</th><th>state</th><th>protocol</th><th>open</th><th>sessions</th><th>requests</th></tr>");
        List<EndpointInfo> endpoints = runtime.endpoints();
        for (EndpointInfo e : endpoints) {
            b.append("<tr><td>").append(h(e.name())).append("</td><td>").append(h(e.transport())).append("</td><td>")
                    .append(h(e.addresses().stream().map(a -> a.getHostString() + ":" + a.getPort())
                            .collect(Collectors.joining(" ")))).append("</td><td>").append(h(e.state().name()))
                    .append(e.reason().isEmpty() ? "" : " (" + h(e.reason()) + ")").append("</td><td>")
                    .append(h(e.protocol() + " " + e.protocolVersion())).append("</td><td>").append(e.counters().open())
                    .append("</td><td>").append(e.counters().sessions()).append("</td><td>")
                    .append(e.counters().requests()).append("</td></tr>");
        }
        b.append("</table><h2>Protocols</h2><table><tr><th>name</th><th>version</th><th>transports</th><th>bundle</th></tr>");
        for (ProtocolInfo p : runtime.protocols()) {
            b.append("<tr><td>").append(h(p.name())).append("</td><td>").append(h(p.version())).append("</td><td>")
                    .append(h(String.join(", ", p.transports()))).append("</td><td>").append(h(p.bundle()))
                    .append("</td></tr>");
        }
        return b.append("</table><p><a href=\"/status\">/status</a> (JSON)</p></body></html>").toString();
    }

    private static String q(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                default -> {
                    if (c < 0x20) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        return b.append('"').toString();
    }

    private static String h(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
