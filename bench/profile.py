"""Where the server spends its time under one operation's load: py-spy over the process tree.

With ``--profile``, each measured operation is also sampled by ``py-spy record`` (only threads
holding the GIL, so time waiting on the database or on the GIL is not counted as work). The
collapsed stacks are kept next to the results, and the functions with the largest inclusive
share are summarised in the JSON: the first place to look when a target is missed.
"""

from __future__ import annotations

import math
import re
import shutil
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

__all__ = ["Profiler", "hot_functions"]

_LINE_NUMBER = re.compile(r":\d+\)$")


class Profiler:
    """One ``py-spy record`` run over a process and its children."""

    def __init__(self, pid: int, seconds: float, output: Path) -> None:
        executable = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
        self.output = output
        self._process = subprocess.Popen(
            [
                executable,
                "record",
                "--pid",
                str(pid),
                "--subprocesses",
                "--gil",
                "--nonblocking",
                "--rate",
                "100",
                "--duration",
                str(math.ceil(seconds)),
                "--format",
                "raw",
                "--output",
                str(output),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def finish(self) -> dict[str, Any]:
        """Wait for py-spy to write its stacks; the hot functions, or {} if it could not run."""
        self._process.wait()
        return hot_functions(self.output) if self.output.exists() else {}

    def stop(self) -> dict[str, Any]:
        """Stop sampling now (py-spy writes what it has on SIGINT); as :meth:`finish`."""
        if self._process.poll() is None:
            self._process.send_signal(signal.SIGINT)
        return self.finish()


def hot_functions(path: Path, top: int = 12, package: str = "exchange_api") -> dict[str, Any]:
    """Our functions by inclusive share of the samples, and any function by self share.

    A line of py-spy's raw format is ``frame;frame;…;frame COUNT``, outermost frame first.
    """
    total = 0
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    for line in path.read_text(encoding="utf-8").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        samples = int(count)
        frames = [_LINE_NUMBER.sub(")", frame) for frame in stack.split(";")[1:]]
        total += samples
        own[frames[-1]] += samples
        for frame in set(frames):
            if package in frame:
                inclusive[frame] += samples

    def shares(counter: Counter[str]) -> list[dict[str, Any]]:
        return [
            {"function": frame, "share_pct": round(samples / total * 100, 1)}
            for frame, samples in counter.most_common(top)
        ]

    return (
        {"samples": total, "ours_inclusive": shares(inclusive), "self": shares(own)}
        if total
        else {}
    )
