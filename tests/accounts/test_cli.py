"""`redfed user …` run in-process through `redfed.cli.main` against the test database.

These tests are synchronous: the CLI runs its own event loop (asyncio.run), as it does for
an administrator, and opens and closes the database itself."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from redfed.cli import main
from redfed.db import close_database, open_database
from redfed.models import User
from redfed.services import accounts
from tests.conftest import _empty_all_tables


@pytest.fixture
def cli_config(tmp_path: Path, migrated: str) -> Any:
    config = tmp_path / "redfed.toml"
    config.write_text(
        f'[instance]\ndomain = "redfed.test"\nscheme = "https"\n'
        f'[storage]\ndata_dir = "{tmp_path / "data"}"\n[database]\nurl = "{migrated}"\n'
    )
    yield ["--config", str(config)]

    async def clean() -> None:
        await open_database(migrated)
        await _empty_all_tables(migrated)
        await close_database()

    asyncio.run(clean())


def _query(database_url: str, work: Any) -> Any:
    async def go() -> Any:
        await open_database(database_url)
        try:
            return await work()
        finally:
            await close_database()

    return asyncio.run(go())


def test_user_create_list_disable_enable(cli_config, migrated, capsys, tmp_path) -> None:
    assert main([*cli_config, "user", "create", "Carol", "--admin"]) == 0
    out = capsys.readouterr().out
    assert "Created admin carol (https://redfed.test/@carol)" in out
    password = out.split("Password: ")[1].strip()
    user = _query(migrated, lambda: accounts.authenticate("carol", password))
    assert user.is_admin

    pw_file = tmp_path / "pw"
    pw_file.write_text("from a file 123\n")
    assert main([*cli_config, "user", "create", "dan", "--password-file", str(pw_file)]) == 0
    assert "Password:" not in capsys.readouterr().out
    _query(migrated, lambda: accounts.authenticate("dan", "from a file 123"))

    assert main([*cli_config, "user", "create", "dan"]) == 1  # taken: a clear error, no traceback
    assert "taken" in capsys.readouterr().err

    assert main([*cli_config, "user", "disable", "dan"]) == 0
    assert main([*cli_config, "user", "list"]) == 0
    listing = capsys.readouterr().out
    assert "carol\t-\tadmin" in listing and "dan\t-\tdisabled" in listing
    assert _query(migrated, lambda: User.get(account__username="dan")).disabled
    assert main([*cli_config, "user", "enable", "dan"]) == 0
    assert not _query(migrated, lambda: User.get(account__username="dan")).disabled


def test_user_set_password(cli_config, migrated, capsys, tmp_path, monkeypatch) -> None:
    pw_file = tmp_path / "pw"
    pw_file.write_text("first password 1")
    assert main([*cli_config, "user", "create", "erin", "--password-file", str(pw_file)]) == 0
    answers = iter(["second password 2", "second password 2"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    assert main([*cli_config, "user", "set-password", "erin"]) == 0
    _query(migrated, lambda: accounts.authenticate("erin", "second password 2"))
    pw_file.write_text("third password 3\n")
    assert main([*cli_config, "user", "set-password", "erin", "--password-file", str(pw_file)]) == 0
    _query(migrated, lambda: accounts.authenticate("erin", "third password 3"))
    assert (
        main([*cli_config, "user", "set-password", "nobody", "--password-file", str(pw_file)]) == 1
    )
