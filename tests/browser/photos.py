"""Small, colourful JPEG photos made with Pillow for the browser tests (real files to upload)."""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

# Warm food tones, a sky, a leafy green, a dusk: the grid should look like a grid of photos.
PALETTES = [
    ((214, 69, 52), (250, 187, 88)),
    ((64, 140, 214), (190, 226, 250)),
    ((58, 145, 92), (214, 236, 160)),
    ((120, 72, 160), (248, 160, 142)),
]


def make_photo(path: Path, index: int = 0, size: tuple[int, int] = (480, 600)) -> Path:
    """A vertical gradient with a sun and a horizon, written as JPEG to `path`."""
    top, bottom = PALETTES[index % len(PALETTES)]
    width, height = size
    image = Image.new("RGB", size)
    draw = ImageDraw.Draw(image)
    for y in range(height):
        t = y / (height - 1)
        colour = tuple(round(a + (b - a) * t) for a, b in zip(top, bottom, strict=True))
        draw.line([(0, y), (width, y)], fill=colour)
    radius = width // 6
    cx, cy = width * (2 + index % 3) // 6, height // 3
    draw.ellipse([cx - radius, cy - radius, cx + radius, cy + radius], fill=(255, 244, 214))
    draw.polygon(
        [
            (0, height),
            (width // 3, height * 2 // 3),
            (width * 2 // 3, height * 5 // 6),
            (width, height * 3 // 5),
            (width, height),
        ],
        fill=tuple(c // 2 for c in top),
    )
    image.save(path, "JPEG", quality=82)
    return path
