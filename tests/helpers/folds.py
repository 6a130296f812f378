"""The same model in two interpreters: the timed one (hosted folds on) and one with an op
callback, which turns the folds off and records the builtin code of every op it runs."""

from __future__ import annotations

import numpy as np

from edgelite.runtime import Interpreter


def folded_and_unfolded(model, x: np.ndarray) -> tuple[Interpreter, Interpreter, list[int]]:
    """Both interpreters invoked once on input x; the codes the callback saw, in order."""
    ran: list[int] = []
    folded = Interpreter(model)
    unfolded = Interpreter(model, callback=lambda sg, op, code, after: ran.append(code)
                           if after else None)
    for it in (folded, unfolded):
        it.set_input(0, x)
        it.invoke()
    return folded, unfolded, ran
