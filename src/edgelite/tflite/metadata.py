"""edgelite's entry in a .tflite file's metadata: a JSON object under the name "edgelite".

The converter writes it (producer, version, source file hash, options, and which rank 3-5
inputs/outputs it moved channels-last); quantize and prune add their options; run, bench, eval
and export read the layout so NCHW user data can be moved to what the model expects.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

METADATA_KEY = "edgelite"
CHANNELS_LAST = ("NWC", "NHWC", "NDHWC")


@dataclass(frozen=True)
class IoLayout:
    """Which model inputs/outputs the converter moved to channels-last (metadata "layout")."""

    inputs: frozenset[str]
    outputs: frozenset[str]


def channels_last_io(raw: bytes | None) -> IoLayout:
    """Read the "layout" entry of our metadata; unreadable or absent metadata moved nothing."""
    none = IoLayout(frozenset(), frozenset())
    if not raw:
        return none
    try:
        layout = json.loads(raw).get("layout", {})
        return IoLayout(
            frozenset(n for n, v in layout.get("inputs", {}).items() if v in CHANNELS_LAST),
            frozenset(n for n, v in layout.get("outputs", {}).items() if v in CHANNELS_LAST))
    except (ValueError, AttributeError):
        return none
