"""`edgelite bench`: runtime_micro's speed, arena and per-op profile, side by side with peers."""

from edgelite.bench.api import BenchConfig, BenchReport, PeerRow, run_bench
from edgelite.bench.render import render_text

__all__ = ["BenchConfig", "BenchReport", "PeerRow", "render_text", "run_bench"]
