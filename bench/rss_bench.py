"""Idle memory of `redfed run`: start it on a fresh SQLite data dir, let it idle 5 s after it
prints its address, read VmRSS from /proc, and list the heavy modules it imported at start-up.

Run: .venv/bin/python bench/rss_bench.py   (target: ≤ 80 MB)
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_MB = 80
IDLE_SECONDS = 5
# Imported lazily on purpose: a server that never translates or uploads should not pay for them.
HEAVY = ("argostranslate", "ctranslate2", "sentencepiece", "lingua", "numpy", "PIL", "blurhash")
# The child runs `redfed run` and, on SIGUSR1, prints which of HEAVY it has imported.
_PROBE = (
    "import sys, signal\n"
    "HEAVY = set(sys.argv[1].split(','))\n"
    "def dump(*_):\n"
    "    heavy = sorted({m.split('.')[0] for m in sys.modules} & HEAVY)\n"
    "    print('HEAVY ' + ','.join(heavy), flush=True)\n"
    "signal.signal(signal.SIGUSR1, dump)\n"
    "sys.argv = ['redfed', 'run']\n"
    "from redfed.cli import main\n"
    "sys.exit(main())\n"
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def main() -> int:
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith("REDFED_")}
        env.update(
            REDFED_CONFIG="/dev/null",
            REDFED_INSTANCE_DOMAIN=f"127.0.0.1:{port}",
            REDFED_SERVER_PORT=str(port),
            REDFED_STORAGE_DATA_DIR=tmp,
        )
        proc = subprocess.Popen(  # noqa: S603 - our own interpreter
            [sys.executable, "-c", _PROBE, ",".join(HEAVY)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            assert proc.stdout is not None
            for line in proc.stdout:
                if "open http" in line:
                    break
            else:
                print("redfed run exited before serving")
                return 1
            time.sleep(IDLE_SECONDS)
            kb = rss_kb(proc.pid)
            proc.send_signal(signal.SIGUSR1)
            heavy = ""
            for line in proc.stdout:
                if line.startswith("HEAVY"):
                    heavy = line[6:].strip()
                    break
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
    mb = kb / 1024
    verdict = "OK" if mb <= TARGET_MB else "OVER"
    print(f"idle RSS of redfed run: {mb:.1f} MB (target ≤ {TARGET_MB} MB) {verdict}")
    print(f"heavy modules imported at start-up: {heavy or 'none'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
