"""Settings: file, environment overrides, and one clear line for a bad value."""

from __future__ import annotations

from pathlib import Path

import pytest

from redfed.config import load_settings
from redfed.errors import ConfigError


def test_defaults_are_valid() -> None:
    settings = load_settings(environ={})
    assert settings.instance.domain == "localhost:8000"
    assert settings.database_url.startswith("sqlite://")
    assert settings.registration.mode == "open"


def test_file_then_environment_override(tmp_path: Path) -> None:
    config = tmp_path / "redfed.toml"
    config.write_text(
        '[instance]\ndomain = "photos.example"\nscheme = "https"\n[server]\nport = 9000\n'
    )
    env = {
        "REDFED_SERVER_PORT": "9100",
        "REDFED_UI_LANGUAGES": "zh,en",
        "REDFED_WORKER_IN_PROCESS": "false",
    }
    settings = load_settings(config, environ=env)
    assert settings.instance.domain == "photos.example"
    assert settings.server.port == 9100
    assert settings.ui.languages == ["zh", "en"]
    assert settings.worker.in_process is False
    assert settings.base_url == "https://photos.example"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"REDFED_SERVER_PORT": "eighty"}, "server.port = 'eighty' must be a int"),
        ({"REDFED_SERVER_PORT": "70000"}, "server.port = '70000' must be between 1 and 65535"),
        (
            {"REDFED_REGISTRATION_MODE": "sometimes"},
            "registration.mode = 'sometimes' must be one of",
        ),
        ({"REDFED_INSTANCE_DOMAIN": "https://x.example/"}, "instance.domain"),
        ({"REDFED_FEDERATION_ALLOW_PRIVATE_ADDRESSES": "maybe"}, "must be a bool"),
    ],
)
def test_bad_values_name_the_key(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(environ=env)
    assert message in str(info.value)


def test_unknown_key_in_file(tmp_path: Path) -> None:
    config = tmp_path / "redfed.toml"
    config.write_text("[server]\nprot = 1\n")
    with pytest.raises(ConfigError, match="unknown key server.prot"):
        load_settings(config, environ={})


def test_missing_file_is_clear(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "nope.toml", environ={})
