"""Differential fuzzing of the converter, the long run: random valid ONNX graphs from
tests/helpers/onnx_fuzz.py, each run in ONNX Runtime and, converted by edgelite, in LiteRT and
runtime_micro; prints every disagreement (seed, ops, error) and a summary.

    PYTHONPATH=src python benchmarks/converter_fuzz.py --start 0 --count 5000

A seed reproduces its graph exactly: `--start SEED --count 1 --save DIR` writes the .onnx.
`--hostile` mutates each seed's graph instead (bytes, then structure) and checks the CLI.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # helpers/

from helpers import onnx_fuzz
from helpers.onnx_fuzz import generate, run_case


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--start", type=int, default=0, help="first seed")
    ap.add_argument("--count", type=int, default=1000, help="how many seeds")
    ap.add_argument("--max-ops", type=int, default=6, help="ops per graph (at most)")
    ap.add_argument("--save", type=Path, help="write each failing graph here as SEED.onnx")
    ap.add_argument("--int-share", type=float, help="share of integer graphs (default 0.15)")
    ap.add_argument("--hostile", action="store_true",
                    help="instead: mutate each seed's graph (bytes, then structure) and check "
                         "`edgelite convert` ends in a file or one error line, exit 2")
    args = ap.parse_args()
    if args.hostile:
        return hostile(args)
    if args.int_share is not None:
        onnx_fuzz.INT_GRAPHS = args.int_share
    status: Counter[str] = Counter()
    ops_seen: Counter[str] = Counter()
    failing_ops: Counter[str] = Counter()
    micro_gaps = 0
    worst: dict[str, float] = {}
    t0 = time.perf_counter()
    for seed in range(args.start, args.start + args.count):
        case = generate(seed, max_ops=args.max_ops)
        v = run_case(case)
        status[v.status] += 1
        ops_seen.update(set(case.ops))
        for runtime, ratio in v.worst.items() if v.status == "ok" else ():
            worst[runtime] = max(worst.get(runtime, 0.0), ratio)
        micro_gaps += bool(v.notes)
        if v.status in ("illcond", "oracles"):
            continue  # counted in the summary; see onnx_fuzz._ill_conditioned and
            # onnx_fuzz._reference_sides_with_us
        if v.status != "ok":
            failing_ops.update(set(case.ops))
            print(v.line(), flush=True)
            if args.save:
                args.save.mkdir(parents=True, exist_ok=True)
                (args.save / f"{seed}.onnx").write_bytes(case.model.SerializeToString())
    dt = time.perf_counter() - t0
    print(f"\n{args.count} graphs (seeds {args.start}..{args.start + args.count - 1}) in "
          f"{dt:.1f} s: " + ", ".join(f"{k} {n}" for k, n in sorted(status.items())))
    print(f"runtime_micro refused {micro_gaps} integer graph(s) for a known kernel gap "
          "(onnx_fuzz.MICRO_INT_GAPS; LiteRT compared)")
    print("largest error / tolerance among agreeing graphs: "
          + ", ".join(f"{k} {r:.3f}" for k, r in sorted(worst.items())))
    print(f"{len(ops_seen)} op types generated: "
          + " ".join(f"{op}:{n}" for op, n in sorted(ops_seen.items())))
    if failing_ops:
        print("op types in failing graphs: "
              + " ".join(f"{op}:{n}" for op, n in failing_ops.most_common()))
    return 1 if status.keys() - {"ok", "illcond", "oracles"} else 0


def hostile(args: argparse.Namespace) -> int:
    """Every mutated model through the CLI's entry point: converted, or one `error:` line and
    exit 2; an exception escaping main(), exit 70 (an internal error) or more lines is a bug."""
    import contextlib
    import io
    import tempfile
    import traceback

    import numpy as np
    from helpers.onnx_fuzz import mutate_bytes, mutate_structure

    from edgelite.cli import main as cli_main

    outcomes: Counter[str] = Counter()
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(args.start, args.start + args.count):
            rng = np.random.default_rng(seed)
            base = generate(seed, max_ops=args.max_ops).model
            for kind in ("bytes", "structure"):
                data = mutate_bytes(base.SerializeToString(), rng) if kind == "bytes" else \
                    mutate_structure(base, rng).SerializeToString()
                path = Path(tmp) / f"{seed}_{kind}.onnx"
                path.write_bytes(data)
                err = io.StringIO()
                try:
                    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
                        code = cli_main(["convert", str(path), "-o", str(Path(tmp) / "o.tflite")])
                except BaseException:  # noqa: BLE001 - what we are looking for
                    code, tb = -1, traceback.format_exc(limit=4)
                lines = [ln for ln in err.getvalue().splitlines()
                         if ln.strip() and not ln.startswith("note:")]
                ok = code == 0 or (code == 2 and len(lines) == 1)
                outcomes[f"{kind} {'exit ' + str(code) if code >= 0 else 'escaped'}"] += 1
                if not ok:
                    print(f"seed {seed} {kind}: exit {code}: "
                          + (tb if code == -1 else err.getvalue()[-400:]), flush=True)
                    if args.save:
                        args.save.mkdir(parents=True, exist_ok=True)
                        (args.save / path.name).write_bytes(data)
    print(f"\n{2 * args.count} mutated models in {time.perf_counter() - t0:.1f} s: "
          + ", ".join(f"{k} {n}" for k, n in sorted(outcomes.items())))
    bad = sum(n for k, n in outcomes.items() if not k.endswith(("exit 0", "exit 2")))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
