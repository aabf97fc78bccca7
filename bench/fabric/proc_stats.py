"""Reads a process's memory and CPU, and the kernel's listen-queue drop counters, from /proc."""

import os
from dataclasses import dataclass

CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


class ProcError(Exception):
    """A /proc file could not be read or parsed."""


@dataclass(frozen=True)
class ProcSample:
    vm_hwm_kib: int  # peak resident set size so far
    vm_rss_kib: int
    cpu_s: float  # user + system, all threads


def parse_status_kib(status_text, field):
    for line in status_text.splitlines():
        if line.startswith(field + ":"):
            parts = line.split()
            if len(parts) >= 2 and parts[1].isdigit():
                return int(parts[1])
    raise ProcError(f"no {field} in /proc/<pid>/status")


def parse_stat_cpu_s(stat_text):
    """utime + stime (fields 14 and 15) in seconds; the comm field may contain spaces."""
    rparen = stat_text.rfind(")")
    if rparen < 0:
        raise ProcError("malformed /proc/<pid>/stat")
    fields = stat_text[rparen + 2 :].split()
    # fields[0] is field 3 (state); utime is field 14 -> index 11.
    try:
        return (int(fields[11]) + int(fields[12])) / CLK_TCK
    except (IndexError, ValueError) as err:
        raise ProcError(f"malformed /proc/<pid>/stat: {err}") from err


def sample(pid):
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as f:
            status = f.read()
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            stat = f.read()
    except OSError as err:
        raise ProcError(f"pid {pid}: {err}") from err
    return ProcSample(parse_status_kib(status, "VmHWM"), parse_status_kib(status, "VmRSS"),
                      parse_stat_cpu_s(stat))


def parse_netstat(text):
    """Parses /proc/net/netstat's header/value line pairs into {'TcpExt:ListenDrops': n, ...}."""
    lines = text.splitlines()
    out = {}
    for head, vals in zip(lines[0::2], lines[1::2]):
        hname, *hkeys = head.split()
        vname, *vvals = vals.split()
        if hname != vname or len(hkeys) != len(vvals):
            raise ProcError(f"mismatched /proc/net/netstat lines for {hname}")
        for k, v in zip(hkeys, vvals):
            out[hname + k] = int(v)
    return out


def listen_counters():
    """(ListenOverflows, ListenDrops) of this network namespace, system-wide counters."""
    try:
        with open("/proc/net/netstat", encoding="ascii") as f:
            stats = parse_netstat(f.read())
    except (OSError, ValueError) as err:
        raise ProcError(f"/proc/net/netstat: {err}") from err
    return stats.get("TcpExt:ListenOverflows", 0), stats.get("TcpExt:ListenDrops", 0)
