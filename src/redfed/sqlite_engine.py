"""The Tortoise engine redfed uses for SQLite (named in redfed.db's connection config): Tortoise's
own client, except that transactions take the write lock when they begin (FLT-09).

Tortoise's migration runner picks its schema editor by the client's module name, which must
therefore contain "sqlite".
"""

from __future__ import annotations

import sqlite3

from tortoise.backends.base.client import TransactionContext
from tortoise.backends.sqlite.client import (
    SqliteClient,
    SqliteTransactionContext,
    SqliteTransactionWrapper,
)
from tortoise.exceptions import TransactionManagementError


class _ImmediateTransaction(SqliteTransactionWrapper):
    async def begin(self) -> None:
        try:
            await self._connection.commit()
            await self._connection.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise TransactionManagementError(exc) from exc


class ImmediateSqliteClient(SqliteClient):
    """Tortoise's SQLite client, its transactions begun with BEGIN IMMEDIATE (FLT-09).

    A plain (deferred) BEGIN takes the write lock only at the first write. When another process
    (`redfed worker` beside `redfed run`, a CLI command) committed in between, SQLite cannot
    upgrade the transaction's older snapshot and fails at once with "database is locked",
    without waiting for the busy timeout. Taking the lock at BEGIN makes such a writer wait its
    turn instead. Within one process this changes nothing: Tortoise runs one statement or
    transaction at a time on its single connection anyway."""

    def _in_transaction(self) -> TransactionContext:
        return SqliteTransactionContext(_ImmediateTransaction(self), self._lock)


client_class = ImmediateSqliteClient  # what Tortoise reads from an engine module
