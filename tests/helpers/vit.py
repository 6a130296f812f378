"""A small ViT-class ONNX model built with onnx.helper, and real photos to feed it.

Patch embedding (8x8 stride-8 Conv), a class-free token sequence with a learned position
embedding, ``depth`` pre-norm encoder blocks (LayerNormalization, multi-head self-attention
with MatMul + Softmax between activations, erf-GELU MLP), a final LayerNorm, mean over tokens
and a linear head. Weights are random but scaled as a trained network's are (fan-in
normalised, LayerNorm gains near 1), seeded, so the model is the same on every run.
"""

from __future__ import annotations

import math

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

N = helper.make_node


def vit(size: int = 32, patch: int = 8, dim: int = 32, heads: int = 2, depth: int = 2,
        mlp: int = 64, classes: int = 10, seed: int = 11) -> onnx.ModelProto:
    rng = np.random.default_rng(seed)
    tokens = (size // patch) ** 2
    hd = dim // heads
    inits: dict[str, np.ndarray] = {}
    nodes: list[onnx.NodeProto] = []

    def w(name: str, *shape: int, fan_in: int | None = None, scale: float = 1.0) -> str:
        fan = fan_in if fan_in is not None else shape[0]
        inits[name] = (rng.standard_normal(shape) * scale / math.sqrt(fan)).astype(np.float32)
        return name

    def c(name: str, value) -> str:
        inits[name] = np.asarray(value)
        return name

    def layer_norm(x: str, name: str) -> str:
        inits[f"{name}_g"] = (1.0 + 0.1 * rng.standard_normal(dim)).astype(np.float32)
        inits[f"{name}_b"] = (0.05 * rng.standard_normal(dim)).astype(np.float32)
        nodes.append(N("LayerNormalization", [x, f"{name}_g", f"{name}_b"], [name], axis=-1,
                       epsilon=1e-5, name=name))
        return name

    def linear(x: str, name: str, n_in: int, n_out: int) -> str:
        nodes.append(N("MatMul", [x, w(f"{name}_w", n_in, n_out)], [f"{name}_mm"],
                       name=f"{name}_mm"))
        inits[f"{name}_b"] = (0.02 * rng.standard_normal(n_out)).astype(np.float32)
        nodes.append(N("Add", [f"{name}_mm", f"{name}_b"], [name], name=name))
        return name

    nodes.append(N("Conv", ["x", w("patch_w", dim, 3, patch, patch, fan_in=3 * patch * patch),
                            c("patch_b", (0.02 * rng.standard_normal(dim)).astype(np.float32))],
                   ["patches"], kernel_shape=[patch, patch], strides=[patch, patch],
                   name="patch_embed"))
    nodes.append(N("Reshape", ["patches", c("flat_shape", np.array([1, dim, tokens], np.int64))],
                   ["flat"], name="flatten"))
    nodes.append(N("Transpose", ["flat"], ["seq"], perm=[0, 2, 1], name="to_tokens"))
    inits["pos"] = (0.1 * rng.standard_normal((1, tokens, dim))).astype(np.float32)
    nodes.append(N("Add", ["seq", "pos"], ["h0"], name="pos_embed"))
    h = "h0"
    for b in range(depth):
        p = f"b{b}"
        n1 = layer_norm(h, f"{p}_ln1")
        qkv = {}
        for part in ("q", "k", "v"):
            y = linear(n1, f"{p}_{part}", dim, dim)
            nodes.append(N("Reshape", [y, c(f"{p}_{part}_hs", np.array([1, tokens, heads, hd],
                                                                        np.int64))],
                           [f"{y}_h"], name=f"{y}_h"))
            perm = [0, 2, 3, 1] if part == "k" else [0, 2, 1, 3]
            nodes.append(N("Transpose", [f"{y}_h"], [f"{y}_t"], perm=perm, name=f"{y}_t"))
            qkv[part] = f"{y}_t"
        nodes.append(N("MatMul", [qkv["q"], qkv["k"]], [f"{p}_scores"], name=f"{p}_qk"))
        nodes.append(N("Mul", [f"{p}_scores", c(f"{p}_scale", np.array(1 / math.sqrt(hd),
                                                                       np.float32))],
                       [f"{p}_scaled"], name=f"{p}_scale"))
        nodes.append(N("Softmax", [f"{p}_scaled"], [f"{p}_attn"], axis=-1, name=f"{p}_softmax"))
        nodes.append(N("MatMul", [f"{p}_attn", qkv["v"]], [f"{p}_ctx"], name=f"{p}_av"))
        nodes.append(N("Transpose", [f"{p}_ctx"], [f"{p}_ctx_t"], perm=[0, 2, 1, 3],
                       name=f"{p}_ctx_t"))
        nodes.append(N("Reshape", [f"{p}_ctx_t", c(f"{p}_merge", np.array([1, tokens, dim],
                                                                           np.int64))],
                       [f"{p}_merged"], name=f"{p}_merge"))
        o = linear(f"{p}_merged", f"{p}_proj", dim, dim)
        nodes.append(N("Add", [h, o], [f"{p}_res1"], name=f"{p}_res1"))
        n2 = layer_norm(f"{p}_res1", f"{p}_ln2")
        f1 = linear(n2, f"{p}_fc1", dim, mlp)
        # GELU written out in its erf form (as torch exports it); the reader fuses it.
        nodes += [N("Div", [f1, c(f"{p}_sqrt2", np.array(math.sqrt(2), np.float32))],
                    [f"{p}_g_d"], name=f"{p}_g_d"),
                  N("Erf", [f"{p}_g_d"], [f"{p}_g_e"], name=f"{p}_g_e"),
                  N("Add", [f"{p}_g_e", c(f"{p}_one", np.array(1, np.float32))], [f"{p}_g_a"],
                    name=f"{p}_g_a"),
                  N("Mul", [f1, f"{p}_g_a"], [f"{p}_g_m"], name=f"{p}_g_m"),
                  N("Mul", [f"{p}_g_m", c(f"{p}_half", np.array(0.5, np.float32))],
                    [f"{p}_gelu"], name=f"{p}_gelu")]
        f2 = linear(f"{p}_gelu", f"{p}_fc2", mlp, dim)
        nodes.append(N("Add", [f"{p}_res1", f2], [f"{p}_out"], name=f"{p}_out"))
        h = f"{p}_out"
    hn = layer_norm(h, "final_ln")
    nodes.append(N("ReduceMean", [hn], ["pooled"], axes=[1], keepdims=0, name="pool"))
    nodes.append(N("Gemm", ["pooled", w("head_w", dim, classes), c(
        "head_b", (0.02 * rng.standard_normal(classes)).astype(np.float32))], ["y"],
        name="head"))
    g = helper.make_graph(
        nodes, "vit", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, size, size])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, classes])],
        [numpy_helper.from_array(v, k) for k, v in inits.items()])
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    onnx.checker.check_model(model)
    return model


def photos(size: int, count: int = 24, seed: int = 0) -> np.ndarray:
    """``count`` crops of scikit-image's photos resized to size x size, NCHW float32,
    ImageNet-normalised."""
    import skimage.data as skd
    from PIL import Image

    rng = np.random.default_rng(seed)
    names = ("astronaut", "chelsea", "coffee", "rocket", "camera", "coins", "hubble_deep_field",
             "retina")
    imgs = [Image.fromarray(getattr(skd, n)()).convert("RGB") for n in names]
    mean = np.asarray([0.485, 0.456, 0.406], np.float32)
    std = np.asarray([0.229, 0.224, 0.225], np.float32)
    out = []
    for i in range(count):
        im = imgs[i % len(imgs)]
        w_, h_ = im.size
        side = int(min(w_, h_) * rng.uniform(0.3, 1.0))
        left = int(rng.integers(0, w_ - side + 1))
        top = int(rng.integers(0, h_ - side + 1))
        px = np.asarray(im.crop((left, top, left + side, top + side))
                        .resize((size, size), Image.BILINEAR), np.float32) / 255.0
        out.append(((px - mean) / std).transpose(2, 0, 1))
    return np.stack(out).astype(np.float32)
