"""Real photos for image models: random square crops of scikit-image's sample photos.

scikit-image ships a handful of real photographs (a cat, a coffee cup, an astronaut, a rocket,
textures...). Random crops of them, resized, are the calibration and evaluation images of the
ImageNet-class models in tests and benchmarks; no data set is downloaded.
"""

from __future__ import annotations

import numpy as np


def photos_crops(n: int, size: int, seed: int, scaling: str = "imagenet") -> np.ndarray:
    """``n`` random square crops of scikit-image's photos, resized, NCHW; ``scaling`` "imagenet"
    (torchvision's mean/std) or "tf" ((x - 127) / 128, TensorFlow's EfficientNet-Lite)."""
    import skimage.data as d
    from PIL import Image

    names = ("astronaut", "chelsea", "coffee", "rocket", "hubble_deep_field", "retina",
             "immunohistochemistry", "camera", "coins", "moon", "brick", "grass", "gravel",
             "page", "text")
    pics = []
    for name in names:
        px = getattr(d, name)()
        if px.ndim == 2:
            px = np.repeat(px[..., None], 3, axis=2)
        pics.append(np.ascontiguousarray(px[..., :3]))
    rng = np.random.default_rng(seed)
    mean = np.array([0.485, 0.456, 0.406], np.float32)
    std = np.array([0.229, 0.224, 0.225], np.float32)
    out = []
    for i in range(n):
        px = pics[i % len(pics)]
        h, w = px.shape[:2]
        side = int(min(h, w) * rng.uniform(0.4, 1.0))
        top, left = int(rng.integers(0, h - side + 1)), int(rng.integers(0, w - side + 1))
        im = Image.fromarray(px[top:top + side, left:left + side]).resize((size, size),
                                                                          Image.BILINEAR)
        if scaling == "tf":
            x = (np.asarray(im, np.float32) - 127.0) / 128.0
        else:
            x = (np.asarray(im, np.float32) / 255.0 - mean) / std
        out.append(x.transpose(2, 0, 1))
    return np.stack(out).astype(np.float32)
