"""stage_tracker: the Python stage-tracker's API (Tracker, start_stage,
end_stage, finalize) on the standard library, writing stagetrack's run file
(schema_version 2), keeping a journal that `stagetrack recover` reads, and
joining a `stagetrack run` or an OTLP endpoint. See docs/python.md."""

__version__ = "0.1.0"

from .tracker import Stage, Tracker  # noqa: E402

__all__ = ["Tracker", "Stage", "__version__"]
