"""A keep-alive client as a new user writes one (Python's http.client, one
connection reused), posting to refusal paths of a cfpb-mcp server.

    python3 keepalive.py PORT KEY COUNT

Prints one JSON line: for each path, requests sent, statuses seen, and how
many times the connection broke under the client (a broken pipe, or a close
without a response). Used by tests/reliability.rs (NET-4); bounded in count
and, through the socket timeout, in time.
"""
import http.client
import json
import sys

port, key, count = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
wrong = "w" * 43
paths = {
    "no_session_id": ("/mcp/messages", key),
    "wrong_key": ("/mcp/messages", wrong),
    "unknown_session": ("/mcp/messages?session_id=" + "0" * 32, key),
    "unknown_route": ("/nope", key),
    "streamable_wrong_key": ("/mcp", wrong),
}
report = {}
for label, (path, k) in paths.items():
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    broken, statuses = 0, {}
    for i in range(count):
        body = json.dumps({"jsonrpc": "2.0", "id": i, "method": "ping"})
        headers = {"X-API-Key": k, "Content-Type": "application/json"}
        try:
            conn.request("POST", path, body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            statuses[response.status] = statuses.get(response.status, 0) + 1
            if response.getheader("Connection", "").lower() == "close":
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        except (http.client.HTTPException, OSError):
            broken += 1
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.close()
    report[label] = {"sent": count, "broken": broken, "statuses": statuses}
print(json.dumps(report))
