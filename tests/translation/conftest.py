"""Fixtures for translation tests: tiny real packages, engines on fresh folders, a socket guard."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from redfed.services.translation import models_admin
from redfed.services.translation.engine import TranslationEngine
from tests.support.tiny_argos import build_tiny_package


@pytest.fixture(scope="session")
def tiny_packages(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], Path]:
    folder = tmp_path_factory.mktemp("argosmodels")
    pairs = [("zh", "en"), ("en", "zh"), ("en", "de")]
    return {pair: build_tiny_package(folder, *pair) for pair in pairs}


def make_engine(
    root: Path, packages: dict[tuple[str, str], Path], *pairs: tuple[str, str]
) -> TranslationEngine:
    packages_dir = root / "translation" / "packages"
    for pair in pairs:
        models_admin.install_from_file(packages_dir, packages[pair])
    return TranslationEngine(packages_dir)


@pytest.fixture
def engine(
    tmp_path: Path, tiny_packages: dict[tuple[str, str], Path]
) -> Iterator[TranslationEngine]:
    eng = make_engine(tmp_path, tiny_packages, ("zh", "en"), ("en", "zh"), ("en", "de"))
    yield eng
    eng.close()


class NetworkAttempted(AssertionError):
    pass


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Fail any outgoing connection (all threads): translation must never touch the network."""
    attempts: list[object] = []

    def refuse(self: socket.socket, address: object, *args: object) -> None:
        attempts.append(address)
        raise NetworkAttempted(f"connect to {address!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    return attempts
