"""Installing, listing and removing translation packages (`.argosmodel` zips) under the data dir.

argostranslate's own installer only unzips: no validation, zip-slip possible, and a folder without
`metadata.json` breaks `get_installed_packages()` for everyone. Here a package is unpacked into a
staging folder, validated, then renamed into place in one step; removal renames away first.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import stat
import tempfile
import urllib.parse
import urllib.request
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from redfed.errors import NotFound, ValidationError
from redfed.services.translation.engine import DEFAULT_INDEX_URL

log = logging.getLogger(__name__)

MAX_PACKAGE_BYTES = 2 * 1024**3
MAX_INDEX_BYTES = 5 * 1024**2
MAX_FILES = 10_000
_CODE = re.compile(r"^[a-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})?$")


@dataclass(frozen=True)
class ModelInfo:
    from_code: str
    to_code: str
    from_name: str
    to_name: str
    version: str
    path: Path | None = None
    links: tuple[str, ...] = ()


def _info(meta: dict[str, object], path: Path | None = None) -> ModelInfo:
    links = meta.get("links") or []
    return ModelInfo(
        from_code=str(meta.get("from_code")),
        to_code=str(meta.get("to_code")),
        from_name=str(meta.get("from_name", "")),
        to_name=str(meta.get("to_name", "")),
        version=str(meta.get("package_version", "")),
        path=path,
        links=tuple(str(link) for link in links) if isinstance(links, list) else (),
    )


def _bad(reason: str) -> ValidationError:
    return ValidationError(
        "This is not a valid translation package.",
        field="file",
        detail=f"translation.bad_package {reason}",
    )


def _check_members(zf: zipfile.ZipFile) -> str:
    """Return the single top-level folder; refuse zip-slip, links and oversized archives."""
    infos = zf.infolist()
    if not infos or len(infos) > MAX_FILES:
        raise _bad("empty or too many files")
    if sum(i.file_size for i in infos) > MAX_PACKAGE_BYTES:
        raise _bad("too large")
    tops = set()
    for info in infos:
        name = PurePosixPath(info.filename)
        if (
            "\\" in info.filename
            or name.is_absolute()
            or ".." in name.parts
            or ":" in name.parts[0]
        ):
            raise _bad(f"unsafe path {info.filename!r}")
        if stat.S_ISLNK(info.external_attr >> 16):
            raise _bad(f"symlink {info.filename!r}")
        tops.add(name.parts[0])
    if len(tops) != 1 or not any(i.filename.startswith(f"{next(iter(tops))}/") for i in infos):
        raise _bad("needs exactly one top-level folder")
    return tops.pop()


def _read_metadata(folder: Path) -> dict[str, object]:
    try:
        meta = json.loads((folder / "metadata.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise _bad("metadata.json missing or unreadable") from exc
    if not isinstance(meta, dict):
        raise _bad("metadata.json is not an object")
    for key in ("from_code", "to_code"):
        if not isinstance(meta.get(key), str) or not _CODE.match(str(meta[key])):
            raise _bad(f"metadata.json {key} invalid")
    if meta.get("type", "translate") != "translate":
        raise _bad("not a translate package")
    if not (folder / "model" / "model.bin").is_file():
        raise _bad("model/model.bin missing")
    if not any((folder / n).is_file() for n in ("sentencepiece.model", "bpe.model")):
        raise _bad("tokenizer missing")
    return meta


def install_from_file(packages_dir: Path, path: Path) -> ModelInfo:
    """Validate and install one `.argosmodel`; replaces an installed package of the same pair."""
    packages_dir.mkdir(parents=True, exist_ok=True)
    if not zipfile.is_zipfile(path):
        raise _bad("not a zip archive")
    # Staging sits beside (not inside) the packages folder, on the same filesystem for rename().
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=packages_dir.parent))
    try:
        with zipfile.ZipFile(path) as zf:
            top = _check_members(zf)
            zf.extractall(staging)
        meta = _read_metadata(staging / top)
        target = packages_dir / f"translate-{meta['from_code']}_{meta['to_code']}"
        for old in list_installed(packages_dir):
            if (old.from_code, old.to_code) == (meta["from_code"], meta["to_code"]) and old.path:
                _move_away(old.path)
        if target.exists():
            _move_away(target)
        (staging / top).rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    log.info("translation.installed pair=%s-%s", meta["from_code"], meta["to_code"])
    return _info(meta, target)


def _move_away(folder: Path) -> None:
    trash = folder.parent.parent / f".trash-{uuid.uuid4().hex}"
    folder.rename(trash)
    shutil.rmtree(trash, ignore_errors=True)


def list_installed(packages_dir: Path) -> list[ModelInfo]:
    if not packages_dir.is_dir():
        return []
    found = []
    for folder in sorted(packages_dir.iterdir()):
        meta_path = folder / "metadata.json"
        if folder.is_dir() and meta_path.is_file():
            try:
                found.append(_info(json.loads(meta_path.read_text(encoding="utf-8")), folder))
            except ValueError:
                log.warning("translation.bad_installed folder=%s", folder.name)
    return found


def remove(packages_dir: Path, from_code: str, to_code: str) -> bool:
    """Remove the package for (from, to); False when none is installed."""
    for info in list_installed(packages_dir):
        if (info.from_code, info.to_code) == (from_code, to_code) and info.path:
            _move_away(info.path)
            log.info("translation.removed pair=%s-%s", from_code, to_code)
            return True
    return False


def _index_json_url(index_url: str) -> str:
    # Same convention as ARGOS_PACKAGE_INDEX: a base URL (trailing "/") holding index.json.
    return index_url if index_url.endswith(".json") else index_url.rstrip("/") + "/index.json"


def _download(url: str, limit: int) -> bytes:
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise ValidationError("Only http and https URLs are allowed.", field="url")
    # An opener without file:/ftp: handlers, so redirects cannot leave http(s) either.
    opener = urllib.request.OpenerDirector()
    for handler in (
        urllib.request.HTTPHandler(),
        urllib.request.HTTPSHandler(),
        urllib.request.HTTPRedirectHandler(),
        urllib.request.HTTPErrorProcessor(),
        urllib.request.HTTPDefaultErrorHandler(),
    ):
        opener.add_handler(handler)
    # Scheme checked above and the opener has no file:/ftp: handler.
    request = urllib.request.Request(url, headers={"User-Agent": "redfed-translation"})  # noqa: S310
    with opener.open(request, timeout=60) as response:
        data = response.read(limit + 1)
    if len(data) > limit:
        raise ValidationError("The download is too large.", field="url")
    return bytes(data)


def list_available(index_url: str = DEFAULT_INDEX_URL) -> list[ModelInfo]:
    """Packages listed by an argos package index (the public one by default)."""
    index = json.loads(_download(_index_json_url(index_url), MAX_INDEX_BYTES))
    if not isinstance(index, list):
        raise ValidationError("The package index is not a list.", field="url")
    return [
        _info(m)
        for m in index
        if isinstance(m, dict)
        and m.get("type", "translate") == "translate"
        and m.get("from_code")
        and m.get("to_code")
    ]


def install_from_index(
    packages_dir: Path, from_code: str, to_code: str, index_url: str = DEFAULT_INDEX_URL
) -> ModelInfo:
    """Download the (from, to) package listed by `index_url` and install it (blocking)."""
    matches = [
        m for m in list_available(index_url) if (m.from_code, m.to_code) == (from_code, to_code)
    ]
    if not matches:
        raise NotFound(f"No package {from_code}->{to_code} in the index.")
    packages_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=packages_dir.parent) as tmp:
        for link in matches[0].links:
            if urllib.parse.urlsplit(link).scheme not in ("http", "https"):
                continue
            archive = Path(tmp) / "package.argosmodel"
            archive.write_bytes(_download(link, MAX_PACKAGE_BYTES))
            return install_from_file(packages_dir, archive)
    raise NotFound(f"No http(s) download link for {from_code}->{to_code}.")
