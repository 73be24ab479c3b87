"""The run file's encoding rules (docs/run-file.md), case by case."""

import datetime
import json
import unittest

from stage_tracker import _runfile


class KeysTest(unittest.TestCase):
    # The cases of internal/stagekey's TestLevel: the Go exporter and this
    # package key repeated names the same way.
    CASES = [
        ("distinct names", ["a", "b", "c"], ["a/1", "b/1", "c/1"]),
        ("failed then passed", ["flaky", "flaky"], ["flaky#1/1", "flaky/2"]),
        ("three attempts among others", ["a", "x", "b", "x", "x", "c"],
         ["a/1", "x#1/1", "b/1", "x#2/2", "x/3", "c/1"]),
        ("literal x#1 before two x", ["x#1", "x", "x"], ["x#1/1", "x#2/1", "x/2"]),
        ("literal x#1 after two x", ["x", "x", "x#1"], ["x#2/1", "x/2", "x#1/1"]),
        ("literal x#2 beside three x", ["x", "x", "x", "x#2"], ["x#1/1", "x#3/2", "x/3", "x#2/1"]),
        ("literal x#1 and x#2 beside three x", ["x#2", "x", "x#1", "x", "x"],
         ["x#2/1", "x#3/1", "x#1/1", "x#4/2", "x/3"]),
        ("a name with # repeated", ["a#1", "a#1"], ["a#1#1/1", "a#1/2"]),
        ("empty name repeated", ["", ""], ["#1/1", "/2"]),
        ("a name that is only #", ["#", "#", "#1"], ["##1/1", "#/2", "#1/1"]),
        ("run-file.md's table", ["parse", "parse#2", "parse", "merge", "merge", "merge#2"],
         ["parse#1/1", "parse#2/1", "parse/2", "merge#1/1", "merge/2", "merge#2/1"]),
    ]

    def test_keys(self):
        for name, names, want in self.CASES:
            with self.subTest(name):
                got = ["%s/%d" % ka for ka in _runfile.keys(names)]
                self.assertEqual(got, want)


class FormatTest(unittest.TestCase):
    def test_seconds(self):
        for name, ns, want in [
            ("zero", 0, "0"),
            ("whole", 3_000_000_000, "3"),
            ("micro", 30_681_000, "0.030681"),
            ("rounded up", 1_499_999_600, "1.5"),
            ("one microsecond", 1_000, "0.000001"),
            ("half a microsecond rounds up, as Go's Duration.Round", 500, "0.000001"),
            ("below half", 499, "0"),
        ]:
            with self.subTest(name):
                self.assertEqual(_runfile.seconds(ns), want)

    def test_timestamp(self):
        ns = 1746486850_235518_999  # truncated, not rounded
        ts = _runfile.timestamp(ns)
        self.assertEqual(ts, "2025-05-05T23:14:10.235518+00:00")
        self.assertEqual(datetime.datetime.fromisoformat(ts).utcoffset(), datetime.timedelta(0))
        self.assertEqual(_runfile.timestamp(1746486850_000000_000), "2025-05-05T23:14:10.000000+00:00")

    def test_value(self):
        for name, v, want in [
            ("keys sorted, compact", {"b": 1, "a": [1, 2]}, '{"a":[1,2],"b":1}'),
            ("html escaped as encoding/json", {"x": "<a&b>"}, '{"x":"\\u003ca\\u0026b\\u003e"}'),
            ("line separators escaped", "a\u2028b\u2029", '"a\\u2028b\\u2029"'),
            ("lone surrogate replaced", "a\ud800", '"a\ufffd"'),
            ("utf-8 kept", "héllo", '"héllo"'),
        ]:
            with self.subTest(name):
                got = _runfile.value(v)
                self.assertEqual(got, want)
                json.loads(got)

    def test_data_not_encodable(self):
        for name, v in [("NaN", {"loss": float("nan")}), ("Inf", [float("inf")]),
                        ("object", {"x": object()}), ("set", {1, 2})]:
            with self.subTest(name):
                data, why = _runfile.encode_data(v)
                self.assertIsNone(data)
                self.assertTrue(why.startswith("data cannot be encoded as JSON: "), why)


def _rec(name, seq, status, error=None, parent=None):
    r = _runfile.Record(name, "%016x" % seq, parent, seq * 10, seq)
    r.end, r.status, r.error = seq * 10 + 5, status, error
    if parent is not None:
        parent.children.append(r)
    return r


class FailureTest(unittest.TestCase):
    def test_failure(self):
        def case(build):
            top = []
            build(top)
            return _runfile.failure(top)

        def passed_on_retry(top):
            top += [_rec("fetch", 1, "error", "timeout"), _rec("fetch", 2, "ok")]

        def failed_last(top):
            top += [_rec("fetch", 1, "ok"), _rec("fetch", 2, "error", "timeout")]

        def unfinished(top):
            top += [_rec("download", 1, "unfinished")]

        def nested_and_more(top):
            ci = _rec("ci", 1, "ok")
            _rec("lint", 2, "error", "3 issues", ci)
            top += [ci, _rec("test", 3, "error", "exit status 1")]

        def retried_parent(top):
            a = _rec("a", 1, "error", "x")
            _rec("child", 2, "error", "y", a)
            top += [a, _rec("a", 3, "ok")]

        for name, build, want in [
            ("passed on retry", passed_on_retry, None),
            ("last attempt failed", failed_last, 'stage "fetch" failed: timeout'),
            ("unfinished", unfinished, 'stage "download" failed: did not finish'),
            ("nested, and more", nested_and_more, 'stage "ci/lint" failed: 3 issues (and 1 more failed stages)'),
            ("retried parent leaves its children's failures", retried_parent, None),
        ]:
            with self.subTest(name):
                self.assertEqual(case(build), want)


if __name__ == "__main__":
    unittest.main()
