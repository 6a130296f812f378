"""The Java binding dev.edgelite.Interpreter on the host JVM (issue 12, part 3).

runtime_micro is built with -DEDGELITE_JAVA=ON and installed (share/java/edgelite.jar,
lib/libedgelite_jni.so); tests/java/RunDigits.java runs the digits models (float32 and int8,
made by edgelite here) on a real held-out digit through Interpreter(File) + run(arrays) and
Interpreter(direct ByteBuffer) + runForMultipleInputsOutputs(ByteBuffers). Its outputs must be
identical to the Python binding's (checked against LiteRT in tests/helpers/embed.py), its
tensor metadata equal to the Python binding's, and its errors must carry runtime_micro's
messages. Needs a JDK (Debian: default-jdk-headless, in .ci/run).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from helpers.embed import ROOT, digits_models, libdir, run, tool

pytestmark = pytest.mark.slow  # JNI library and javac

DRIVER = ROOT / "tests" / "java" / "RunDigits.java"


@pytest.fixture(scope="module")
def java_prefix(installed_runtime: Path) -> Path:
    tool("javac", "default-jdk-headless")  # conftest built without Java when javac is missing
    return installed_runtime


@pytest.fixture(scope="module")
def driver(java_prefix: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    classes = tmp_path_factory.mktemp("classes")
    run([tool("javac", "default-jdk-headless"), "-Xlint:all", "-Werror", "-cp",
         java_prefix / "share" / "java" / "edgelite.jar", "-d", classes, DRIVER])
    return classes


def test_install_and_exports(java_prefix: Path) -> None:
    lib = libdir(java_prefix) / "libedgelite_jni.so"
    assert (java_prefix / "share" / "java" / "edgelite.jar").is_file()
    names = run(["nm", "-D", "--defined-only", lib]).split()
    exported = {n for n in names if n[:1].isalpha() and len(n) > 1 and n not in "TDBRW"}
    # the JNI entry points only: runtime_micro's API stays inside the library
    assert exported and all(n.startswith("Java_dev_edgelite_NativeInterpreter_")
                            for n in exported), sorted(exported)


@pytest.mark.parametrize("which", [0, 1], ids=["digits_f32", "digits_i8"])
def test_java_outputs_equal_the_python_binding(which: int, java_prefix: Path, driver: Path,
                                               tmp_path: Path) -> None:
    from edgelite.errors import EdgeliteError
    from edgelite.runtime import Interpreter

    m = digits_models()[which]
    model, x = tmp_path / "m.tflite", tmp_path / "x.bin"
    model.write_bytes(m.model)
    x.write_bytes(m.x.tobytes())
    jar = java_prefix / "share" / "java" / "edgelite.jar"
    out = run([tool("java", "default-jdk-headless"), f"-Djava.library.path={libdir(java_prefix)}",
               "-cp", f"{jar}:{driver}", "RunDigits", model, x])
    lines = {ln.split(" ", 1)[0]: ln.split(" ", 1)[1] for ln in out.splitlines() if " " in ln}

    if m.y.dtype == np.float32:
        want = " ".join(str(v) for v in m.y.ravel().view(np.int32))  # exact: the bits
    else:
        want = " ".join(str(int(v)) for v in m.y.ravel())
    assert lines["array"] == want, out
    assert lines["buffer"] == want, out
    assert lines["threads2"] == want, out  # Options.setNumThreads(2): the same bytes
    # Options.setAllowFp16(true): this x86 host has no FEAT_FP16 (and the models store no
    # float16 weights): the same bytes, as runtime_micro's allow_fp16 promises there
    assert lines["fp16"] == want, out

    py = Interpreter(m.model)
    i, o = py.inputs[0], py.outputs[0]
    jtype = {np.dtype(np.float32): "FLOAT32", np.dtype(np.int8): "INT8"}
    info = lines["info"]
    assert f"inputs=1 outputs=1 in={jtype[i.dtype]}{list(i.shape)}" in info
    assert f" zp={i.zero_point} out={jtype[o.dtype]}{list(o.shape)}" in info
    bits = lambda v: int(np.array([v], np.float32).view(np.int32)[0])  # noqa: E731
    assert f"scalebits={bits(i.scale)} " in info and f"outscalebits={bits(o.scale)} " in info
    assert f"outzp={o.zero_point}" in info and f"name={i.name}" in info
    assert f"bytes={m.x.nbytes}" in info
    assert int(lines["arena"]) == py.arena_bytes

    # errors carry runtime_micro's message (the same text the Python binding reports)
    assert "needs an array of shape [1, 28, 28, 1], got [1, 27, 28, 1]" in lines["shape"]
    assert "cannot convert" in lines["type"] and "[[[[J" in lines["type"]
    assert lines["closed"] == "edgelite: the interpreter is closed"
    assert "numThreads 0" in lines["threads"]
    with pytest.raises(EdgeliteError) as err:
        Interpreter(m.model[: len(m.model) // 2])
    c_message = str(err.value).split(" [EL_")[0]
    assert "EL_ERROR_INVALID_MODEL" in lines["badmodel"], out
    assert c_message.split(": ", 1)[-1][:40] in lines["badmodel"], (c_message, lines["badmodel"])


def test_java_two_inputs_from_a_mapped_buffer(java_prefix: Path, tmp_path: Path) -> None:
    """runtime_micro/corpus/valid_base.tflite (float32 x and int32 idx): MappedByteBuffer
    constructor, runForMultipleInputsOutputs with float[][] and int[] placed by
    getInputIndex; the output equals LiteRT's (and the Python binding's) bit for bit."""
    from ai_edge_litert.interpreter import Interpreter as LiteRT

    from edgelite.runtime import Interpreter

    model = ROOT / "runtime_micro" / "corpus" / "valid_base.tflite"
    classes = tmp_path / "classes"
    jar = java_prefix / "share" / "java" / "edgelite.jar"
    run([tool("javac", "default-jdk-headless"), "-Xlint:all", "-Werror", "-cp", jar, "-d",
         classes, ROOT / "tests" / "java" / "RunMulti.java"])
    py = Interpreter(model)
    x_name = next(d.name for d in py.inputs if d.dtype == np.float32)
    out = run([tool("java", "default-jdk-headless"), f"-Djava.library.path={libdir(java_prefix)}",
               "-cp", f"{jar}:{classes}", "RunMulti", model, x_name])
    lines = dict(ln.split(" ", 1) for ln in out.splitlines())

    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    idx = np.array([1, 0], np.int32)
    feeds = {d.name: (x if d.dtype == np.float32 else idx) for d in py.inputs}
    for k, d in enumerate(py.inputs):
        py.set_input(k, feeds[d.name])
    py.invoke()
    want = py.get_output(0)
    lite = LiteRT(model_path=str(model))
    lite.allocate_tensors()
    for d in lite.get_input_details():
        lite.set_tensor(d["index"], feeds[d["name"]])
    lite.invoke()
    np.testing.assert_array_equal(want, lite.get_tensor(lite.get_output_details()[0]["index"]))
    assert lines["names"] == f"{py.inputs[0].name} {py.inputs[1].name} " + \
        ("FLOAT32" if py.inputs[1].dtype == np.float32 else "INT32")
    assert lines["out"] == f"{list(want.shape)} " + " ".join(
        str(v) for v in want.ravel().view(np.int32)), out
