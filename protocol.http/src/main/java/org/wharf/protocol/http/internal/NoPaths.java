package org.wharf.protocol.http.internal;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What the status page may show of a message: a failure message names the property and value
 * that are wrong, and a file's value is a path that tells a visitor where the platform and its
 * keys live. The page keeps the file's name and drops its folders.
 */
final class NoPaths {

    /** An absolute path: a slash not inside a word, then path characters. */
    private static final Pattern PATH = Pattern.compile("(?<![\\w.:/])/[^\\s'\"`,;()\\[\\]{}<>]+");

    private NoPaths() {
    }

    static String of(String message) {
        Matcher m = PATH.matcher(message);
        StringBuilder b = new StringBuilder();
        while (m.find()) {
            String path = m.group();
            String trimmed = path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
            String name = trimmed.substring(trimmed.lastIndexOf('/') + 1);
            m.appendReplacement(b, Matcher.quoteReplacement(name.isEmpty() ? "…" : "…/" + name));
        }
        m.appendTail(b);
        return b.toString();
    }
}
