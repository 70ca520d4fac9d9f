"""Create a migration from model changes, then mend two Tortoise 1.1 writer bugs.

1. Snowflake primary keys lose `generated=False` when written, so the next run sees a change
   in every table; we put it back.
2. The autodetector emits CreateModel operations alphabetically
after the models without foreign keys, and the schema editor silently drops a foreign-key
column whose target table does not exist yet. Ordering by dependency avoids that. Review the
generated file before committing it; `tests/core/test_migrations.py` checks the result.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

MIGRATIONS = Path(__file__).resolve().parents[1] / "src" / "redfed" / "migrations"
CONFIG_MODULE = "scripts._migration_config.TORTOISE_ORM"


SNOWFLAKE_PK_AS_WRITTEN = (
    "fields.BigIntField(primary_key=True, default=new_id, unique=True, db_index=True)"
)
SNOWFLAKE_PK = "fields.BigIntField(primary_key=True, generated=False, default=new_id)"


def restore_snowflake_keys(path: Path) -> None:
    path.write_text(path.read_text().replace(SNOWFLAKE_PK_AS_WRITTEN, SNOWFLAKE_PK))


def order_create_models(path: Path) -> None:
    text = path.read_text()
    if "ops.CreateModel(" not in text:
        return
    head, rest = text.split("    operations = [\n", 1)
    body, tail = rest.rsplit("    ]\n", 1)
    operations = [op for op in re.split(r"(?m)^(?=        ops\.)", body) if op.strip()]

    def name(op: str) -> str:
        found = re.search(r"(?:name|model_name)='(\w+)'", op)
        return found.group(1) if found else ""

    def needs(op: str) -> set[str]:
        return set(re.findall(r"(?:ForeignKeyField|OneToOneField)\('models\.(\w+)'", op)) - {
            name(op)
        }

    created = {name(op) for op in operations if op.lstrip().startswith("ops.CreateModel")}
    ordered: list[str] = []
    ready: set[str] = set()
    pending = operations[:]
    while pending:
        for op in pending:
            if needs(op) & created <= ready:
                ordered.append(op)
                ready.add(name(op))
                pending.remove(op)
                break
        else:
            raise SystemExit(f"foreign keys form a cycle among: {[name(op) for op in pending]}")
    path.write_text(head + "    operations = [\n" + "".join(ordered) + "    ]\n" + tail)


def main() -> int:
    extra = sys.argv[1:]
    if "--reset" in extra:
        # Before the first release only: rebuild 0001_initial from the models.
        extra = [a for a in extra if a != "--reset"] + ["-n", "initial"]
        for path in MIGRATIONS.glob("0*.py"):
            path.unlink()
    before = set(MIGRATIONS.glob("0*.py"))
    subprocess.run(
        [sys.executable, "-m", "tortoise", "-c", CONFIG_MODULE, "makemigrations", *extra],
        check=True,
        cwd=MIGRATIONS.parents[2],
    )
    for path in sorted(set(MIGRATIONS.glob("0*.py")) - before):
        restore_snowflake_keys(path)
        order_create_models(path)
        print(f"mended: {path.name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
