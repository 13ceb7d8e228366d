"""CPU time from Linux's /proc, for the service benchmarks: CPU per turn does not depend on what else
the machine is running, as a rate does."""

from __future__ import annotations

import os
from pathlib import Path


def read_stat(stat_file: Path) -> tuple[int, float] | None:
    """(parent pid, CPU seconds used, user + system) from `/proc/<pid>/stat` or
    `/proc/<pid>/task/<tid>/stat`; None when the process or thread has ended."""
    try:
        # The command name, in parentheses, may hold spaces: the fields that follow are counted after it.
        fields = stat_file.read_text().rpartition(")")[2].split()
    except OSError:
        return None
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
