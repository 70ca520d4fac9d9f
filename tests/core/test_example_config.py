"""The documented example config is valid and documents every setting."""

from __future__ import annotations

import tomllib
from dataclasses import fields
from pathlib import Path

from redfed.config import Settings, load_settings

EXAMPLE = Path(__file__).resolve().parents[2] / "instance-config" / "redfed.example.toml"


def test_example_config_loads_and_matches_defaults() -> None:
    assert load_settings(EXAMPLE, environ={}) == Settings()


def test_example_config_documents_every_key() -> None:
    documented = tomllib.loads(EXAMPLE.read_text())
    for section in fields(Settings):
        keys = {f.name for f in fields(getattr(Settings(), section.name))}
        assert set(documented[section.name]) == keys, section.name
