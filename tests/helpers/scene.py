"""A start image worth filming, drawn with Pillow: sky, sun, dunes and a kite, plus a grid of
marks so any camera move changes the picture everywhere (the demo-clip tests need that)."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw


def scene(width: int = 1600, height: int = 1000) -> Image.Image:
    image = Image.new("RGB", (width, height))
    draw = ImageDraw.Draw(image)
    for y in range(height):
        t = y / height
        sky = (int(70 + 150 * t), int(130 + 80 * t), 230 - int(90 * t))
        draw.line([(0, y), (width, y)], fill=sky)
    draw.ellipse([width * 0.7, height * 0.1, width * 0.8, height * 0.26], fill=(255, 226, 150))
    dunes = [(0, 0.75), (0.25, 0.65), (0.5, 0.74), (0.75, 0.62), (1, 0.72), (1, 1), (0, 1)]
    draw.polygon([(x * width, y * height) for x, y in dunes], fill=(214, 168, 104))
    draw.polygon([(width * 0.45, height * 0.3), (width * 0.48, height * 0.22),
                  (width * 0.51, height * 0.3), (width * 0.48, height * 0.4)], fill=(210, 40, 40))
    step = max(8, width // 16)
    for x in range(step // 2, width, step):
        for y in range(step // 2, height, step):
            draw.rectangle([x - 3, y - 3, x + 3, y + 3], fill=(30, 30, 60))
    return image


def scene_bytes(width: int = 1600, height: int = 1000, fmt: str = "PNG") -> bytes:
    out = io.BytesIO()
    scene(width, height).save(out, fmt)
    return out.getvalue()
