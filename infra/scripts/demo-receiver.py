#!/usr/bin/env python3
"""A demo participant letterbox for `make dev`, on 127.0.0.1 only.

POST /oauth2/token answers client-credentials requests from the hub (client
`switchyard-hub`, secret `demo-receiver-secret`, as infra/seed/demo.json registers);
POST /letterbox/v2/post prints each delivered message and answers 202.
"""
import base64, http.server, json, os, secrets, sys, time

CLIENT = ("switchyard-hub", "demo-receiver-secret")
TOKENS = set()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Small answers go out at once, not after the peer's delayed ACK (~40 ms).
    disable_nagle_algorithm = True

    def _reply(self, status, body=b"", ctype="application/json"):
        self.send_response(status)
        self.send_header("content-type", ctype)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        path = self.path.split("?")[0]
        if path == "/oauth2/token":
            auth = self.headers.get("authorization", "")
            expected = "Basic " + base64.b64encode(":".join(CLIENT).encode()).decode()
            if auth != expected:
                return self._reply(401, b'{"error":"invalid_client"}')
            token = secrets.token_urlsafe(24)
            TOKENS.add(token)
            return self._reply(200, json.dumps({"access_token": token, "token_type": "Bearer", "expires_in": 3600}).encode())
        if path == "/letterbox/v2/post":
            auth = self.headers.get("authorization", "")
            if auth.startswith("Bearer ") and auth[7:] not in TOKENS:
                return self._reply(401, b"")
            rcpid = self.path.partition("rcpid=")[2] or "?"
            try:
                env = json.loads(body)["envelope"]
                line = f'{env["routingID"]} {env["source"]["identity"]} -> {env["destination"]["identity"]} (correlationID {env["source"].get("correlationID", "-")})'
            except Exception:
                line = f"{len(body)} bytes"
            print(f"{time.strftime('%H:%M:%S')} letterbox {rcpid}: {line}", flush=True)
            return self._reply(202)
        if path.startswith("/dip/"):
            # A DIP webhook (publications or status messages) registered as http://.../dip/<who>:
            # a call is a JSON array (DIPMessageEgressArray or StandardResponseArray), one line
            # per message in it.
            lines = []
            try:
                doc = json.loads(body)
                for item in doc:
                    if "payload" in item:
                        common = item["payload"]["CommonBlock"]
                        d0 = common["D0"]
                        line = f'publication {d0["publicationID"]} {d0["transactionID"]}'
                        # The workflow's correlation ID (DSD002 8.12.4): made by the hub in D0, or
                        # carried by the sender in S1 on a response.
                        for name, value in (("initialCorrelationID", d0.get("initialCorrelationID")),
                                            ("senderCorrelationID", common.get("S1", {}).get("senderCorrelationID"))):
                            if value:
                                line += f" {name} {value}"
                    else:
                        line = f'status {item["transactionID"]}: {item["message"]}'
                    lines.append(line)
            except Exception:
                lines = [f"{len(body)} bytes"]
            signed = "signed" if self.headers.get("x-dip-signature") else "UNSIGNED"
            for line in lines:
                print(f"{time.strftime('%H:%M:%S')} dip {path[5:]}: {line} [{signed}]", flush=True)
            return self._reply(201)
        self._reply(404)

    def log_message(self, *args):
        pass


class Server(http.server.ThreadingHTTPServer):
    # The hub may open many connections at once; the default backlog of 5 drops SYNs and
    # the 1-3 s retransmits would look like hub latency.
    request_queue_size = 1024
    daemon_threads = True


if __name__ == "__main__":
    port = int(os.environ.get("DEMO_RECEIVER_PORT", "8788"))
    server = Server(("127.0.0.1", port), Handler)
    print(f"demo letterbox receiver on http://127.0.0.1:{port}", file=sys.stderr, flush=True)
    server.serve_forever()
