"""`redfed translate ...` in-process with a temporary config: file and loopback-index installs."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from redfed.cli import main
from redfed.services.translation import models_admin
from tests.support.tiny_argos import package_metadata


def write_config(tmp_path: Path, index_url: str = "http://127.0.0.1:9/none/") -> Path:
    config = tmp_path / "redfed.toml"
    config.write_text(
        f'[storage]\ndata_dir = "{tmp_path / "data"}"\n\n'
        f'[translation]\nindex_url = "{index_url}"\n',
        encoding="utf-8",
    )
    return config


def packages(tmp_path: Path) -> Path:
    return tmp_path / "data" / "translation" / "packages"


def installed(tmp_path: Path) -> list[tuple[str, str]]:
    return [(m.from_code, m.to_code) for m in models_admin.list_installed(packages(tmp_path))]


def test_install_file_list_remove(
    tmp_path: Path, tiny_packages: dict[tuple[str, str], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    config = str(write_config(tmp_path))
    assert main(["--config", config, "translate", "list"]) == 0
    assert "No translation packages installed" in capsys.readouterr().out
    assert (
        main(["--config", config, "translate", "install-file", str(tiny_packages[("zh", "en")])])
        == 0
    )
    assert "Installed zh → en  Chinese → English" in capsys.readouterr().out
    assert main(["--config", config, "translate", "list"]) == 0
    assert capsys.readouterr().out.startswith("zh → en  Chinese → English  (version 1.0)")
    assert main(["--config", config, "translate", "remove", "zh", "en"]) == 0
    assert installed(tmp_path) == []


def test_failures_print_one_line_and_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = str(write_config(tmp_path))
    bad = tmp_path / "bad.argosmodel"
    bad.write_text("not a zip")
    cases = [
        (["install-file", str(bad)], "not a valid translation package"),
        (["install-file", str(tmp_path / "missing.argosmodel")], "is not a file"),
        (["remove", "zh", "en"], "is not installed"),
        (["remove", "zh", "../x"], "is not a language code"),
        (["available"], "cannot reach the package index"),  # port 9 on loopback: refused
    ]
    for argv, message in cases:
        assert main(["--config", config, "translate", *argv]) == 1
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err and err.count("\n") == 1
    assert not packages(tmp_path).exists() or installed(tmp_path) == []


def test_bad_config_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "redfed.toml"
    config.write_text("[translation]\nworkers = 99\n", encoding="utf-8")
    with pytest.raises(SystemExit) as exit_info:
        main(["--config", str(config), "translate", "list"])
    assert exit_info.value.code == 2
    assert "translation.workers" in capsys.readouterr().err


@pytest.fixture
async def index_server(tiny_packages: dict[tuple[str, str], Path]) -> AsyncIterator[str]:
    """An argos package index on loopback: index.json plus the package it links to."""

    async def index(request: web.Request) -> web.Response:
        meta = package_metadata("zh", "en")
        meta["links"] = [f"{request.url.origin()}/argos/translate-zh_en.argosmodel"]
        return web.json_response([meta, package_metadata("en", "ja")])

    async def download(request: web.Request) -> web.Response:
        return web.Response(body=tiny_packages[("zh", "en")].read_bytes())

    app = web.Application()
    app.router.add_get("/argos/index.json", index)
    app.router.add_get("/argos/translate-zh_en.argosmodel", download)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield str(server.make_url("/argos/"))
    finally:
        await server.close()


async def test_available_and_install_from_loopback_index(
    tmp_path: Path, index_server: str, capsys: pytest.CaptureFixture[str]
) -> None:
    config = str(write_config(tmp_path, index_server))
    # The CLI is synchronous (urllib): run it in a thread so this loop keeps serving the index.
    assert await asyncio.to_thread(main, ["--config", config, "translate", "available"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "zh → en  Chinese → English  (version 1.0)",
        "en → ja  English → Japanese  (version 1.0)",
    ]
    install = ["--config", config, "translate", "install"]
    assert await asyncio.to_thread(main, [*install, "zh", "en"]) == 0
    assert installed(tmp_path) == [("zh", "en")]
    assert await asyncio.to_thread(main, ["--config", config, "translate", "available"]) == 0
    assert "zh → en  Chinese → English  (version 1.0)  [installed]" in capsys.readouterr().out
    # A pair without an http(s) link, and one not in the index: exit 1, nothing installed.
    for pair in (["en", "ja"], ["de", "fr"]):
        assert await asyncio.to_thread(main, [*install, *pair]) == 1
    assert installed(tmp_path) == [("zh", "en")]
