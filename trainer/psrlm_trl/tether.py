"""Each rank's tether to the pipeline that started it: when the pipeline is gone, the rank exits.

Why: under `accelerate launch` the ranks are torchrun's workers, each in its own session
(`start_new_session`), so stopping the launcher's process group does not reach them, and nothing at all runs
on `kill -9` of the pipeline (a resumable run's expected interruption). Ranks would hold the GPUs, and a
resumed run would find them still training into the same directory. The pipeline (src/train/trl.ts) puts
its pid, its process start time and its host in the config's `tether`; every rank on that host polls it once
a second from a daemon thread and leaves with `os._exit` (no cleanup that could block on a collective) as
soon as the pid is gone, is a zombie, or is another process (a different start time: the pid was reused).
The same idea as the servers' watchdog (src/serve/tether.ts), inside the rank because there is no single
process group to stop.

Ranks on other nodes cannot see the pipeline's pid; they are left to the collective that fails when the
ranks on the pipeline's node exit (NCCL's timeout).
"""
from __future__ import annotations

import os
import socket
import sys
import threading
import time
from typing import Any

from .status import write_status


def start_time(pid: int) -> str | None:
    """The process's start time (clock ticks since boot, /proc/PID/stat field 22), or None when it is gone or a
    zombie. "" where /proc is not there (not Linux): then only existence is checked."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            stat = f.read()
    except FileNotFoundError:
        return None
    except OSError:
        stat = ""
    if not stat:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            pass
        return ""
    fields = stat[stat.rindex(")") + 2:].split()  # after "pid (comm) ", which may hold spaces
    return None if fields[0] in ("Z", "X") else fields[19]


def watch(tether: dict[str, Any] | None, status: str, poll_s: float = 1.0) -> threading.Thread | None:
    """Starts the watch thread for `tether` = {pid, start, host} (None or {}: not tethered). Returns it."""
    if not tether:
        return None
    pid, start, host = int(tether["pid"]), str(tether.get("start", "")), str(tether.get("host", ""))
    if host and host != socket.gethostname():
        return None

    def gone() -> bool:
        now = start_time(pid)
        return now is None or bool(start and now and now != start)

    def loop() -> None:
        while True:
            if gone():
                msg = f"the pipeline that started this trainer (pid {pid}) is gone; stopping this rank"
                sys.stderr.write(f"psrlm_trl: {msg}\n")
                sys.stderr.flush()
                os._exit(write_status(status, "orphaned", msg))
            time.sleep(poll_s)

    t = threading.Thread(target=loop, name="psrlm-tether", daemon=True)
    t.start()
    return t
