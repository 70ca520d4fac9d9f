"""Settings: one frozen object built from `instance-config/redfed.toml` and `REDFED_*` overrides.

Every key `[section] key` may be overridden by the environment variable `REDFED_SECTION_KEY`,
so containers need no file. Values are validated once at start-up; a bad value raises
`ConfigError` naming the key, which the CLI prints as one line before exiting non-zero.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from redfed.errors import ConfigError

DEFAULT_CONFIG_PATH = Path("instance-config/redfed.toml")
_DOMAIN_RE = re.compile(r"^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?$")


def _one_of(*allowed: str) -> Callable[[Any], str | None]:
    return lambda v: None if v in allowed else f"must be one of {', '.join(allowed)}"


def _between(low: float, high: float) -> Callable[[Any], str | None]:
    return lambda v: None if low <= v <= high else f"must be between {low} and {high}"


def _domain(value: str) -> str | None:
    if not _DOMAIN_RE.match(value):
        return "must be a lower-case host name, optionally with :port (no scheme, no path)"
    return None


def _languages(value: list[str]) -> str | None:
    if not value or any(v not in ("en", "zh") for v in value):
        return "must be a non-empty list drawn from: en, zh"
    return None


@dataclass(frozen=True)
class InstanceSettings:
    domain: str = field(default="localhost:8000", metadata={"check": _domain})
    scheme: str = field(default="http", metadata={"check": _one_of("https", "http")})
    name: str = "redfed"
    description: str = "Photo notes from our community, federated."
    contact_email: str = ""


@dataclass(frozen=True)
class ServerSettings:
    host: str = "127.0.0.1"
    port: int = field(default=8000, metadata={"check": _between(1, 65535)})
    tls_cert: str = ""
    tls_key: str = ""
    # Only requests from these proxy addresses may set X-Forwarded-For (WEB-06).
    trusted_proxies: list[str] = field(default_factory=list)
    max_body_bytes: int = field(default=50 * 1024 * 1024, metadata={"check": _between(1024, 2**31)})
    # Server processes sharing the port (one core each at most). More than 1 needs PostgreSQL.
    workers: int = field(default=1, metadata={"check": _between(1, 16)})


@dataclass(frozen=True)
class DatabaseSettings:
    # Empty means SQLite under storage.data_dir.
    url: str = ""


@dataclass(frozen=True)
class StorageSettings:
    data_dir: str = "data"


@dataclass(frozen=True)
class RegistrationSettings:
    mode: str = field(
        default="open", metadata={"check": _one_of("open", "approval", "invite", "closed")}
    )
    min_password_length: int = field(default=8, metadata={"check": _between(6, 128)})


@dataclass(frozen=True)
class UiSettings:
    languages: list[str] = field(
        default_factory=lambda: ["en", "zh"], metadata={"check": _languages}
    )
    default_language: str = field(default="en", metadata={"check": _one_of("en", "zh")})


@dataclass(frozen=True)
class MediaSettings:
    max_photos: int = field(default=9, metadata={"check": _between(1, 20)})
    max_upload_bytes: int = field(
        default=20 * 1024 * 1024, metadata={"check": _between(1024, 2**30)}
    )
    max_pixels: int = field(default=40_000_000, metadata={"check": _between(10_000, 200_000_000)})
    remote_max_bytes: int = field(
        default=10 * 1024 * 1024, metadata={"check": _between(1024, 2**30)}
    )


@dataclass(frozen=True)
class FederationSettings:
    # Off in production: outgoing requests never reach loopback or private networks (SSRF).
    allow_private_addresses: bool = False
    max_json_bytes: int = field(default=1024 * 1024, metadata={"check": _between(1024, 64 * 2**20)})
    max_inbox_bytes: int = field(
        default=1024 * 1024, metadata={"check": _between(1024, 64 * 2**20)}
    )
    delivery_max_attempts: int = field(default=16, metadata={"check": _between(1, 50)})
    # Mastodon's AUTHORIZED_FETCH: AS2 GETs need a valid signature, except the instance actor,
    # WebFinger, NodeInfo and each actor's key-only document (key fetches must not deadlock).
    authorized_fetch: bool = False


@dataclass(frozen=True)
class WorkerSettings:
    # Run the job worker inside `redfed run`; set false when running `redfed worker` processes.
    in_process: bool = True
    # Jobs in flight at once. Deliveries mostly wait on remote servers (50-200 ms round trips),
    # so 8 capped a worker at 40-160 POSTs/s whatever the CPU; image work is still bounded by
    # the default thread pool and translation by its own pool.
    concurrency: int = field(default=32, metadata={"check": _between(1, 256)})
    poll_seconds: float = field(default=1.0, metadata={"check": _between(0.01, 60)})


@dataclass(frozen=True)
class TranslationSettings:
    enabled: bool = True
    index_url: str = "https://raw.githubusercontent.com/argosopentech/argospm-index/main/"
    workers: int = field(default=1, metadata={"check": _between(1, 16)})
    libretranslate_api: bool = False
    api_keys: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class FeedSettings:
    # α: how strongly an author's reach (engagement decayed over months) damps their notes in
    # Explore. Mirrors services.feed.types.FeedSettings.alpha (bench/README.md).
    author_damping: float = field(default=0.5, metadata={"check": _between(0, 3)})
    new_creator_share: float = field(default=0.4, metadata={"check": _between(0, 1)})
    remote_in_explore: str = field(
        default="all", metadata={"check": _one_of("all", "followed", "none")}
    )


@dataclass(frozen=True)
class Settings:
    instance: InstanceSettings = field(default_factory=InstanceSettings)
    server: ServerSettings = field(default_factory=ServerSettings)
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    storage: StorageSettings = field(default_factory=StorageSettings)
    registration: RegistrationSettings = field(default_factory=RegistrationSettings)
    ui: UiSettings = field(default_factory=UiSettings)
    media: MediaSettings = field(default_factory=MediaSettings)
    federation: FederationSettings = field(default_factory=FederationSettings)
    worker: WorkerSettings = field(default_factory=WorkerSettings)
    translation: TranslationSettings = field(default_factory=TranslationSettings)
    feed: FeedSettings = field(default_factory=FeedSettings)

    # Derived values, so no caller rebuilds them differently.
    @property
    def base_url(self) -> str:
        return f"{self.instance.scheme}://{self.instance.domain}"

    @property
    def data_dir(self) -> Path:
        return Path(self.storage.data_dir).resolve()

    @property
    def database_url(self) -> str:
        return self.database.url or f"sqlite://{self.data_dir / 'redfed.sqlite3'}"

    @property
    def media_dir(self) -> Path:
        return self.data_dir / "media"

    @property
    def translation_dir(self) -> Path:
        return self.data_dir / "translation"


def load_settings(
    path: Path | None = None,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
) -> Settings:
    """Read the file (if any), apply environment overrides, then explicit overrides; validate."""
    environ = os.environ if environ is None else environ
    if path is None and environ.get("REDFED_CONFIG"):
        path = Path(environ["REDFED_CONFIG"])
    if path is None and DEFAULT_CONFIG_PATH.exists():
        path = DEFAULT_CONFIG_PATH
    raw: dict[str, Any] = _read_toml(path) if path is not None else {}
    settings = Settings()
    for section in fields(Settings):
        section_raw = dict(raw.pop(section.name, {}) or {})
        section_raw.update(_env_section(section.name, section.default_factory, environ))  # type: ignore[misc]
        section_raw.update((overrides or {}).get(section.name, {}))
        current = getattr(settings, section.name)
        settings = replace(
            settings, **{section.name: _build_section(section.name, current, section_raw)}
        )
    if raw:
        raise ConfigError(f"config: unknown section [{sorted(raw)[0]}]")
    return settings


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"config: file {path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config: {path} is not valid TOML ({exc})") from None


def _env_section(
    section: str, factory: Callable[[], Any], environ: Mapping[str, str]
) -> dict[str, str]:
    prefix = f"REDFED_{section.upper()}_"
    names = {f.name for f in fields(factory())}
    found = {}
    for key, value in environ.items():
        if key.startswith(prefix) and key[len(prefix) :].lower() in names:
            found[key[len(prefix) :].lower()] = value
    return found


def _build_section(section: str, current: Any, values: dict[str, Any]) -> Any:
    known = {f.name: f for f in fields(current)}
    changes = {}
    for key, value in values.items():
        if key not in known:
            raise ConfigError(f"config: unknown key {section}.{key}")
        f = known[key]
        typed = _coerce(f"{section}.{key}", value, getattr(current, key))
        check = f.metadata.get("check")
        problem = check(typed) if check else None
        if problem:
            raise ConfigError(f"config: {section}.{key} = {value!r} {problem}")
        changes[key] = typed
    return replace(current, **changes)


def _coerce(name: str, value: Any, default: Any) -> Any:
    """Convert a file or environment value to the type of the default, or raise a clear error."""
    try:
        if isinstance(default, bool):
            if isinstance(value, bool):
                return value
            lowered = str(value).strip().lower()
            if lowered in ("true", "1", "yes", "on"):
                return True
            if lowered in ("false", "0", "no", "off"):
                return False
            raise ValueError
        if isinstance(default, int):
            if isinstance(value, bool):
                raise ValueError
            return int(value)
        if isinstance(default, float):
            return float(value)
        if isinstance(default, list):
            if isinstance(value, str):
                return [v.strip() for v in value.split(",") if v.strip()]
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ValueError
            return list(value)
        if not isinstance(value, str):
            raise ValueError
        return value
    except (TypeError, ValueError):
        kind = type(default).__name__
        raise ConfigError(f"config: {name} = {value!r} must be a {kind}") from None
