package org.wharf.itest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The status protocol's {@code /} page in Debian's headless {@code chromium}, driven over the
 * DevTools protocol (a WebSocket, from {@code java.net.http}): it lists every endpoint with its
 * state and reason, the numbers on it move while a load runs, it fetches nothing from
 * elsewhere, and a keyboard reaches its controls. A screenshot is kept as
 * {@code target/live-page.png}. The binary comes from the {@code chromium} package, which
 * {@code .ci/run} installs.
 */
class LivePageIT {

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    private Felix felix;
    private EndpointsInFelix endpoints;
    private Process chromium;
    private Path chromiumLog;
    private Cdp page;

    @BeforeEach
    void start() throws Exception {
        felix = new Felix("live-page");
        felix.startWharf("protocol.echo", "protocol.http");
        endpoints = new EndpointsInFelix(felix);
        endpoints.configure("status", Map.of("port", 0, "host", "127.0.0.1", "protocol", "status"));
        endpoints.configure("echo", Map.of("port", 0, "host", "127.0.0.1", "protocol", "echo"));
        // One that cannot work: the page shows its state and the reason.
        endpoints.configure("broken", Map.of("port", 70000, "host", "127.0.0.1", "protocol", "echo"));
        endpoints.awaitState("status", "LISTENING");
        endpoints.awaitState("echo", "LISTENING");
        endpoints.awaitState("broken", "FAILED");
    }

    @AfterEach
    void stop() throws Exception {
        if (page != null) {
            page.close();
        }
        if (chromium != null) {
            chromium.destroy();
            if (!chromium.waitFor(30, TimeUnit.SECONDS)) {
                chromium.destroyForcibly();
            }
        }
        felix.close();
    }

    @Test
    void theLivePageShowsEveryEndpointAndItsNumbersMoveUnderLoad(@TempDir Path dir) throws Exception {
        String url = "http://127.0.0.1:" + endpoints.port("status") + "/";
        String html = get(url);
        assertFalse(Pattern.compile("(src|href)\\s*=\\s*\"(https?:)?//", Pattern.CASE_INSENSITIVE).matcher(html).find(),
                "the page refers to nothing elsewhere: " + html);
        page = openInChromium(dir, url);

        awaitPage("the echo endpoint listed as listening",
                "document.querySelector('tr[data-key=\"echo\"] [data-field=\"state\"]')?.textContent ?? ''",
                text -> text.startsWith("listening"));
        String broken = awaitPage("the broken endpoint with its reason",
                "document.querySelector('tr[data-key=\"broken\"] [data-field=\"state\"]')?.textContent ?? ''",
                text -> text.startsWith("failed"));
        assertTrue(broken.contains("port") && broken.contains("70000"), "the reason names the property and value: "
                + broken);
        long before = Long.parseLong(awaitPage("the echo endpoint's accepted count",
                "document.querySelector('tr[data-key=\"echo\"] [data-field=\"sessions\"]')?.textContent ?? ''",
                text -> text.matches("\\d+")));

        // A bounded load: echo connections for at most 30 s, until the page has shown them.
        AtomicBoolean loading = new AtomicBoolean(true);
        AtomicInteger made = new AtomicInteger();
        int echoPort = endpoints.port("echo");
        Thread load = new Thread(() -> {
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (loading.get() && System.nanoTime() < end) {
                try (Socket s = new Socket(InetAddress.getLoopbackAddress(), echoPort)) {
                    s.setSoTimeout(10_000);
                    s.getOutputStream().write(new byte[512]);
                    s.getInputStream().readNBytes(512);
                    made.incrementAndGet();
                } catch (IOException e) {
                    return;
                }
            }
        }, "echo-load");
        load.start();
        try {
            String accepted = awaitPage("the accepted count on the page grows by 20",
                    "document.querySelector('tr[data-key=\"echo\"] [data-field=\"sessions\"]')?.textContent ?? ''",
                    text -> text.matches("\\d+") && Long.parseLong(text) >= before + 20);
            String bytesRate = awaitPage("a byte rate above zero charted",
                    "document.querySelector('tr[data-key=\"echo\"] [data-field=\"bytesRate\"] svg')"
                            + "?.getAttribute('aria-label') ?? ''",
                    text -> text.matches(".*now [1-9].*"));
            Files.createDirectories(Path.of("target"));
            Path screenshot = Path.of("target", "live-page.png");
            byte[] png = Base64.getDecoder().decode(field(page.call("Page.captureScreenshot", "{\"format\":\"png\"}"),
                    "data"));
            Files.write(screenshot, png);
            assertEquals("\u0089PNG", new String(png, 0, 4, StandardCharsets.ISO_8859_1), "a PNG at " + screenshot);
            assertTrue(Long.parseLong(accepted) >= before + 20 && bytesRate.contains("bytes per second of echo"),
                    accepted + " / " + bytesRate);
        } finally {
            loading.set(false);
            load.join(TimeUnit.SECONDS.toMillis(30));
        }
        assertTrue(made.get() >= 20, "the load made its connections: " + made.get());

        // Only /status was fetched, from the page's own origin.
        String resources = evaluate("JSON.stringify(performance.getEntriesByType('resource').map(r => r.name)"
                + ".filter(n => !n.startsWith(location.origin + '/status')))");
        assertEquals("[]", resources, "resources from elsewhere");

        // The keyboard: Tab reaches the skip link first, then the pause button, which Enter presses.
        page.call("Runtime.evaluate", "{\"expression\":\"document.activeElement.blur()\"}");
        key("Tab", 9);
        assertEquals("Skip to the endpoints", evaluate("document.activeElement.textContent"));
        key("Tab", 9);
        assertEquals("pause", evaluate("document.activeElement.id"));
        key("Enter", 13);
        awaitPage("the pause button pressed by the keyboard",
                "document.getElementById('pause').getAttribute('aria-pressed')", "true"::equals);
    }

    // ---- Chromium and its DevTools protocol ----

    private Cdp openInChromium(Path dir, String url) throws Exception {
        Path profile = dir.resolve("profile");
        Files.createDirectories(profile);
        chromiumLog = dir.resolve("chromium.log");
        chromium = org.wharf.transport.tck.Peers.process("chromium", "--headless", "--no-sandbox", "--disable-gpu",
                "--no-first-run", "--no-default-browser-check", "--disable-extensions",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0", "--remote-allow-origins=*",
                "--user-data-dir=" + profile, "--window-size=1280,800", url)
                .redirectErrorStream(true).redirectOutput(chromiumLog.toFile()).start();
        // Chromium writes the port it took (port 0: an ephemeral one) to this file.
        Path activePort = profile.resolve("DevToolsActivePort");
        String port = awaitValue("chromium's DevTools port", () -> {
            try {
                return Files.exists(activePort) ? Files.readAllLines(activePort).get(0).trim() : "";
            } catch (IOException | IndexOutOfBoundsException notYet) {
                return "";
            }
        }, p -> p.matches("\\d+"));
        String targets = awaitValue("the page's DevTools target", () -> {
            try {
                return get("http://127.0.0.1:" + port + "/json/list");
            } catch (IOException | InterruptedException notYet) {
                return "";
            }
        }, t -> t.contains("\"type\": \"page\"") || t.contains("\"type\":\"page\""));
        Matcher ws = Pattern.compile("\"webSocketDebuggerUrl\"\\s*:\\s*\"(ws://[^\"]+/devtools/page/[^\"]+)\"")
                .matcher(targets);
        assertTrue(ws.find(), targets);
        return Cdp.connect(ws.group(1));
    }

    private String evaluate(String expression) throws Exception {
        String answer = page.call("Runtime.evaluate", "{\"expression\":" + json(expression) + ",\"returnByValue\":true}");
        if (answer.contains("\"exceptionDetails\"")) {
            throw new AssertionError("the page threw evaluating " + expression + ": " + answer);
        }
        return field(answer, "value");
    }

    private void key(String key, int code) throws Exception {
        for (String type : new String[] {"keyDown", "keyUp"}) {
            page.call("Input.dispatchKeyEvent", "{\"type\":\"" + type + "\",\"key\":\"" + key + "\",\"code\":\"" + key
                    + "\",\"windowsVirtualKeyCode\":" + code + (key.equals("Enter") && type.equals("keyDown")
                    ? ",\"text\":\"\\r\"" : "") + "}");
        }
    }

    /** Evaluates an expression on the page until its value passes a test (the page updates every second). */
    private String awaitPage(String what, String expression, java.util.function.Predicate<String> test) {
        return awaitValue(what, () -> {
            try {
                return evaluate(expression);
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        }, test);
    }

    private String awaitValue(String what, Supplier<String> value, java.util.function.Predicate<String> test) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        String last = "";
        while (System.nanoTime() < deadline) {
            last = value.get();
            if (test.test(last)) {
                return last;
            }
            if (chromium != null && !chromium.isAlive()) {
                break;
            }
            java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(100)); // polls with a deadline
        }
        String log;
        try {
            log = chromiumLog == null ? "" : Files.readString(chromiumLog);
        } catch (IOException e) {
            log = e.toString();
        }
        throw new AssertionError("not within 60 s: " + what + " (last: " + last + ")\nchromium: " + log);
    }

    private static String get(String uri) throws IOException, InterruptedException {
        return HTTP.send(HttpRequest.newBuilder(URI.create(uri)).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString()).body();
    }

    /** A JSON string literal. */
    static String json(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                default -> b.append(c < 0x20 ? String.format("\\u%04x", (int) c) : String.valueOf(c));
            }
        }
        return b.append('"').toString();
    }

    /** The string value of the first {@code "name":"..."} in a DevTools answer, unescaped. */
    static String field(String answer, String name) {
        Matcher m = Pattern.compile("\"" + name + "\":\"((?:[^\"\\\\]++|\\\\.)*+)\"").matcher(answer);
        if (!m.find()) {
            throw new AssertionError("no string " + name + " in " + answer);
        }
        String raw = m.group(1);
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < raw.length(); i++) {
            char c = raw.charAt(i);
            if (c != '\\') {
                out.append(c);
                continue;
            }
            char n = raw.charAt(++i);
            switch (n) {
                case 'n' -> out.append('\n');
                case 't' -> out.append('\t');
                case 'r' -> out.append('\r');
                case 'u' -> {
                    out.append((char) Integer.parseInt(raw.substring(i + 1, i + 5), 16));
                    i += 4;
                }
                default -> out.append(n);
            }
        }
        return out.toString();
    }

    /** One DevTools protocol session over a WebSocket: calls by id, answers matched to them. */
    static final class Cdp implements WebSocket.Listener {
        private static final Pattern ID = Pattern.compile("^\\{\"id\":(\\d+)");
        private final Map<Integer, CompletableFuture<String>> pending = new ConcurrentHashMap<>();
        private final AtomicInteger ids = new AtomicInteger();
        private final StringBuilder message = new StringBuilder();
        private WebSocket socket;

        static Cdp connect(String uri) throws Exception {
            Cdp cdp = new Cdp();
            cdp.socket = HTTP.newWebSocketBuilder().buildAsync(URI.create(uri), cdp).get(30, TimeUnit.SECONDS);
            return cdp;
        }

        String call(String method, String params) throws Exception {
            int id = ids.incrementAndGet();
            CompletableFuture<String> answer = new CompletableFuture<>();
            pending.put(id, answer);
            socket.sendText("{\"id\":" + id + ",\"method\":\"" + method + "\",\"params\":" + params + "}", true)
                    .get(30, TimeUnit.SECONDS);
            String result = answer.get(30, TimeUnit.SECONDS);
            if (result.contains("\"error\":{")) {
                throw new AssertionError(method + " failed: " + result);
            }
            return result;
        }

        @Override
        public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
            message.append(data);
            if (last) {
                String text = message.toString();
                message.setLength(0);
                Matcher m = ID.matcher(text);
                if (m.find()) {
                    CompletableFuture<String> answer = pending.remove(Integer.parseInt(m.group(1)));
                    if (answer != null) {
                        answer.complete(text);
                    }
                }
            }
            webSocket.request(1);
            return null;
        }

        @Override
        public void onError(WebSocket webSocket, Throwable error) {
            pending.values().forEach(f -> f.completeExceptionally(error));
        }

        void close() {
            socket.abort();
        }
    }
}
