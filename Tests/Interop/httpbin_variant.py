"""httpbin (the real one, under gunicorn) with deliberate differences, to stand for a v2
that does not answer like v1 (test_shadow_comparison.py):

- POST /anything: the echoed JSON body's `total` is one more than was sent;
- GET /headers: 500 with a JSON error;
- GET /json: the same answer, 50 ms later.

Everything else is httpbin's own answer. Run: gunicorn httpbin_variant:app
"""
import json
import time

from httpbin import app as httpbin_app


def app(environ, start_response):
    method = environ.get("REQUEST_METHOD", "GET")
    path = environ.get("PATH_INFO", "")
    if method == "GET" and path == "/headers":
        body = b'{"error": "v2 cannot list headers"}\n'
        start_response("500 INTERNAL SERVER ERROR",
                       [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]
    if method == "GET" and path == "/json":
        time.sleep(0.05)
        return httpbin_app(environ, start_response)
    if method == "POST" and path == "/anything":
        captured = {}

        def capture(status, headers, exc_info=None):
            captured["status"], captured["headers"] = status, headers

        answer = b"".join(httpbin_app(environ, capture))
        data = json.loads(answer)
        if isinstance(data.get("json"), dict) and isinstance(data["json"].get("total"), int):
            data["json"]["total"] += 1
        body = (json.dumps(data, indent=2) + "\n").encode()
        headers = [(k, v) for k, v in captured["headers"] if k.lower() != "content-length"]
        start_response(captured["status"], headers + [("Content-Length", str(len(body)))])
        return [body]
    return httpbin_app(environ, start_response)
