"""OTLP/HTTP JSON export of a run's spans, configured by the standard
OTEL_* variables, following the run convention (docs/attributes.md)."""

import json
import os
import socket
import sys
import urllib.error
import urllib.parse
import urllib.request

from . import __version__

SCOPE = "stage_tracker"
DEFAULT_TIMEOUT_MS = 1000  # not the specification's 10 s: a dead endpoint never holds a script

KIND_INTERNAL = 1
STATUS_ERROR = 2


def parse_headers(s):
    """OTEL_EXPORTER_OTLP_HEADERS: k=v pairs, comma-separated,
    percent-encoded. Malformed pairs are skipped."""
    out = {}
    for pair in (s or "").split(","):
        k, sep, v = pair.partition("=")
        k = urllib.parse.unquote(k.strip())
        if sep and k:
            out[k] = urllib.parse.unquote(v.strip())
    return out


def parse_resource(s):
    """OTEL_RESOURCE_ATTRIBUTES: k=v pairs, comma-separated, percent-encoded."""
    return parse_headers(s)


def parse_traceparent(s):
    """(trace_id, span_id) of a W3C traceparent, or None."""
    parts = (s or "").strip().split("-")
    if len(parts) < 4 or len(parts[0]) != 2 or parts[0] == "ff":
        return None
    trace_id, span_id = parts[1].lower(), parts[2].lower()
    try:
        int(trace_id, 16), int(span_id, 16)
    except ValueError:
        return None
    if len(trace_id) != 32 or len(span_id) != 16 or set(trace_id) == {"0"} or set(span_id) == {"0"}:
        return None
    return trace_id, span_id


class Config:
    """Where and how to send spans, from the environment; endpoint None
    means not at all."""

    def __init__(self, env=None):
        env = os.environ if env is None else env
        ep = env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "").strip()
        if not ep:
            base = env.get("OTEL_EXPORTER_OTLP_ENDPOINT", "").strip()
            ep = base.rstrip("/") + "/v1/traces" if base else ""
        self.endpoint = ep or None
        self.headers = parse_headers(env.get("OTEL_EXPORTER_OTLP_HEADERS"))
        self.headers.update(parse_headers(env.get("OTEL_EXPORTER_OTLP_TRACES_HEADERS")))
        t = env.get("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT") or env.get("OTEL_EXPORTER_OTLP_TIMEOUT")
        try:
            self.timeout = max(int(t), 1) / 1000.0 if t else DEFAULT_TIMEOUT_MS / 1000.0
        except ValueError:
            self.timeout = DEFAULT_TIMEOUT_MS / 1000.0
        res = parse_resource(env.get("OTEL_RESOURCE_ATTRIBUTES"))
        name = env.get("OTEL_SERVICE_NAME", "").strip()
        if name:
            res["service.name"] = name
        elif "service.name" not in res:
            res["service.name"] = "unknown_service:" + os.path.basename(sys.argv[0] or "python")
        res.setdefault("host.name", socket.gethostname())
        res.setdefault("telemetry.sdk.language", "python")
        res.setdefault("telemetry.sdk.name", SCOPE)
        res.setdefault("telemetry.sdk.version", __version__)
        self.resource = res
        self.pid = os.getpid()


def attr(key, v):
    if isinstance(v, bool):
        val = {"boolValue": v}
    elif isinstance(v, int):
        val = {"intValue": str(v)}
    elif isinstance(v, float):
        val = {"doubleValue": v}
    else:
        val = {"stringValue": str(v)}
    return {"key": key, "value": val}


def span(trace_id, span_id, parent_id, name, start, end, attrs, error=None, stack=None):
    """One span in OTLP JSON. error not None makes its status Error, with
    an exception event."""
    s = {
        "traceId": trace_id,
        "spanId": span_id,
        "name": name,
        "kind": KIND_INTERNAL,
        "startTimeUnixNano": str(start),
        "endTimeUnixNano": str(end),
        "attributes": [attr(k, v) for k, v in attrs],
    }
    if parent_id:
        s["parentSpanId"] = parent_id
    if error is not None:
        s["status"] = {"code": STATUS_ERROR, "message": error}
        ev = [attr("exception.message", error)]
        if stack:
            ev.append(attr("exception.stacktrace", stack))
        s["events"] = [{"name": "exception", "timeUnixNano": str(end), "attributes": ev}]
    return s


def request_body(cfg, spans):
    res = [attr(k, v) for k, v in sorted(cfg.resource.items())]
    res.append(attr("process.pid", cfg.pid))
    return {"resourceSpans": [{
        "resource": {"attributes": res},
        "scopeSpans": [{"scope": {"name": SCOPE, "version": __version__}, "spans": spans}],
    }]}


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *a, **kw):
        return None


def post(cfg, spans):
    """Send spans; return None, or why they were not accepted (one line)."""
    try:
        body = json.dumps(request_body(cfg, spans), separators=(",", ":")).encode("utf-8")
        req = urllib.request.Request(cfg.endpoint, data=body, method="POST")
        req.add_header("Content-Type", "application/json")
        for k, v in cfg.headers.items():
            req.add_header(k, v)
        handlers = [_NoRedirect()]
        host = urllib.parse.urlsplit(cfg.endpoint).hostname or ""
        if host in ("localhost", "127.0.0.1", "::1"):
            handlers.append(urllib.request.ProxyHandler({}))
        opener = urllib.request.build_opener(*handlers)
        with opener.open(req, timeout=cfg.timeout) as resp:
            resp.read()
        return None
    except urllib.error.HTTPError as e:
        return "%s: HTTP %d" % (cfg.endpoint, e.code)
    except (urllib.error.URLError, OSError, ValueError, TypeError) as e:
        reason = getattr(e, "reason", e)
        return "%s: %s" % (cfg.endpoint, reason)
