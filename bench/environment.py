"""What a benchmark ran on: the machine, the engines' versions and the commit."""

import os
import platform
import subprocess
from importlib.metadata import version
from pathlib import Path

from bench.postgres import PG_BIN


def machine() -> str:
    model = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory = ""
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        kib = int(meminfo.read_text().split()[1])
        memory = f", {kib / 1024 / 1024:.1f} GiB RAM"
    return f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs ({model}){memory}"


def versions() -> dict[str, str]:
    postgres = ["?", "?", "?"]
    if (PG_BIN / "postgres").exists():
        command = [str(PG_BIN / "postgres"), "--version"]
        postgres = subprocess.run(command, capture_output=True, text=True).stdout.split()
    return {
        "python": platform.python_version(),
        "duckdb": version("duckdb"),
        "chdb": version("chdb"),
        "postgres": postgres[2] if len(postgres) > 2 else "?",
    }


def commit() -> str:
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], capture_output=True, text=True).stdout.strip()

    # The bench's own output of an earlier size is not a change to what it measures.
    outputs = (":(exclude)bench/RESULTS.md", ":(exclude)bench/results")
    dirty = " (with uncommitted changes)" if git("status", "--porcelain", "--", *outputs) else ""
    return git("rev-parse", "--short", "HEAD") + dirty
