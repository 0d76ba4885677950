package org.wharf.protocol.http.internal;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.stream.Collectors;

import org.wharf.endpoints.api.EndpointDTO;
import org.wharf.endpoints.api.EndpointRuntime;
import org.wharf.endpoints.api.ProtocolDTO;
import org.wharf.endpoints.api.RuntimeDTO;
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
        RuntimeDTO now = runtime.getRuntimeDTO();
        String endpoints = Arrays.stream(now.endpoints).map(e -> "{\"name\":" + q(e.name) + ",\"transport\":"
                + q(e.transport) + ",\"state\":" + q(e.state.name()) + ",\"failureReason\":" + e.failureReason
                + ",\"reason\":" + q(NoPaths.of(e.failureMessage)) + ",\"addresses\":[" + Arrays.stream(e.addresses)
                .map(StatusPage::q).collect(Collectors.joining(",")) + "],\"protocol\":" + q(e.protocol)
                + ",\"version\":" + q(e.protocolVersion) + ",\"sessions\":" + e.sessions + ",\"open\":" + e.open
                + ",\"rejected\":" + e.rejected + ",\"requests\":" + e.requests + ",\"bytesReceived\":"
                + e.bytesReceived + ",\"bytesSent\":" + e.bytesSent + "}").collect(Collectors.joining(","));
        String protocols = Arrays.stream(now.protocols).map(p -> "{\"name\":" + q(p.name) + ",\"version\":"
                + q(p.version) + ",\"transports\":[" + Arrays.stream(p.transports).map(StatusPage::q)
                .collect(Collectors.joining(",")) + "],\"bundle\":" + q(p.bundle) + "}").collect(Collectors.joining(","));
        return "{\"changeCount\":" + now.changeCount + ",\"endpoints\":[" + endpoints + "],\"protocols\":["
                + protocols + "]}";
    }

    private String html() {
        RuntimeDTO now = runtime.getRuntimeDTO();
        StringBuilder b = new StringBuilder("<!doctype html><html><head><meta charset=\"utf-8\"><title>Wharf</title>"
                + "<style>body{font-family:sans-serif;margin:2em}td,th{padding:.2em .8em;text-align:left}</style>"
                + "</head><body><h1>Wharf</h1><h2>Endpoints</h2><table><tr><th>name</th><th>transport</th><th>address"
                + "</th><th>state</th><th>protocol</th><th>open</th><th>sessions</th><th>requests</th></tr>");
        for (EndpointDTO e : now.endpoints) {
            b.append("<tr><td>").append(h(e.name)).append("</td><td>").append(h(e.transport)).append("</td><td>")
                    .append(h(String.join(" ", e.addresses))).append("</td><td>").append(h(e.state.name()))
                    .append(e.failureMessage.isEmpty() ? "" : " (" + h(NoPaths.of(e.failureMessage)) + ")").append("</td><td>")
                    .append(h(e.protocol + " " + e.protocolVersion)).append("</td><td>").append(e.open)
                    .append("</td><td>").append(e.sessions).append("</td><td>").append(e.requests).append("</td></tr>");
        }
        b.append("</table><h2>Protocols</h2><table><tr><th>name</th><th>version</th><th>transports</th><th>bundle</th></tr>");
        for (ProtocolDTO p : now.protocols) {
            b.append("<tr><td>").append(h(p.name)).append("</td><td>").append(h(p.version)).append("</td><td>")
                    .append(h(String.join(", ", p.transports))).append("</td><td>").append(h(p.bundle))
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
