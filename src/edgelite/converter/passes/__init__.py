"""IR passes: each takes a Graph, rewrites it in place, and says whether it changed anything.

``run_passes`` applies passes until none changes the graph (a fixpoint), validating the graph
after every pass so a broken rewrite is caught where it happens. ``optimize`` is what the
converter runs: all passes, the graph's ends made channels-last once, all passes again.
"""

from __future__ import annotations

from collections.abc import Callable

from edgelite import ir
from edgelite.converter.passes.activation import fuse_activations
from edgelite.converter.passes.batchnorm import fold_batchnorm
from edgelite.converter.passes.empty import fold_empty_tensors
from edgelite.converter.passes.fold_constants import fold_constants, remove_dead
from edgelite.converter.passes.identity import (
    fold_concat_chains,
    fold_reshape_chains,
    remove_identities,
    split_wide_concats,
)
from edgelite.converter.passes.input_affine import fold_input_affine
from edgelite.converter.passes.layout import absorb_io_transposes, optimize_layout
from edgelite.converter.passes.pad import fold_pads, merge_pads
from edgelite.converter.passes.reshape import sink_reshapes
from edgelite.errors import Code, EdgeliteError

MAX_ROUNDS = 100

Pass = Callable[[ir.Graph], bool]


def default_passes(keep_nchw_io: bool = False) -> list[tuple[str, Pass]]:
    return [
        ("fold_constants", fold_constants),
        ("fold_empty_tensors", fold_empty_tensors),
        ("remove_identities", remove_identities),
        ("fold_reshape_chains", fold_reshape_chains),
        ("fold_concat_chains", fold_concat_chains),
        ("split_wide_concats", split_wide_concats),
        ("sink_reshapes", sink_reshapes),
        ("layout", lambda g: optimize_layout(g, keep_nchw_io)),
        ("fold_batchnorm", fold_batchnorm),
        ("fold_input_affine", fold_input_affine),
        ("fuse_activations", fuse_activations),
        ("merge_pads", merge_pads),
        ("fold_pads", fold_pads),
        ("remove_dead", remove_dead),
    ]


def run_passes(graph: ir.Graph, keep_nchw_io: bool = False,
               passes: list[tuple[str, Pass]] | None = None) -> ir.Graph:
    """Run ``passes`` (default: all) to a fixpoint."""
    passes = passes if passes is not None else default_passes(keep_nchw_io)
    graph.validate()
    for _ in range(MAX_ROUNDS):
        changed = False
        for name, fn in passes:
            try:
                did = fn(graph)
            except EdgeliteError:
                raise
            except Exception as e:  # a pass that crashes is our bug: one line, not a traceback
                raise EdgeliteError(f"pass {name} failed: {type(e).__name__}: {e}",
                                    code=Code.INTERNAL,
                                    hint="please report this with the model") from e
            if did:
                changed = True
                try:
                    graph.validate()
                except ValueError as e:
                    raise EdgeliteError(f"pass {name} broke the graph: {e}", code=Code.INTERNAL,
                                        hint="please report this with the model") from e
        if not changed:
            return graph
    raise EdgeliteError(f"graph passes did not settle after {MAX_ROUNDS} rounds",
                        code=Code.INTERNAL, hint="please report this with the model")


def optimize(graph: ir.Graph, keep_nchw_io: bool = False) -> tuple[list[bool], list[bool]]:
    """All passes to a fixpoint. Returns which inputs and outputs (by position) became
    channels-last: none with ``keep_nchw_io``."""
    if keep_nchw_io:
        run_passes(graph, passes=default_passes(keep_nchw_io=True))
        return [False] * len(graph.inputs), [False] * len(graph.outputs)
    run_passes(graph, passes=default_passes(keep_nchw_io=False))
    moved = absorb_io_transposes(graph)
    graph.validate()
    # the ends are settled now: tidy up what absorbing them made possible, ends kept as they are
    run_passes(graph, passes=default_passes(keep_nchw_io=True))
    return moved


__all__ = [
    "absorb_io_transposes",
    "default_passes",
    "fold_batchnorm",
    "fold_concat_chains",
    "fold_constants",
    "fold_empty_tensors",
    "fold_pads",
    "fold_reshape_chains",
    "fuse_activations",
    "merge_pads",
    "optimize",
    "optimize_layout",
    "remove_dead",
    "remove_identities",
    "run_passes",
    "sink_reshapes",
    "split_wide_concats",
]
