"""Ids made in forked server processes (`server.workers`) do not repeat each other."""

from __future__ import annotations

import os

from redfed.ids import new_id


def test_a_forked_process_counts_from_its_own_seed() -> None:
    # The parent's next id, and the child's first one made in the same millisecond state:
    # with the parent's counter copied as is, the low 16 bits would be equal.
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its first id's counter, then leave at once
        os.write(writer, str(new_id() & 0xFFFF).encode())
        os._exit(0)
    os.close(writer)
    parent = new_id() & 0xFFFF
    with os.fdopen(reader) as pipe:
        child = int(pipe.read())
    os.waitpid(pid, 0)
    assert child != parent  # fails 1 time in 65,536 by chance, every time without the reseed
