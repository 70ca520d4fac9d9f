"""The image pipeline against MED-02 (content, not names), MED-03 (bombs) and MED-05 (metadata)."""

from __future__ import annotations

import io
import struct
import time
import tracemalloc
import zlib

import blurhash
import pytest
from PIL import Image, ImageCms

from redfed.errors import ValidationError
from redfed.services.media_processing import process_image, safe_extension


def encode(img: Image.Image, fmt: str, **kw) -> bytes:
    out = io.BytesIO()
    img.save(out, fmt, **kw)
    return out.getvalue()


def png_chunk(kind: bytes, body: bytes) -> bytes:
    crc = zlib.crc32(kind + body)
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)


def png_declaring(width: int, height: int) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", idat)
        + png_chunk(b"IEND", b"")
    )


def gif_with_frames(count: int, frame_size: tuple[int, int] = (1, 1)) -> bytes:
    head = b"GIF89a" + struct.pack("<HHBBB", 1, 1, 0x80, 0, 0) + b"\x00\x00\x00\xff\xff\xff"
    w, h = frame_size
    frame = b"\x2c" + struct.pack("<HHHHB", 0, 0, w, h, 0) + b"\x02\x02\x44\x01\x00"
    return head + frame * count + b"\x3b"


def pillow_new_images() -> int:
    return Image.core.get_stats()["new_count"]


def photo_with_gps_and_orientation() -> bytes:
    img = Image.new("RGB", (64, 32), (0, 0, 255))
    img.paste((255, 0, 0), (0, 0, 32, 32))  # left half red
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90° clockwise to display
    exif[0x010F] = "SecretCam"  # Make
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (52.0, 22.0, 13.0)
    gps[3], gps[4] = "E", (4.0, 53.0, 42.0)
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF>home-address</rdf:RDF></x:xmpmeta>'
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    return encode(img, "JPEG", exif=exif, xmp=xmp, icc_profile=icc, quality=95)


def test_med05_metadata_stripped_and_orientation_applied():
    data = photo_with_gps_and_orientation()
    assert b"SecretCam" in data and b"home-address" in data  # the fixture really carries it
    result = process_image(data)
    for blob in (result.display, result.thumbnail):
        out = Image.open(io.BytesIO(blob))
        assert len(out.getexif()) == 0
        assert not {"exif", "xmp", "icc_profile", "XML:com.adobe.xmp"} & set(out.info)
        assert b"SecretCam" not in blob and b"home-address" not in blob and b"Exif" not in blob
    assert (result.width, result.height) == (32, 64)  # upright: was 64×32 with orientation 6
    out = Image.open(io.BytesIO(result.display)).convert("RGB")
    top, bottom = out.getpixel((16, 8)), out.getpixel((16, 56))
    assert top[0] > 200 and top[2] < 60  # the left (red) half is now on top
    assert bottom[2] > 200 and bottom[0] < 60
    assert result.display_mime == "image/jpeg" and result.original_format == "JPEG"


def test_sizes_thumbnail_and_blurhash():
    data = encode(Image.new("RGB", (3000, 1000), (10, 120, 200)), "PNG")
    result = process_image(data)
    assert (result.width, result.height) == (1600, 533)
    assert (result.thumb_width, result.thumb_height) == (400, 133)
    assert Image.open(io.BytesIO(result.thumbnail)).size == (400, 133)
    assert blurhash.components(result.blurhash) == (4, 3)
    assert result.original_format == "PNG" and result.display_mime == "image/jpeg"


def test_transparency_kept_as_webp_and_opaque_alpha_becomes_jpeg():
    clear = Image.new("RGBA", (50, 40), (255, 0, 0, 0))
    clear.paste((0, 255, 0, 255), (0, 0, 25, 40))
    result = process_image(encode(clear, "PNG"))
    assert result.display_mime == result.thumb_mime == "image/webp"
    decoded = Image.open(io.BytesIO(result.display))
    assert decoded.mode == "RGBA" and decoded.getpixel((45, 20))[3] < 10
    opaque = process_image(encode(Image.new("RGBA", (20, 20), (1, 2, 3, 255)), "PNG"))
    assert opaque.display_mime == "image/jpeg"


@pytest.mark.parametrize("mode", ["CMYK", "L", "P", "I;16", "LA"])
def test_other_modes_come_out_as_rgb(mode):
    fmt = "JPEG" if mode in ("CMYK", "L") else "PNG"
    result = process_image(encode(Image.new(mode, (30, 20)), fmt))
    assert Image.open(io.BytesIO(result.display)).mode in ("RGB", "RGBA")


def test_webp_and_animated_gif_first_frame():
    assert (
        process_image(encode(Image.new("RGB", (40, 30), "white"), "WEBP")).original_format == "WEBP"
    )
    frames = [Image.new("RGB", (40, 30), color) for color in ("red", "blue", "green")]
    gif = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    result = process_image(gif)
    assert result.original_format == "GIF"
    first = Image.open(io.BytesIO(result.display)).convert("RGB").getpixel((20, 15))
    assert first[0] > 200 and first[2] < 60


@pytest.mark.parametrize(
    "data",
    [
        b"<html><body><script>alert(1)</script></body></html>",  # HTML named .png
        b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        b"<svg onload=alert(1)>",
        b"",
        b"\x89PNG\r\n\x1a\n" + b"not really a png" * 10,
        b"GIF89a<script>alert(1)</script>",
        b"RIFF\x00\x00\x00\x00WEBPVP8 garbage",
        b"BM" + b"\x00" * 100,  # BMP: valid for Pillow, not accepted here
        b"%PDF-1.4\n",
    ],
)
def test_med02_non_images_rejected_by_content(data):
    with pytest.raises(ValidationError) as err:
        process_image(data)
    assert err.value.field == "file" and err.value.status == 422


def test_med02_truncated_jpeg_rejected():
    data = encode(Image.effect_noise((200, 200), 50).convert("RGB"), "JPEG")
    with pytest.raises(ValidationError):
        process_image(data[: len(data) // 2])


def test_med02_polyglot_payload_does_not_survive_reencoding():
    jpeg = encode(
        Image.new("RGB", (20, 20), "white"), "JPEG", comment=b"<html><script>alert(1)</script>"
    )
    polyglot = jpeg + b"<html><script>alert(2)</script></html>"
    result = process_image(polyglot)
    assert b"<script" not in result.display and b"<script" not in result.thumbnail
    gif = encode(Image.new("P", (5, 5)), "GIF") + b"<script>alert(3)</script>"
    assert b"<script" not in process_image(gif).display


def test_med03_png_bomb_rejected_without_allocating():
    data = png_declaring(100_000, 100_000)
    assert len(data) < 1024
    before = pillow_new_images()
    tracemalloc.start()
    try:
        with pytest.raises(ValidationError):
            process_image(data)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 50 * 1024 * 1024
    assert pillow_new_images() == before  # no pixel buffer was ever created


def test_med03_pixel_limit_is_checked_from_the_header():
    before = pillow_new_images()
    with pytest.raises(ValidationError):
        process_image(png_declaring(2000, 2000), max_pixels=1_000_000)
    assert pillow_new_images() == before
    # Control: the same counter does move when an image is really decoded.
    process_image(encode(Image.new("RGB", (10, 10)), "PNG"))
    assert pillow_new_images() > before


def test_med03_gif_with_10000_frames_refused_fast():
    data = gif_with_frames(10_000)
    before = pillow_new_images()
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(ValidationError):
            process_image(data)
        elapsed = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert elapsed < 0.5 and peak < 50 * 1024 * 1024
    assert pillow_new_images() == before


def test_med03_gif_frame_larger_than_its_screen_refused():
    with pytest.raises(ValidationError):
        process_image(gif_with_frames(1, frame_size=(65_535, 65_535)))


def test_med03_animated_png_frame_limit():
    frames = [Image.new("RGB", (4, 4), (i, 0, 0)) for i in range(5)]
    apng = encode(frames[0], "PNG", save_all=True, append_images=frames[1:])
    with pytest.raises(ValidationError):
        process_image(apng, max_frames=3)
    assert process_image(apng, max_frames=5).original_format == "PNG"


def test_safe_extension():
    assert [safe_extension(m) for m in ("image/jpeg", "image/webp", "image/png", "image/gif")] == [
        "jpg",
        "webp",
        "png",
        "gif",
    ]
    with pytest.raises(ValidationError):
        safe_extension("text/html")
