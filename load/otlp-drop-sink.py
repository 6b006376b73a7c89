#!/usr/bin/env python3
"""An OTLP/HTTP collector that drops what it gets: answers every POST with 200 and an empty protobuf body (a valid
ExportTraceServiceResponse), and counts requests and bytes into FILE. For measuring the exporting side's cost
(load/measure-tracing.sh), not for keeping spans.

    otlp-drop-sink.py PORT FILE
"""
import http.server
import sys


class Sink(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    requests = 0
    received = 0

    def do_POST(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            size = 0
            while True:
                n = int(self.rfile.readline().strip(), 16)
                size += len(self.rfile.read(n + 2)) - 2 if n else 0
                if n == 0:
                    self.rfile.readline()
                    break
        else:
            size = len(self.rfile.read(int(self.headers.get("Content-Length", 0))))
        Sink.requests += 1
        Sink.received += size
        with open(sys.argv[2], "w") as f:
            f.write(f"{Sink.requests} {Sink.received}\n")
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Sink).serve_forever()
