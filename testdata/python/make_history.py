#!/usr/bin/env python3
"""Writes history/pipeline_history.json as the Python stage-tracker's
finalize() does, by its documented behaviour (no code of it is here):

- finalize() takes no path: it reads history/pipeline_history.json (a JSON
  array of runs, [] when missing), appends this run and rewrites it whole;
- timestamps are datetime.isoformat() of aware UTC datetimes, which end in
  +00:00 and drop the fraction when the microsecond is 0;
- a stage has start_time, end_time, duration_sec (null unless the caller
  passed one), data and error (always null: end_stage takes no error);
- total_duration_sec is null: the tool computes no durations.

Runs 3 and 4 are the hand-made variants people write next to it: naive
timestamps (no offset), a stage with neither end_time nor duration_sec.

The clock is fixed so the output is the same on every run:
  python3 make_history.py  (in this directory) rewrites the fixture.
"""
import datetime
import json
import os

UTC = datetime.timezone.utc
T0 = datetime.datetime(2025, 5, 5, 23, 14, 10, 235518, tzinfo=UTC)


class Tracker:
    def __init__(self, run_id, args, clock):
        self.clock = clock
        self.run = {
            "run_id": run_id,
            "start_time": self.now().isoformat(),
            "args": args,
            "stages": {},
        }

    def now(self):
        return next(self.clock)

    def start_stage(self, name):
        self.run["stages"][name] = {"start_time": self.now().isoformat()}

    def end_stage(self, name, data=None, duration_sec=None):
        st = self.run["stages"][name]
        st["end_time"] = self.now().isoformat()
        st["duration_sec"] = duration_sec
        st["data"] = data
        st["error"] = None

    def finalize(self):
        self.run["completed_at"] = self.now().isoformat()
        self.run["total_duration_sec"] = None
        path = os.path.join("history", "pipeline_history.json")
        os.makedirs("history", exist_ok=True)
        history = []
        if os.path.exists(path):
            with open(path) as f:
                history = json.load(f)
        history.append(self.run)
        with open(path, "w") as f:
            json.dump(history, f, indent=2)


def clock(start, steps):
    t = start
    yield t
    for s in steps:
        t = t + datetime.timedelta(seconds=s)
        yield t


def main():
    path = os.path.join("history", "pipeline_history.json")
    if os.path.exists(path):
        os.remove(path)

    # Run 0: fractions everywhere, durations null (computed from end_time).
    tr = Tracker("af3c980c-3d22-46e8-83cd-7ff99abee586", "Reconnaissance_M1",
                 clock(T0, [0.5, 2.0, 0.1, 1.25, 0.2]))
    tr.start_stage("Detection")
    tr.end_stage("Detection", data={"status": "clean"})
    tr.start_stage("Enrichment")
    tr.end_stage("Enrichment", data={"added_cves": 3})
    tr.finalize()

    # Run 1: whole seconds (isoformat() drops the fraction), a duration the
    # caller passed, args of another JSON type.
    t1 = datetime.datetime(2025, 5, 6, 8, 0, 0, 0, tzinfo=UTC)
    tr = Tracker("0b7e6a52-8f1d-4f43-9a55-2a4d0c1e9f10", {"target": "10.0.0.0/24", "depth": 2},
                 clock(t1, [1, 3, 1, 2, 1]))
    tr.start_stage("Detection")
    tr.end_stage("Detection", data={"status": "dirty"}, duration_sec=3.0)
    tr.start_stage("Enrichment")
    tr.end_stage("Enrichment", data=[1, 2, 3])
    tr.finalize()

    # Runs 2 and 3, hand-made: naive timestamps, args a list and a number,
    # and in run 3 a stage with no end_time and a null duration (unknown).
    with open(path) as f:
        history = json.load(f)
    history.append({
        "run_id": "5c1d2e3f-0000-4000-8000-000000000002",
        "start_time": "2025-05-04T12:00:00.500000",
        "args": ["--fast", "--dry-run"],
        "stages": {
            "Detection": {"start_time": "2025-05-04T12:00:01", "end_time": "2025-05-04T12:00:05",
                          "duration_sec": None, "data": None, "error": None},
            "Enrichment": {"start_time": "2025-05-04T12:00:05", "end_time": "2025-05-04T12:00:06.500000",
                           "duration_sec": None, "data": None, "error": None},
        },
        "completed_at": "2025-05-04T12:00:07",
        "total_duration_sec": None,
    })
    history.append({
        "run_id": "5c1d2e3f-0000-4000-8000-000000000003",
        "start_time": "2025-05-07T09:30:00+00:00",
        "args": 42,
        "stages": {
            "Detection": {"start_time": "2025-05-07T09:30:01+00:00", "duration_sec": None,
                          "data": None, "error": None},
            "Enrichment": {"start_time": "2025-05-07T09:30:02+00:00", "end_time": "2025-05-07T09:30:04+00:00",
                           "duration_sec": None, "data": None, "error": None},
        },
        "completed_at": "2025-05-07T09:30:05+00:00",
        "total_duration_sec": None,
    })
    with open(path, "w") as f:
        json.dump(history, f, indent=2)


if __name__ == "__main__":
    main()
