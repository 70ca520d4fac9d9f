"""Installing packages from a file and from an argos index served over loopback; refusals."""

from __future__ import annotations

import asyncio
import io
import json
import zipfile
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from redfed.errors import NotFound, ValidationError
from redfed.services.translation import models_admin
from redfed.services.translation.engine import TranslationEngine
from tests.support.tiny_argos import package_metadata


def _snapshot(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")) if folder.exists() else []


def _zip(entries: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return out.getvalue()


def test_install_list_remove(tmp_path: Path, tiny_packages: dict[tuple[str, str], Path]) -> None:
    packages = tmp_path / "packages"
    info = models_admin.install_from_file(packages, tiny_packages[("en", "zh")])
    assert (info.from_code, info.to_code, info.from_name) == ("en", "zh", "English")
    installed = models_admin.list_installed(packages)
    assert [(m.from_code, m.to_code) for m in installed] == [("en", "zh")]
    # Installing the same pair again replaces it, never two folders.
    models_admin.install_from_file(packages, tiny_packages[("en", "zh")])
    assert len(list(packages.iterdir())) == 1
    assert models_admin.remove(packages, "en", "zh") is True
    assert models_admin.remove(packages, "en", "zh") is False
    assert list(packages.iterdir()) == []
    assert [p.name for p in tmp_path.iterdir()] == ["packages"]  # no staging or trash left


@pytest.mark.parametrize(
    "entries",
    [
        pytest.param({"pkg/metadata.json": b"{}", "pkg/../../evil.txt": b"x"}, id="zip-slip"),
        pytest.param({"/abs/metadata.json": b"{}"}, id="absolute"),
        pytest.param({"a/metadata.json": b"{}", "b/model/model.bin": b"x"}, id="two-tops"),
        pytest.param(
            {"pkg/model/model.bin": b"x", "pkg/sentencepiece.model": b"x"}, id="no-metadata"
        ),
        pytest.param(
            {
                "pkg/metadata.json": json.dumps(package_metadata("en", "../x")).encode(),
                "pkg/model/model.bin": b"x",
                "pkg/sentencepiece.model": b"x",
            },
            id="bad-code",
        ),
        pytest.param(
            {
                "pkg/metadata.json": json.dumps(package_metadata("en", "de")).encode(),
                "pkg/sentencepiece.model": b"x",
            },
            id="no-model",
        ),
    ],
)
def test_refuses_bad_packages_without_state_change(
    tmp_path: Path, tiny_packages: dict[tuple[str, str], Path], entries: dict[str, bytes]
) -> None:
    packages = tmp_path / "data" / "packages"
    models_admin.install_from_file(packages, tiny_packages[("en", "de")])
    before = _snapshot(tmp_path / "data")
    bad = tmp_path / "bad.argosmodel"
    bad.write_bytes(_zip(entries))
    with pytest.raises(ValidationError):
        models_admin.install_from_file(packages, bad)
    assert _snapshot(tmp_path / "data") == before
    assert not (tmp_path / "evil.txt").exists()
    # The installed package still loads for argos: nothing half-installed broke it.
    assert TranslationEngine(packages).can_translate("en", "de")


def test_refuses_non_zip(tmp_path: Path) -> None:
    bad = tmp_path / "x.argosmodel"
    bad.write_text("not a zip")
    with pytest.raises(ValidationError):
        models_admin.install_from_file(tmp_path / "packages", bad)


async def test_install_from_loopback_index(
    tmp_path: Path, tiny_packages: dict[tuple[str, str], Path]
) -> None:
    async def index(request: web.Request) -> web.Response:
        base = f"{request.url.origin()}/argos/"
        meta = package_metadata("zh", "en")
        meta["links"] = ["file:///etc/passwd", f"{base}translate-zh_en.argosmodel"]
        other = package_metadata("en", "es") | {"links": ["ftp://x.example/p.argosmodel"]}
        return web.json_response([meta, other])

    async def download(request: web.Request) -> web.Response:
        return web.Response(body=tiny_packages[("zh", "en")].read_bytes())

    app = web.Application()
    app.router.add_get("/argos/index.json", index)
    app.router.add_get("/argos/translate-zh_en.argosmodel", download)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    base = str(server.make_url("/argos/"))
    try:
        packages = tmp_path / "translation" / "packages"
        available = await asyncio.to_thread(models_admin.list_available, base)
        assert [(m.from_code, m.to_code) for m in available] == [("zh", "en"), ("en", "es")]
        info = await asyncio.to_thread(models_admin.install_from_index, packages, "zh", "en", base)
        assert (info.from_code, info.to_code) == ("zh", "en")
        engine = TranslationEngine(packages, index_url=base)
        assert await engine.translate_texts(["Hi"], "zh", "en") == ["Uv"]
        engine.close()
        with pytest.raises(NotFound):  # only an ftp link: refused, nothing installed
            await asyncio.to_thread(models_admin.install_from_index, packages, "en", "es", base)
        assert [m.to_code for m in models_admin.list_installed(packages)] == ["en"]
    finally:
        await server.close()


def test_index_url_must_be_http(tmp_path: Path) -> None:
    with pytest.raises(ValidationError):
        models_admin.list_available("file:///etc/")
