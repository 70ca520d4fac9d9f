"""Keep the Chinese catalogue complete: extract every `_()` string, merge, report what is missing.

    python scripts/i18n.py                 # extract, update messages.po, list untranslated strings
    python scripts/i18n.py --merge F.po    # also take translations from F.po (then delete F.po)

The server compiles `messages.po` in memory at start-up, so no `.mo` file is built or committed.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
CATALOGUE = ROOT / "src" / "redfed" / "translations" / "zh" / "LC_MESSAGES" / "messages.po"


def extract(pot: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "_",
            "-k",
            "gettext",
            "-k",
            "ngettext:1,2",
            "-k",
            "lazy_gettext",
            "--no-location",
            "--sort-output",
            "-o",
            str(pot),
            "src/redfed",
        ],
        check=True,
        cwd=ROOT,
        capture_output=True,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--merge", type=Path, action="append", default=[])
    args = parser.parse_args()
    with CATALOGUE.open("rb") as fh:
        catalogue = read_po(fh, locale="zh")
    for extra in args.merge:
        with extra.open("rb") as fh:
            for message in read_po(fh, locale="zh"):
                existing = catalogue.get(message.id, message.context)
                if message.id and message.string and (existing is None or not existing.string):
                    catalogue[message.id] = message
    with tempfile.TemporaryDirectory() as tmp:
        pot_path = Path(tmp) / "messages.pot"
        extract(pot_path)
        with pot_path.open("rb") as fh:
            template = read_po(fh)
    # Keep strings that code builds dynamically (service error messages) even if extraction
    # does not see them: update without dropping obsolete entries.
    catalogue.update(template, no_fuzzy_matching=True, update_header_comment=False)
    for message_id in list(catalogue.obsolete):
        catalogue[message_id] = catalogue.obsolete.pop(message_id)
    with CATALOGUE.open("wb") as fh:
        write_po(fh, catalogue, width=100, no_location=True, sort_output=True)
    missing = [m.id for m in catalogue if m.id and not m.string]
    for message_id in missing:
        print(f"untranslated: {message_id!r}")
    print(f"{len(catalogue)} strings, {len(missing)} untranslated")
    # The fragments are merged now; keep them if anything is still missing, for a second look.
    if not missing:
        for extra in args.merge:
            extra.unlink()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
