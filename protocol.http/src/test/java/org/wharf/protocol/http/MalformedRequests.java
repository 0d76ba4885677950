package org.wharf.protocol.http;

import java.util.List;

/**
 * The requests of issue 14, item 11, and their neighbours: each with the status RFC 9112
 * (or the limits) call for. Shared by the in-memory tests and the real-client tests.
 */
final class MalformedRequests {

    /**
     * A malformed request.
     *
     * @param name what is wrong
     * @param request the bytes sent (ISO-8859-1 text)
     * @param status the status line's code and reason
     * @param reason a part of the body that says which rule refused it
     */
    record Case(String name, String request, String status, String reason) {
        @Override
        public String toString() {
            return name;
        }
    }

    private static final String H = "Host: x\r\n";

    static final List<Case> CASES = List.of(
        // the request line
        new Case("absolute-form with an empty host", "GET http:///x HTTP/1.1\r\n" + H + "\r\n", "400 Bad Request",
                "empty host"),
        new Case("absolute-form with nothing after the scheme", "GET http:// HTTP/1.1\r\n" + H + "\r\n",
                "400 Bad Request", "empty host"),
        new Case("CONNECT without a port", "CONNECT a: HTTP/1.1\r\n" + H + "\r\n", "400 Bad Request",
                "authority-form"),
        new Case("HTTP/1.9", "GET / HTTP/1.9\r\n" + H + "\r\n", "505 HTTP Version Not Supported", "HTTP/1.9"),
        new Case("HTTP/2.0", "GET / HTTP/2.0\r\n" + H + "\r\n", "505 HTTP Version Not Supported", "HTTP/2.0"),
        new Case("HTTP/1.1xyz", "GET / HTTP/1.1xyz\r\n" + H + "\r\n", "400 Bad Request", "HTTP-version"),
        new Case("http/1.1 in lower case", "GET / http/1.1\r\n" + H + "\r\n", "400 Bad Request", "HTTP-version"),
        new Case("HTTP/11.1", "GET / HTTP/11.1\r\n" + H + "\r\n", "400 Bad Request", "HTTP-version"),
        new Case("no version", "GET /\r\n" + H + "\r\n", "400 Bad Request", "request line"),
        new Case("two spaces after the method", "GET  / HTTP/1.1\r\n" + H + "\r\n", "400 Bad Request", "request"),
        new Case("space after the version", "GET / HTTP/1.1 \r\n" + H + "\r\n", "400 Bad Request", "request line"),
        new Case("tab as separator", "GET\t/ HTTP/1.1\r\n" + H + "\r\n", "400 Bad Request", "request line"),
        new Case("NUL in the method", "G\0ET / HTTP/1.1\r\n" + H + "\r\n", "400 Bad Request", "method"),
        new Case("NUL in the URI", "GET /a\0b HTTP/1.1\r\n" + H + "\r\n", "400 Bad Request", "request-target"),
        new Case("DEL in the URI", "GET /a\u007fb HTTP/1.1\r\n" + H + "\r\n", "400 Bad Request", "request-target"),
        new Case("non-ASCII in the URI", "GET /\u00e9 HTTP/1.1\r\n" + H + "\r\n", "400 Bad Request", "request-target"),
        new Case("a target that is no form", "GET a/b HTTP/1.1\r\n" + H + "\r\n", "400 Bad Request", "form"),
        new Case("a fragment in the URI", "GET /a#b HTTP/1.1\r\n" + H + "\r\n", "400 Bad Request", "'#'"),
        new Case("a backslash in the URI", "GET /a\\..\\b HTTP/1.1\r\n" + H + "\r\n", "400 Bad Request", "'\\'"),
        new Case("angle brackets in the URI", "GET /<script> HTTP/1.1\r\n" + H + "\r\n", "400 Bad Request", "'<'"),
        new Case("a quote in the query", "GET /?a=\"b HTTP/1.1\r\n" + H + "\r\n", "400 Bad Request", "'\"'"),
        new Case("a '%' without hex digits", "GET /%zz HTTP/1.1\r\n" + H + "\r\n", "400 Bad Request", "hex digits"),
        new Case("a '%' that ends the URI", "GET /a% HTTP/1.1\r\n" + H + "\r\n", "400 Bad Request", "hex digits"),
        new Case("asterisk-form for GET", "GET * HTTP/1.1\r\n" + H + "\r\n", "400 Bad Request", "asterisk"),
        new Case("too many empty lines first", "\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\n" + H + "\r\n", "400 Bad Request",
                "empty lines"),
        // line ends
        new Case("bare LF after the request line", "GET / HTTP/1.1\n" + H + "\r\n", "400 Bad Request", "bare LF"),
        new Case("bare LF after a field", "GET / HTTP/1.1\r\nHost: x\n\r\n", "400 Bad Request", "bare LF"),
        new Case("bare LF line endings throughout", "GET / HTTP/1.1\nHost: x\n\n", "400 Bad Request", "bare LF"),
        new Case("bare LF as the empty line", "GET / HTTP/1.1\r\n" + H + "\n", "400 Bad Request", "bare LF"),
        new Case("bare CR in a field value", "GET / HTTP/1.1\r\n" + H + "X-A: a\rb\r\n\r\n", "400 Bad Request",
                "bare CR"),
        new Case("bare CR in the request line", "GET /\r HTTP/1.1\r\n" + H + "\r\n", "400 Bad Request", "bare CR"),
        // field lines
        new Case("NUL in a field value", "GET / HTTP/1.1\r\n" + H + "X-A: a\0b\r\n\r\n", "400 Bad Request",
                "control character 0x0"),
        new Case("a control character in a field value", "GET / HTTP/1.1\r\n" + H + "X-A: a\u0001b\r\n\r\n",
                "400 Bad Request", "control character 0x1"),
        new Case("a space in a field name", "GET / HTTP/1.1\r\n" + H + "Bad Name: x\r\n\r\n", "400 Bad Request",
                "token"),
        new Case("whitespace before the colon", "GET / HTTP/1.1\r\nHost : x\r\n\r\n", "400 Bad Request", "token"),
        new Case("a tab before the colon", "GET / HTTP/1.1\r\n" + H + "X-A\t: x\r\n\r\n", "400 Bad Request", "token"),
        new Case("a separator in a field name", "GET / HTTP/1.1\r\n" + H + "X(A): x\r\n\r\n", "400 Bad Request",
                "token"),
        new Case("an empty field name", "GET / HTTP/1.1\r\n" + H + ": x\r\n\r\n", "400 Bad Request", "token"),
        new Case("a field line without a colon", "GET / HTTP/1.1\r\n" + H + "no colon\r\n\r\n", "400 Bad Request",
                "colon"),
        new Case("obsolete line folding", "GET / HTTP/1.1\r\n" + H + "X-A: a\r\n b\r\n\r\n", "400 Bad Request",
                "folding"),
        new Case("whitespace before the first field", "GET / HTTP/1.1\r\n " + H + "\r\n", "400 Bad Request",
                "folding"),
        // Host
        new Case("no Host in HTTP/1.1", "GET / HTTP/1.1\r\n\r\n", "400 Bad Request", "no Host"),
        new Case("two Hosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", "400 Bad Request", "2 Host"),
        new Case("an empty IP literal as Host", "GET / HTTP/1.1\r\nHost: []\r\n\r\n", "400 Bad Request",
                "invalid Host"),
        new Case("a name in brackets as Host", "GET / HTTP/1.1\r\nHost: [example.com]:80\r\n\r\n",
                "400 Bad Request", "invalid Host"),
        new Case("two equal Hosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", "400 Bad Request", "2 Host"),
        new Case("two Hosts in HTTP/1.0", "GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n", "400 Bad Request", "2 Host"),
        new Case("an invalid Host", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", "400 Bad Request", "invalid Host"),
        new Case("a Host with a path", "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", "400 Bad Request", "invalid Host"),
        new Case("a Host with a bad port", "GET / HTTP/1.1\r\nHost: a:8x\r\n\r\n", "400 Bad Request", "invalid Host"),
        // Content-Length
        new Case("Content-Length: +3", "POST / HTTP/1.1\r\n" + H + "Content-Length: +3\r\n\r\nabc", "400 Bad Request",
                "digits only"),
        new Case("Content-Length: -3", "POST / HTTP/1.1\r\n" + H + "Content-Length: -3\r\n\r\n", "400 Bad Request",
                "digits only"),
        new Case("Content-Length: 0x3", "POST / HTTP/1.1\r\n" + H + "Content-Length: 0x3\r\n\r\nabc",
                "400 Bad Request", "digits only"),
        new Case("Content-Length: 3 3", "POST / HTTP/1.1\r\n" + H + "Content-Length: 3 3\r\n\r\nabc",
                "400 Bad Request", "digits only"),
        new Case("Content-Length: 3,3", "POST / HTTP/1.1\r\n" + H + "Content-Length: 3,3\r\n\r\nabc",
                "400 Bad Request", "digits only"),
        new Case("an empty Content-Length", "POST / HTTP/1.1\r\n" + H + "Content-Length:\r\n\r\n", "400 Bad Request",
                "empty Content-Length"),
        new Case("Content-Length fields that differ", "POST / HTTP/1.1\r\n" + H
                + "Content-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", "400 Bad Request", "differ"),
        new Case("a Content-Length of 20 digits", "POST / HTTP/1.1\r\n" + H
                + "Content-Length: 99999999999999999999\r\n\r\n", "413 Content Too Large", "larger than"),
        // Transfer-Encoding
        new Case("chunked, then another Transfer-Encoding", "POST / HTTP/1.1\r\n" + H
                + "Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
                "400 Bad Request", "final"),
        new Case("chunked, gzip on one line", "POST / HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked, gzip\r\n\r\n",
                "400 Bad Request", "final"),
        new Case("an unknown coding alone", "POST / HTTP/1.1\r\n" + H + "Transfer-Encoding: gzip\r\n\r\n",
                "400 Bad Request", "final"),
        new Case("an empty Transfer-Encoding", "POST / HTTP/1.1\r\n" + H + "Transfer-Encoding:\r\n\r\n",
                "400 Bad Request", "final"),
        new Case("chunked twice", "POST / HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked, chunked\r\n\r\n",
                "400 Bad Request", "more than once"),
        new Case("chunked with a parameter", "POST / HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked;x=1\r\n\r\n",
                "400 Bad Request", "parameters"),
        new Case("a coding before chunked that is not implemented", "POST / HTTP/1.1\r\n" + H
                + "Transfer-Encoding: gzip, chunked\r\n\r\n", "501 Not Implemented", "gzip"),
        new Case("Transfer-Encoding and Content-Length", "POST / HTTP/1.1\r\n" + H
                + "Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n3\r\nabc\r\n0\r\n\r\n", "400 Bad Request",
                "both"),
        new Case("Transfer-Encoding in HTTP/1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
                "400 Bad Request", "HTTP/1.0"),
        // chunks
        new Case("chunk size +3", "POST / HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\n\r\n+3\r\nabc\r\n0\r\n\r\n",
                "400 Bad Request", "hex digit"),
        new Case("chunk size ' 3 '", "POST / HTTP/1.1\r\n" + H
                + "Transfer-Encoding: chunked\r\n\r\n 3 \r\nabc\r\n0\r\n\r\n", "400 Bad Request", "hex digit"),
        new Case("chunk size '3 '", "POST / HTTP/1.1\r\n" + H
                + "Transfer-Encoding: chunked\r\n\r\n3 \r\nabc\r\n0\r\n\r\n", "400 Bad Request", "after the chunk size"),
        new Case("chunk size -1", "POST / HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\n\r\n-1\r\n",
                "400 Bad Request", "hex digit"),
        new Case("chunk size 0x3", "POST / HTTP/1.1\r\n" + H
                + "Transfer-Encoding: chunked\r\n\r\n0x3\r\nabc\r\n0\r\n\r\n", "400 Bad Request", "after the chunk size"),
        new Case("chunk size 7fffffffffffffff", "POST / HTTP/1.1\r\n" + H
                + "Transfer-Encoding: chunked\r\n\r\n7fffffffffffffff\r\nabc", "413 Content Too Large", "larger than"),
        new Case("chunk size ffffffffffffffffffff", "POST / HTTP/1.1\r\n" + H
                + "Transfer-Encoding: chunked\r\n\r\nffffffffffffffffffff\r\nabc", "413 Content Too Large",
                "larger than"),
        new Case("chunk sizes that add up past the limit", "POST / HTTP/1.1\r\n" + H
                + "Transfer-Encoding: chunked\r\n\r\n200\r\n" + "a".repeat(512) + "\r\n7ffffffffffffe00\r\n",
                "413 Content Too Large", "larger than"),
        new Case("a malformed chunk extension", "POST / HTTP/1.1\r\n" + H
                + "Transfer-Encoding: chunked\r\n\r\n3;=x\r\nabc\r\n0\r\n\r\n", "400 Bad Request", "extension"),
        new Case("an unterminated quoted chunk extension", "POST / HTTP/1.1\r\n" + H
                + "Transfer-Encoding: chunked\r\n\r\n3;a=\"x\r\nabc\r\n0\r\n\r\n", "400 Bad Request", "extension"),
        new Case("chunk data longer than its size", "POST / HTTP/1.1\r\n" + H
                + "Transfer-Encoding: chunked\r\n\r\n3\r\nabcd\r\n0\r\n\r\n", "400 Bad Request", "not followed by CRLF"),
        new Case("chunk data ended by a bare LF", "POST / HTTP/1.1\r\n" + H
                + "Transfer-Encoding: chunked\r\n\r\n3\r\nabc\n0\r\n\r\n", "400 Bad Request", "not followed by CRLF"),
        new Case("a malformed trailer", "POST / HTTP/1.1\r\n" + H
                + "Transfer-Encoding: chunked\r\n\r\n0\r\nBad Trailer: x\r\n\r\n", "400 Bad Request", "token"),
        // limits
        new Case("too many header fields", "GET / HTTP/1.1\r\n" + H + "X-A: 1\r\n".repeat(100) + "\r\n",
                "431 Request Header Fields Too Large", "header fields"));

    private MalformedRequests() {
    }
}
