"""The one error type edgelite raises for user-facing problems.

Every error names what it concerns (file, node, op, tensor), says what is wrong and, where
possible, what to do. The CLI prints it on one line and exits with its exit code; it never
shows a traceback for an EdgeliteError.
"""

from __future__ import annotations

from dataclasses import dataclass, field


class Code:
    """Error codes. Each maps to a process exit code in EXIT_CODES."""

    BAD_INPUT = "bad-input"  # missing/unreadable/invalid file, bad option value
    UNSUPPORTED = "unsupported"  # op, attribute, dtype or dynamic shape we cannot convert
    INVALID_MODEL = "invalid-model"  # the model itself is inconsistent
    RUNTIME = "runtime"  # runtime_micro returned an error status
    INTERNAL = "internal"  # a bug in edgelite


# The documented exit codes (`edgelite --help`, README): 2 for anything about the user's input
# (a file, an option, a model we cannot handle, data runtime_micro refuses at run time), 1 for
# our own bugs.
EXIT_CODES = {
    Code.BAD_INPUT: 2,
    Code.UNSUPPORTED: 2,
    Code.INVALID_MODEL: 2,
    Code.RUNTIME: 2,
    Code.INTERNAL: 1,
}


@dataclass
class Unsupported:
    """One unsupported construct: an op type, the node names using it, and why."""

    op_type: str
    node: str
    reason: str


class EdgeliteError(Exception):
    def __init__(
        self,
        message: str,
        *,
        code: str = Code.BAD_INPUT,
        where: str | None = None,
        hint: str | None = None,
        details: list[Unsupported] | None = None,
    ) -> None:
        self.message = message
        self.code = code
        self.where = where
        self.hint = hint
        self.details = details or []
        super().__init__(self.render())

    @property
    def exit_code(self) -> int:
        return EXIT_CODES.get(self.code, 2)

    def render(self) -> str:
        text = f"{self.where}: {self.message}" if self.where else self.message
        if self.hint:
            text += f" ({self.hint})"
        return text


class UnsupportedError(EdgeliteError):
    """Raised by a lowering for a construct its registry entry does not cover.

    The converter collects these over the whole graph and raises one EdgeliteError that lists
    every unsupported op type with its node names and reasons.
    """

    def __init__(self, reason: str, *, op_type: str = "", node: str = "", hint: str | None = None):
        self.reason = reason
        self.op_type = op_type
        self.node = node
        super().__init__(reason, code=Code.UNSUPPORTED, where=node or None, hint=hint)


@dataclass
class UnsupportedReport:
    items: list[Unsupported] = field(default_factory=list)

    def add(self, op_type: str, node: str, reason: str) -> None:
        self.items.append(Unsupported(op_type, node, reason))

    def raise_if_any(self, source: str) -> None:
        if not self.items:
            return
        by_op: dict[str, list[Unsupported]] = {}
        for item in self.items:
            by_op.setdefault(item.op_type, []).append(item)
        parts = []
        for op_type in sorted(by_op):
            nodes = "; ".join(f"{u.node!r}: {u.reason}" for u in by_op[op_type])
            parts.append(f"{op_type} [{nodes}]")
        raise EdgeliteError(
            f"cannot convert {len(self.items)} node(s): " + " | ".join(parts),
            code=Code.UNSUPPORTED,
            where=source,
            hint="`edgelite ops` lists what is supported",
            details=list(self.items),
        )
