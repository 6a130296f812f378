"""Calibration data loading: formats, layout, image preprocessing, and every bad-data error."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from edgelite import ir
from edgelite.errors import EdgeliteError
from edgelite.quantize import ImageFolder, QuantizeOptions, load_samples, quantize


def _graph(*shapes: tuple[int, ...]) -> ir.Graph:
    """A float graph with one RELU per input (enough for loading; never run here)."""
    g = ir.Graph()
    for i, shape in enumerate(shapes):
        x = ir.Tensor(f"in{i}", shape)
        y = ir.Tensor(f"out{i}", shape)
        g.inputs.append(x)
        g.outputs.append(y)
        g.ops.append(ir.Op("RELU", [x], [y]))
    return g


def test_npz_keyed_by_name_stacked(tmp_path: Path) -> None:
    g = _graph((1, 4, 4, 3), (1, 5))
    a = np.random.default_rng(0).random((6, 4, 4, 3), dtype=np.float32)
    b = np.random.default_rng(1).random((6, 5), dtype=np.float32)
    np.savez(tmp_path / "cal.npz", in0=a, in1=b)
    samples = load_samples(tmp_path / "cal.npz", g, samples=4)
    assert len(samples) == 4
    assert samples[2]["in0"].shape == (1, 4, 4, 3)
    np.testing.assert_array_equal(samples[2]["in0"][0], a[2])
    np.testing.assert_array_equal(samples[3]["in1"][0], b[3])


def test_nchw_data_for_nhwc_input_is_transposed(tmp_path: Path) -> None:
    g = _graph((1, 4, 5, 3))
    x = np.arange(2 * 3 * 4 * 5, dtype=np.float32).reshape(2, 3, 4, 5)
    np.save(tmp_path / "x.npy", x)
    samples = load_samples(tmp_path / "x.npy", g)
    np.testing.assert_array_equal(samples[1]["in0"][0], x[1].transpose(1, 2, 0))
    with pytest.raises(EdgeliteError, match=r"in0.*\[1, 4, 5, 3\]"):
        load_samples(tmp_path / "x.npy", g, layout="nhwc")


@pytest.mark.parametrize(
    "data, pattern",
    [
        (np.zeros((4, 3, 3, 3), np.float32), r"in0.*data shape \[4, 3, 3, 3\].*\[1, 4, 4, 3\]"),
        (np.full((4, 4, 4, 3), np.nan, np.float32), r"in0.*NaN/inf"),
        (np.array([[[[np.inf, 0, 0]]]] * 4, np.float32).repeat(4, 1).repeat(4, 2), "NaN/inf"),
        (np.array(["a"] * 4), "not numeric"),
        (np.zeros((0, 4, 4, 3), np.float32), r"no calibration samples.*'in0' \[1, 4, 4, 3\]"),
    ],
)
def test_bad_arrays(data: np.ndarray, pattern: str) -> None:
    with pytest.raises(EdgeliteError, match=pattern):
        load_samples(data, _graph((1, 4, 4, 3)))


def test_fewer_samples_than_asked(tmp_path: Path) -> None:
    np.save(tmp_path / "x.npy", np.zeros((3, 4, 4, 3), np.float32))
    with pytest.raises(EdgeliteError,
                       match=r"10 calibration samples asked for.*only 3.*'in0' \[1, 4, 4, 3\]"):
        load_samples(tmp_path / "x.npy", _graph((1, 4, 4, 3)), samples=10)


def test_missing_input_key_names_the_input(tmp_path: Path) -> None:
    np.savez(tmp_path / "cal.npz", in0=np.zeros((2, 4), np.float32))
    with pytest.raises(EdgeliteError, match=r"no data for model input 'in1' \[1, 2\]"):
        load_samples(tmp_path / "cal.npz", _graph((1, 4), (1, 2)))


def test_missing_and_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(EdgeliteError, match="does not exist"):
        load_samples(tmp_path / "nope.npz", _graph((1, 4)))
    (tmp_path / "junk.npy").write_bytes(b"not numpy")
    with pytest.raises(EdgeliteError, match="cannot read calibration data"):
        load_samples(tmp_path / "junk.npy", _graph((1, 4)))


def test_empty_image_folder(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("no images here")
    with pytest.raises(EdgeliteError, match=r"no images.*in0.*\[1, 4, 4, 3\]"):
        load_samples(tmp_path, _graph((1, 4, 4, 3)))


def _png(path: Path, rgb: tuple[int, int, int], size: tuple[int, int]) -> None:
    from PIL import Image

    Image.new("RGB", (size[1], size[0]), rgb).save(path)


def test_image_folder_preprocessing(tmp_path: Path) -> None:
    _png(tmp_path / "a.png", (10, 20, 30), (16, 16))  # resized 16x16 -> 4x4: still uniform
    _png(tmp_path / "b.png", (200, 100, 0), (4, 4))
    spec = ImageFolder(tmp_path, mean=(0.5, 0.25, 0.0), std=(0.5, 0.25, 1.0))
    samples = load_samples(spec, _graph((1, 4, 4, 3)))
    assert len(samples) == 2  # sorted by file name: a, b
    expected_a = (np.array([10, 20, 30]) / 255.0 - [0.5, 0.25, 0.0]) / [0.5, 0.25, 1.0]
    np.testing.assert_allclose(samples[0]["in0"][0, 2, 3], expected_a, rtol=1e-6)
    bgr = load_samples(ImageFolder(tmp_path, channels="bgr"), _graph((1, 4, 4, 3)))
    np.testing.assert_allclose(bgr[1]["in0"][0, 0, 0], np.array([0, 100, 200]) / 255.0,
                               rtol=1e-6)
    nchw = load_samples(ImageFolder(tmp_path, layout="nchw", scale=1.0),
                        _graph((1, 3, 4, 4)))
    np.testing.assert_array_equal(nchw[1]["in0"][0, :, 1, 1], [200, 100, 0])
    gray = load_samples(ImageFolder(tmp_path, channels="gray", scale=1.0), _graph((1, 4, 4, 1)))
    # ITU-R 601-2 luma, as Pillow's "L" conversion: 200*299/1000 + 100*587/1000 = 118.5 -> 118
    assert gray[1]["in0"][0, 0, 0, 0] in (118.0, 119.0)
    with pytest.raises(EdgeliteError, match="only 2 image"):
        load_samples(spec, _graph((1, 4, 4, 3)), samples=3)


def test_callable_source() -> None:
    rng = np.random.default_rng(2)
    arrays = [rng.random((4,), dtype=np.float32) for _ in range(5)]
    samples = load_samples(lambda: iter(arrays), _graph((1, 4)), samples=3)
    assert len(samples) == 3
    np.testing.assert_array_equal(samples[2]["in0"], arrays[2][None])
    with pytest.raises(EdgeliteError, match="sample 0 has no value for input 'in1'"):
        load_samples(lambda: [{"in0": arrays[0]}], _graph((1, 4), (1, 2)))


def test_quantize_checks_data_before_any_work(capsys: pytest.CaptureFixture[str]) -> None:
    g = _graph((1, 4, 4, 3))
    bad = np.full((5, 4, 4, 3), np.nan, np.float32)
    with pytest.raises(EdgeliteError, match="NaN"):
        quantize(g, QuantizeOptions(calibration=bad))
    with pytest.raises(EdgeliteError, match="needs calibration data"):
        quantize(g, QuantizeOptions())
    assert "calibrating" not in capsys.readouterr().err


def test_converter_layout_metadata_drives_transposition() -> None:
    """A rank-3 input the converter made channels-last (NWC) takes NCW data."""
    import json

    g = _graph((1, 6, 4))
    g.metadata["edgelite"] = json.dumps({"layout": {"inputs": {"in0": "NWC"},
                                                    "outputs": {}}}).encode()
    x = np.arange(3 * 4 * 6, dtype=np.float32).reshape(3, 4, 6)  # N, C, W
    samples = load_samples(x, g)
    np.testing.assert_array_equal(samples[2]["in0"][0], x[2].T)


@pytest.mark.parametrize("kw, pattern", [
    ({"mode": "int4"}, "unknown quantization mode"),
    ({"io": "int16"}, "unknown io type"),
    ({"method": "median"}, "unknown calibration method"),
    ({"samples": 0}, "samples must be a positive integer"),
    ({"layout": "hwc"}, "layout must be"),
    ({"auto_precision": -3.0}, "auto precision target"),
])
def test_bad_options(kw: dict, pattern: str) -> None:
    with pytest.raises(EdgeliteError, match=pattern):
        QuantizeOptions(**kw)
