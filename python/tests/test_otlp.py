"""OTLP/HTTP JSON export against a local HTTP server."""

import http.server
import json
import os
import socket
import tempfile
import threading
import time
import unittest
import warnings

from stage_tracker import Tracker, _otlp


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.requests.append((self.path, {k.lower(): v for k, v in self.headers.items()}, json.loads(body)))
        self.send_response(self.server.code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *a):
        pass


def _attrs(lst):
    out = {}
    for a in lst:
        (_kind, v), = a["value"].items()
        out[a["key"]] = v
    return out


class Base(unittest.TestCase):
    code = 200

    def setUp(self):
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.server.requests = []
        self.server.code = self.code
        th = threading.Thread(target=self.server.serve_forever, daemon=True)
        th.start()
        self.addCleanup(th.join)
        self.addCleanup(self.server.server_close)
        self.addCleanup(self.server.shutdown)
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        self.dir = tmp.name

    def spans(self):
        out = []
        for _path, _headers, body in self.server.requests:
            for rs in body["resourceSpans"]:
                for ss in rs["scopeSpans"]:
                    out += ss["spans"]
        return out


class StandaloneTest(Base):
    def run_pipeline(self, env):
        t = Tracker(args={"target": "x"}, name="nightly", dir=os.path.join(self.dir, "runs"), env=env)
        t.start_stage("Detection")
        t.end_stage("Detection", data={"status": "clean"})
        with self.assertRaises(ValueError):
            with t.stage("Enrichment"):
                with t.stage("lookup"):
                    pass
                raise ValueError("no feed")
        path = t.finalize(os.path.join(self.dir, "run_output.json"))
        with open(path, encoding="utf-8") as f:
            return t, json.load(f)

    def test_run_convention(self):
        env = {
            "OTEL_EXPORTER_OTLP_ENDPOINT": self.url + "/",
            "OTEL_EXPORTER_OTLP_HEADERS": "authorization=Bearer%20s3cret, x-team=data",
            "OTEL_SERVICE_NAME": "etl",
            "OTEL_RESOURCE_ATTRIBUTES": "deployment.environment=ci,service.name=ignored",
        }
        t, run = self.run_pipeline(env)
        self.assertEqual(len(self.server.requests), 1)  # one POST at finalize
        path, headers, body = self.server.requests[0]
        self.assertEqual(path, "/v1/traces")
        self.assertEqual(headers["content-type"], "application/json")
        self.assertEqual(headers["authorization"], "Bearer s3cret")
        self.assertEqual(headers["x-team"], "data")
        res = _attrs(body["resourceSpans"][0]["resource"]["attributes"])
        self.assertEqual(res["service.name"], "etl")  # OTEL_SERVICE_NAME wins
        self.assertEqual(res["deployment.environment"], "ci")
        self.assertEqual(res["process.pid"], str(os.getpid()))

        spans = {s["name"]: s for s in self.spans()}
        self.assertEqual(sorted(spans), ["Detection", "Enrichment", "lookup", "nightly"])
        root = spans["nightly"]
        ra = _attrs(root["attributes"])
        self.assertEqual(ra["stage_tracker.run.id"], run["run_id"])
        self.assertEqual(json.loads(ra["stage_tracker.run.args"]), {"target": "x"})
        self.assertEqual(ra["stage_tracker.run.stage_count"], "3")
        self.assertNotIn("stage_tracker.stage.name", ra)
        self.assertNotIn("parentSpanId", root)
        self.assertEqual((root["traceId"], root["spanId"]), (run["trace_id"], run["span_id"]))
        self.assertEqual(root["status"], {"code": 2, "message": run["error"]})

        det = spans["Detection"]
        da = _attrs(det["attributes"])
        self.assertEqual(da["stage_tracker.stage.name"], "Detection")
        self.assertEqual(da["stage_tracker.run.id"], run["run_id"])
        self.assertEqual(json.loads(da["stage_tracker.stage.data"]), {"status": "clean"})
        self.assertEqual(det["parentSpanId"], root["spanId"])
        self.assertEqual(det["spanId"], run["stages"]["Detection"]["span_id"])
        self.assertNotIn("status", det)
        enr = spans["Enrichment"]
        self.assertEqual(enr["status"], {"code": 2, "message": "no feed"})
        self.assertEqual(enr["events"][0]["name"], "exception")
        self.assertEqual(spans["lookup"]["parentSpanId"], enr["spanId"])
        for s in spans.values():
            self.assertEqual(s["traceId"], run["trace_id"])
            self.assertLessEqual(int(s["startTimeUnixNano"]), int(s["endTimeUnixNano"]))

    def test_traces_endpoint_and_headers_win(self):
        env = {
            "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9/never",
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": self.url + "/custom/path",
            "OTEL_EXPORTER_OTLP_HEADERS": "k=general",
            "OTEL_EXPORTER_OTLP_TRACES_HEADERS": "k=traces",
        }
        self.run_pipeline(env)
        path, headers, _ = self.server.requests[0]
        self.assertEqual((path, headers["k"]), ("/custom/path", "traces"))

    def test_no_endpoint_no_export(self):
        self.run_pipeline({})
        self.assertEqual(self.server.requests, [])


class RejectedTest(Base):
    code = 500

    def test_rejected_keeps_the_file(self):
        t = Tracker(args="r", dir=os.path.join(self.dir, "runs"),
                    env={"OTEL_EXPORTER_OTLP_ENDPOINT": self.url})
        t.start_stage("a")
        t.end_stage("a")
        with self.assertWarns(RuntimeWarning):
            path = t.finalize(os.path.join(self.dir, "out.json"))
        self.assertEqual(len(self.server.requests), 1)
        with open(path, encoding="utf-8") as f:
            self.assertEqual(json.load(f)["stage_count"], 1)


class DeadEndpointTest(unittest.TestCase):
    def check_bounded(self, endpoint, env_extra=None, limit=2.5):
        with tempfile.TemporaryDirectory() as d:
            env = {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": endpoint}
            env.update(env_extra or {})
            t = Tracker(args="r", dir=os.path.join(d, "runs"), env=env)
            t.start_stage("a")
            t.end_stage("a")
            began = time.monotonic()
            with warnings.catch_warnings(record=True) as w:
                warnings.simplefilter("always")
                path = t.finalize(os.path.join(d, "out.json"))
            took = time.monotonic() - began
            self.assertTrue(os.path.exists(path))
            self.assertTrue(any("spans not sent" in str(x.message) for x in w), [str(x.message) for x in w])
            self.assertLess(took, limit)
            return took

    def test_refused(self):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()  # nothing listens there now
        self.check_bounded("http://127.0.0.1:%d/v1/traces" % port)

    def test_unresponsive_costs_the_timeout(self):
        # Listens, never answers: the default timeout (1 s) bounds it.
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        s.listen(8)
        self.addCleanup(s.close)
        took = self.check_bounded("http://127.0.0.1:%d/v1/traces" % s.getsockname()[1])
        self.assertGreaterEqual(took, 0.9)

    def test_timeout_variable(self):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        s.listen(8)
        self.addCleanup(s.close)
        self.check_bounded("http://127.0.0.1:%d/v1/traces" % s.getsockname()[1],
                           {"OTEL_EXPORTER_OTLP_TIMEOUT": "200"}, limit=0.9)

    def test_bad_url(self):
        self.check_bounded("not a url")


class JoinedTest(Base):
    def test_stages_join_the_run(self):
        env = {
            "STAGE_TRACKER_RUN_ID": "4D66B019-B291-461D-993C-7DA8028E8964",
            "TRACEPARENT": "00-b77b8900e675f9227fb18010058271d7-4c42b196bfcd4e01-01",
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": self.url + "/v1/traces",
            "OTEL_EXPORTER_OTLP_TRACES_HEADERS": "authorization=Bearer%20tok",
        }
        t = Tracker(args="M1", dir=os.path.join(self.dir, "runs"), env=env)
        self.assertTrue(t.joined)
        with t.stage("train") as s:
            with t.stage("epoch"):
                pass
            s.data = {"loss": 0.5}
        self.assertEqual(len(self.server.requests), 2)  # sent as each stage ends
        t.start_stage("eval")
        t.end_stage("eval", error="diverged")
        path = t.finalize(os.path.join(self.dir, "mine.json"))
        self.assertEqual(len(self.server.requests), 4)  # no root of our own: the count span last
        spans = self.spans()
        count = spans.pop()
        self.assertEqual(count["name"], "stage_tracker.process")
        self.assertEqual(count["parentSpanId"], "4c42b196bfcd4e01")
        self.assertEqual(_attrs(count["attributes"]), {
            "stage_tracker.process.run_id": "4d66b019-b291-461d-993c-7da8028e8964",
            "stage_tracker.process.stage_count": "3"})
        self.assertFalse(os.path.exists(os.path.join(self.dir, "runs")))  # no journal of our own
        self.assertEqual(self.server.requests[0][1]["authorization"], "Bearer tok")
        spans = {s["name"]: s for s in spans}
        for name, s in spans.items():
            a = _attrs(s["attributes"])
            self.assertEqual(a["stage_tracker.run.id"], "4d66b019-b291-461d-993c-7da8028e8964")
            self.assertEqual(a["stage_tracker.stage.name"], name)
            self.assertEqual(s["traceId"], "b77b8900e675f9227fb18010058271d7")
        self.assertEqual(spans["train"]["parentSpanId"], "4c42b196bfcd4e01")
        self.assertEqual(spans["epoch"]["parentSpanId"], spans["train"]["spanId"])
        self.assertEqual(json.loads(_attrs(spans["train"]["attributes"])["stage_tracker.stage.data"]), {"loss": 0.5})
        self.assertEqual(spans["eval"]["status"], {"code": 2, "message": "diverged"})
        with open(path, encoding="utf-8") as f:
            run = json.load(f)
        self.assertEqual(run["run_id"], "4d66b019-b291-461d-993c-7da8028e8964")
        self.assertEqual(list(run["stages"]), ["train", "eval"])


class EnvTest(unittest.TestCase):
    def test_parse_headers(self):
        for name, s, want in [
            ("empty", "", {}),
            ("percent-decoded", "a=b%20c,d=e", {"a": "b c", "d": "e"}),
            ("spaces trimmed", " a = b , c=d ", {"a": "b", "c": "d"}),
            ("malformed skipped", "a,=b,c=d=e", {"c": "d=e"}),
        ]:
            with self.subTest(name):
                self.assertEqual(_otlp.parse_headers(s), want)

    def test_parse_traceparent(self):
        for name, s, want in [
            ("valid", "00-b77b8900e675f9227fb18010058271d7-4c42b196bfcd4e01-01",
             ("b77b8900e675f9227fb18010058271d7", "4c42b196bfcd4e01")),
            ("zero trace", "00-" + "0" * 32 + "-4c42b196bfcd4e01-01", None),
            ("short", "00-abc-def-01", None),
            ("not hex", "00-" + "z" * 32 + "-4c42b196bfcd4e01-01", None),
            ("missing", None, None),
        ]:
            with self.subTest(name):
                self.assertEqual(_otlp.parse_traceparent(s), want)


if __name__ == "__main__":
    unittest.main()
