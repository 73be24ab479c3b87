"""Tracker: the original's API, the Python additions, the file and the
journal it writes."""

import asyncio
import datetime
import fcntl
import json
import os
import tempfile
import threading
import unittest
import warnings

from stage_tracker import Tracker

SEED_KEYS = ["run_id", "start_time", "args", "stages", "completed_at", "total_duration_sec"]


class Base(unittest.TestCase):
    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory()
        self.dir = self._tmp.name
        self.addCleanup(self._tmp.cleanup)
        self.runs = os.path.join(self.dir, "runs")

    def tracker(self, args=None, **kw):
        kw.setdefault("dir", self.runs)
        kw.setdefault("env", {})
        return Tracker(args=args, **kw)

    def finalize(self, t):
        path = t.finalize(os.path.join(self.dir, "run_output.json"))
        with open(path, encoding="utf-8") as f:
            return json.load(f)


class OriginalAPITest(Base):
    def test_quick_start(self):
        t = self.tracker("Reconnaissance_M1")
        t.start_stage("Detection")
        t.end_stage("Detection", data={"status": "clean"})
        t.start_stage("Enrichment")
        t.end_stage("Enrichment", data={"added_cves": 3})
        run = self.finalize(t)

        self.assertEqual(list(run)[:6], SEED_KEYS)
        self.assertEqual(run["args"], "Reconnaissance_M1")
        self.assertEqual(run["name"], "Reconnaissance_M1")
        self.assertEqual(run["schema_version"], 2)
        self.assertEqual((run["status"], run["error"]), ("ok", None))
        self.assertEqual(run["stage_count"], 2)
        self.assertEqual(list(run["stages"]), ["Detection", "Enrichment"])
        self.assertEqual(run["stages"]["Detection"]["data"], {"status": "clean"})
        self.assertEqual(run["stages"]["Enrichment"]["data"], {"added_cves": 3})
        for st in run["stages"].values():
            start = datetime.datetime.fromisoformat(st["start_time"])
            end = datetime.datetime.fromisoformat(st["end_time"])
            self.assertEqual(start.utcoffset(), datetime.timedelta(0))
            self.assertLessEqual(abs((end - start).total_seconds() - st["duration_sec"]), 1.5e-6)  # truncated times: 1 µs
            self.assertEqual((st["status"], st["attempt"], st["error"]), ("ok", 1, None))
            self.assertRegex(st["span_id"], "^[0-9a-f]{16}$")
        self.assertRegex(run["trace_id"], "^[0-9a-f]{32}$")
        self.assertRegex(run["run_id"], "^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
        self.assertTrue(run["start_time"].endswith("+00:00"))

    def test_errors(self):
        for name, error, want in [
            ("string", "no CVE feed", "no CVE feed"),
            ("exception", ValueError("loss is NaN"), "loss is NaN"),
            ("exception without a message", KeyError(), "KeyError"),
        ]:
            with self.subTest(name):
                t = self.tracker()
                t.start_stage("fit")
                t.end_stage("fit", error=error)
                run = self.finalize(t)
                st = run["stages"]["fit"]
                self.assertEqual((st["status"], st["error"]), ("error", want))
                self.assertEqual(run["status"], "failed")
                self.assertEqual(run["error"], 'stage "fit" failed: ' + want)

    def test_repeated_stage_passed_on_retry(self):
        t = self.tracker()
        t.start_stage("fetch")
        t.end_stage("fetch", error="timeout")
        t.start_stage("fetch")
        t.end_stage("fetch", data={"rows": 7})
        run = self.finalize(t)
        self.assertEqual(list(run["stages"]), ["fetch#1", "fetch"])
        self.assertEqual(run["stages"]["fetch"]["error"], None)  # as the original's stages[name]: the last
        self.assertEqual(run["stages"]["fetch"]["attempt"], 2)
        self.assertEqual(run["stages"]["fetch#1"]["error"], "timeout")
        self.assertEqual(run["status"], "ok")

    def test_open_stage_at_finalize_is_unfinished(self):
        t = self.tracker()
        t.start_stage("download")
        run = self.finalize(t)
        self.assertEqual(run["stages"]["download"]["status"], "unfinished")
        self.assertEqual(run["error"], 'stage "download" failed: did not finish')

    def test_misuse_is_a_warned_noop(self):
        t = self.tracker()
        with self.assertWarns(RuntimeWarning):
            t.end_stage("never started")
        t.finalize(os.path.join(self.dir, "a.json"))
        with self.assertWarns(RuntimeWarning):
            self.assertIsNone(t.start_stage("late"))
        with self.assertWarns(RuntimeWarning):
            t.end_stage("late")
        run = self.finalize(t)  # a second finalize writes the run again
        self.assertEqual(run["stages"], {})
        self.assertIn("end_stage('never started') without an open stage of that name; ignored", run["warnings"])

    def test_data_not_encodable(self):
        t = self.tracker()
        t.start_stage("fit")
        t.end_stage("fit", data={"loss": float("nan")})
        run = self.finalize(t)
        st = run["stages"]["fit"]
        self.assertIsNone(st["data"])
        self.assertIn("data cannot be encoded as JSON", st["data_error"])
        self.assertEqual(st["status"], "ok")

    def test_args_any_json(self):
        for name, args, want_name in [
            ("object", {"target": "10.0.0.0/24", "depth": 2}, "run"),
            ("list", ["--fast"], "run"),
            ("none", None, "run"),
            ("string", "M1", "M1"),
        ]:
            with self.subTest(name):
                run = self.finalize(self.tracker(args))
                self.assertEqual((run["args"], run["name"]), (args, want_name))

    def test_no_temporary_file_left(self):
        t = self.tracker()
        self.finalize(t)
        self.assertEqual(sorted(os.listdir(self.dir)), ["run_output.json"])


class PythonAdditionsTest(Base):
    def test_with_stage_records_and_reraises(self):
        t = self.tracker()
        with t.stage("load") as s:
            s.data = {"rows": 7}
        with self.assertRaises(RuntimeError):
            with t.stage("train"):
                with t.stage("epoch") as e:
                    e.data = 1
                raise RuntimeError("diverged")
        run = self.finalize(t)
        self.assertEqual(run["stages"]["load"]["data"], {"rows": 7})
        train = run["stages"]["train"]
        self.assertEqual((train["status"], train["error"]), ("error", "diverged"))
        self.assertIn("RuntimeError: diverged", train["stack"])
        self.assertEqual(train["stages"]["epoch"]["data"], 1)  # nested
        self.assertEqual(run["stage_count"], 3)
        self.assertEqual(run["error"], 'stage "train" failed: diverged')

    def test_decorator(self):
        t = self.tracker()

        @t.stage("evaluate")
        def evaluate(x):
            return x * 2

        @t.stage
        def unnamed():
            raise ValueError("bad")

        @t.stage()
        async def fetch():
            return 1

        self.assertEqual(evaluate(2), 4)
        evaluate(3)
        with self.assertRaises(ValueError):
            unnamed()
        self.assertEqual(asyncio.run(fetch()), 1)
        run = self.finalize(t)
        self.assertEqual(list(run["stages"]), ["evaluate#1", "evaluate", "unnamed", "fetch"])
        self.assertEqual(run["stages"]["unnamed"]["error"], "bad")

    def test_threads_ConcurrentSafe(self):
        t = self.tracker()
        n, per = 8, 50

        def work(i):
            for j in range(per):
                with t.stage("worker-%d" % i) as s:
                    s.data = j
                t.start_stage("shared")
                t.end_stage("shared")

        threads = [threading.Thread(target=work, args=(i,)) for i in range(n)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        run = self.finalize(t)
        self.assertEqual(run["stage_count"], 2 * n * per)
        self.assertEqual(len(run["stages"]), 2 * n * per)  # thread stages stay top level
        self.assertEqual(run["status"], "ok")
        for i in range(n):
            self.assertEqual(run["stages"]["worker-%d" % i]["data"], per - 1)
            self.assertEqual(run["stages"]["worker-%d" % i]["attempt"], per)


class JournalTest(Base):
    def journal(self, t):
        return os.path.join(self.runs, t.run_id + ".journal")

    def test_journal_while_running_then_removed(self):
        t = self.tracker({"a": 1})
        t.start_stage("Detection")
        t.end_stage("Detection", data={"status": "clean"})
        t.start_stage("Enrichment")
        path = self.journal(t)
        with open(path, encoding="utf-8") as f:
            lines = [json.loads(line) for line in f]
        self.assertEqual([ev["e"] for ev in lines], ["run", "start", "end", "start"])
        self.assertEqual(lines[0]["run_id"], t.run_id)
        self.assertEqual(lines[0]["args"], {"a": 1})
        self.assertEqual(lines[2]["data"], {"status": "clean"})
        self.assertEqual(lines[2]["start"], lines[1]["start"])
        self.assertGreaterEqual(lines[2]["end"], lines[2]["start"])

        # Recovery takes a journal only when it can lock it exclusively.
        with open(path, "rb") as f:
            with self.assertRaises(BlockingIOError):
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)

        self.finalize(t)
        self.assertFalse(os.path.exists(path))
        self.assertFalse(os.path.exists(self.runs))  # made for the journal, removed when empty

    def test_journal_off(self):
        t = self.tracker(journal=False)
        self.finalize(t)
        self.assertFalse(os.path.exists(self.runs))

    def test_unwritable_dir_warns_and_still_writes_the_file(self):
        blocker = os.path.join(self.dir, "file")
        open(blocker, "w").close()
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            t = self.tracker(dir=os.path.join(blocker, "runs"))
        self.assertTrue(any("no journal" in str(x.message) for x in w))
        run = self.finalize(t)
        self.assertTrue(any(x.startswith("no journal") for x in run["warnings"]))

    def test_joins_a_started_runs_journal(self):
        # What stagetrack start leaves for its steps: a journal held by no
        # one, and the variables that name it.
        os.makedirs(self.runs)
        jpath = os.path.join(self.runs, "8f424ec7-fc31-41b5-a1ec-12c8ea2cfeae.journal")
        with open(jpath, "w") as f:
            f.write('{"e":"run","t":1,"run_id":"8f424ec7-fc31-41b5-a1ec-12c8ea2cfeae",'
                    '"trace_id":"571320ef20479cd6a45bcf8849e4d6bd","span_id":"8868b6d97e9d0504","detached":true}\n')
        env = {"STAGE_TRACKER_RUN_ID": "8f424ec7-fc31-41b5-a1ec-12c8ea2cfeae",
               "STAGE_TRACKER_JOURNAL": jpath,
               "TRACEPARENT": "00-571320ef20479cd6a45bcf8849e4d6bd-9c4b24a014882c98-01"}
        t = self.tracker(env=env)
        self.assertTrue(t.joined)
        with t.stage("train"):
            with t.stage("epoch"):
                pass
        run = self.finalize(t)
        self.assertEqual(run["run_id"], "8f424ec7-fc31-41b5-a1ec-12c8ea2cfeae")
        self.assertEqual(run["trace_id"], "571320ef20479cd6a45bcf8849e4d6bd")
        self.assertEqual(run["parent_span_id"], "9c4b24a014882c98")
        with open(jpath, encoding="utf-8") as f:
            ends = [json.loads(line) for line in f if '"e":"end"' in line]
        self.assertEqual([e["name"] for e in ends], ["epoch", "train", "stage_tracker.process"])
        self.assertEqual(ends[2]["process_stage_count"], 2)  # the count span: both stages
        self.assertEqual(ends[1]["parent_span_id"], "9c4b24a014882c98")  # under the exec stage
        self.assertEqual(ends[0]["parent_span_id"], ends[1]["span_id"])
        self.assertTrue(os.path.exists(jpath))  # the run's, left for stagetrack finish


if __name__ == "__main__":
    unittest.main()
