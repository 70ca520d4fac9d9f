"""Pure image processing: untrusted upload bytes → metadata-free display image, thumbnail and
blurhash. The one home of Pillow and blurhash; synchronous (callers run it in a thread).
"""

from __future__ import annotations

import io
import logging
import struct
import zlib
from dataclasses import dataclass

import blurhash
from PIL import Image, ImageCms, ImageOps

from redfed.errors import ValidationError

log = logging.getLogger(__name__)

DEFAULT_MAX_PIXELS = 40_000_000
# Pillow warns above this many pixels and refuses above twice as many at `Image.open`
# (header only). Our own check in `process_image` is the real limit; this is the backstop
# for any other Pillow use in the process.
Image.MAX_IMAGE_PIXELS = DEFAULT_MAX_PIXELS

MIME_BY_FORMAT = {
    "JPEG": "image/jpeg",
    "PNG": "image/png",
    "WEBP": "image/webp",
    "GIF": "image/gif",
}
_EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp", "image/gif": "gif"}
# Errors Pillow's decoders raise on corrupt or hostile input (each plugin has its own habits:
# PNG raises SyntaxError on bad chunks, GIF/TIFF-in-EXIF raise struct.error or IndexError).
_DECODE_ERRORS = (
    OSError,
    SyntaxError,
    ValueError,
    EOFError,
    struct.error,
    zlib.error,
    IndexError,
    KeyError,
    TypeError,
    Image.DecompressionBombError,
)
_UNSUPPORTED = "Unsupported file: upload a JPEG, PNG, WebP or GIF image."
_BLURHASH_SIDE = 32


@dataclass(frozen=True)
class ProcessedImage:
    display: bytes
    display_mime: str
    width: int
    height: int
    thumbnail: bytes
    thumb_mime: str
    thumb_width: int
    thumb_height: int
    blurhash: str
    original_format: str  # JPEG, PNG, WEBP or GIF, as found in the content


def safe_extension(mime: str) -> str:
    """File extension (without dot) for one of our output MIME types; never from user input."""
    try:
        return _EXTENSIONS[mime]
    except KeyError:
        raise ValidationError(
            _UNSUPPORTED, field="file", detail=f"no extension for {mime!r}"
        ) from None


def _sniff(data: bytes) -> str:
    """The format the bytes really are (magic numbers), whatever their name or declared type."""
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "GIF"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    raise ValidationError(_UNSUPPORTED, field="file", detail=f"magic {data[:12]!r}")


def _skip_sub_blocks(data: bytes, pos: int) -> int:
    while pos < len(data):
        size = data[pos]
        pos += 1 + size
        if size == 0:
            return pos
    raise ValidationError("The GIF file is truncated.", field="file")


def _check_gif(data: bytes, max_frames: int, max_pixels: int) -> None:
    """Count GIF frames from block headers without decoding, stopping past `max_frames`.

    Pillow's `n_frames` walks every frame; a hostile GIF holds a million 1×1 frames (MED-03).
    Frames may also declare a larger area than the logical screen: check each one.
    """
    packed = data[10] if len(data) > 13 else 0
    pos = 13 + (3 << ((packed & 7) + 1) if packed & 0x80 else 0)
    frames = 0
    while pos < len(data):
        block = data[pos]
        if block == 0x3B:  # trailer
            break
        if block == 0x21:  # extension: label, then sub-blocks
            pos = _skip_sub_blocks(data, pos + 2)
            continue
        if block != 0x2C or pos + 10 > len(data):
            break  # garbage after the frames: Pillow stops there too
        left, top, width, height, flags = struct.unpack_from("<HHHHB", data, pos + 1)
        frames += 1
        if frames > max_frames or (left + width) * (top + height) > max_pixels:
            raise ValidationError(
                "The image has too many frames or pixels.",
                field="file",
                detail=f"gif frames>{frames - 1} or frame {width}x{height}",
            )
        pos += 10 + (3 << ((flags & 7) + 1) if flags & 0x80 else 0)
        pos = _skip_sub_blocks(data, pos + 1)  # +1: LZW minimum code size


def _open(data: bytes, fmt: str, max_pixels: int, max_frames: int) -> Image.Image:
    """Open (header only) with the one plugin the magic named, then check declared sizes."""
    try:
        # JPEGs with several pictures (phone cameras) open as MPO through the JPEG plugin.
        img = Image.open(io.BytesIO(data), formats=[fmt])
        frames = 1 if fmt == "GIF" else int(getattr(img, "n_frames", 1))
    except _DECODE_ERRORS as exc:
        raise ValidationError(_UNSUPPORTED, field="file", detail=f"open: {exc}") from None
    width, height = img.size
    if img.format not in (fmt, "MPO") or width < 1 or height < 1:
        raise ValidationError(_UNSUPPORTED, field="file", detail=f"pillow format {img.format}")
    if width * height > max_pixels or frames > max_frames:
        raise ValidationError(
            "The image is too large.",
            field="file",
            detail=f"{width}x{height} frames={frames} max_pixels={max_pixels}",
        )
    return img


def _has_alpha(img: Image.Image) -> bool:
    return img.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in img.info


def _to_srgb(img: Image.Image) -> Image.Image:
    """Pixels in sRGB (RGB or RGBA), the embedded ICC profile applied and dropped (MED-05)."""
    if img.mode.startswith("I") or img.mode == "F":  # 16-bit / float greyscale PNGs
        img = img.convert("I").point(lambda v: v * (1 / 256)).convert("L")
    alpha = _has_alpha(img)
    icc = img.info.get("icc_profile")
    if icc and img.mode in ("RGB", "RGBA", "CMYK"):
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            mode = "RGBA" if img.mode == "RGBA" else "RGB"
            converted = ImageCms.profileToProfile(img, source, _SRGB, outputMode=mode)
            if converted is not None:
                img = converted
        except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
            log.info("media.icc_ignored mode=%s", img.mode)
    img = img.convert("RGBA" if alpha else "RGB")
    if alpha and img.getchannel("A").getextrema() == (255, 255):
        img = img.convert("RGB")  # an alpha channel that is fully opaque
    return img


_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


def _decode(img: Image.Image, display_size: int) -> Image.Image:
    """First frame, decoded at a reduced size when the codec can (JPEG DCT scaling), upright."""
    img.seek(0)
    img.draft("RGB", (display_size, display_size))
    img.load()
    upright = ImageOps.exif_transpose(img) or img
    return _to_srgb(upright)


def _bare_copy(img: Image.Image, size: int) -> Image.Image:
    """A copy fitting in size×size that carries pixels only: no info, EXIF, XMP or ICC."""
    fresh = Image.new(img.mode, img.size)
    fresh.paste(img)
    if max(fresh.size) > size:
        fresh.thumbnail((size, size), Image.Resampling.LANCZOS)
    fresh.info.clear()
    return fresh


def _encode(img: Image.Image) -> tuple[bytes, str]:
    """JPEG for opaque pictures: every fediverse server and client decodes it. WebP when there
    is transparency: it keeps alpha at a fraction of PNG's size (Mastodon, Pixelfed and
    GoToSocial all accept image/webp)."""
    out = io.BytesIO()
    if img.mode == "RGBA":
        img.save(out, "WEBP", quality=85, method=4)
        return out.getvalue(), "image/webp"
    img.save(out, "JPEG", quality=85, optimize=True, progressive=True)
    return out.getvalue(), "image/jpeg"


def _blurhash(img: Image.Image) -> str:
    small = img.copy()
    small.thumbnail((_BLURHASH_SIDE, _BLURHASH_SIDE), Image.Resampling.BILINEAR)
    if small.mode == "RGBA":  # blur transparent areas as if on white, as pages show them
        white = Image.new("RGBA", small.size, (255, 255, 255, 255))
        small = Image.alpha_composite(white, small)
    rgb = small.convert("RGB")
    width, height = rgb.size
    raw = rgb.tobytes()
    pixels = [tuple(raw[i : i + 3]) for i in range(0, len(raw), 3)]
    rows = [pixels[y * width : (y + 1) * width] for y in range(height)]
    return str(blurhash.encode(rows, components_x=4, components_y=3))


def process_image(
    data: bytes,
    *,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    max_frames: int = 100,
    display_size: int = 1600,
    thumb_size: int = 400,
) -> ProcessedImage:
    """Validate and re-encode an untrusted image (MED-02, MED-03, MED-05).

    The format is taken from the content only. Declared pixels and frames are checked from the
    headers before any pixel is decoded. Animated images keep their first frame only (bounded
    work, and a still is what a photo-first feed shows). Raises ValidationError.
    max_pixels above 2 × Image.MAX_IMAGE_PIXELS has no effect: Pillow refuses first.
    """
    fmt = _sniff(data)
    if fmt == "GIF":
        _check_gif(data, max_frames, max_pixels)
    img = _open(data, fmt, max_pixels, max_frames)
    try:
        with img:
            frame = _decode(img, display_size)
        display = _bare_copy(frame, display_size)
        thumb = _bare_copy(display, thumb_size)
        display_bytes, display_mime = _encode(display)
        thumb_bytes, thumb_mime = _encode(thumb)
        hash_ = _blurhash(thumb)
    except _DECODE_ERRORS as exc:
        log.info("media.rejected format=%s reason=%s", fmt, exc)
        raise ValidationError(
            "The image could not be read.", field="file", detail=str(exc)
        ) from None
    return ProcessedImage(
        display=display_bytes,
        display_mime=display_mime,
        width=display.width,
        height=display.height,
        thumbnail=thumb_bytes,
        thumb_mime=thumb_mime,
        thumb_width=thumb.width,
        thumb_height=thumb.height,
        blurhash=hash_,
        original_format=fmt,
    )
