"""The benchmark's split of a dataset into the bulk files and the HTTP tail: every line once,
in order, whichever parts the tail spans (the 100M dataset's last part is shorter than the
tail), from plain and gzipped parts alike."""

import gzip
from pathlib import Path

import pytest

from bench.dataset import Dataset
from bench.loading import bulk_files, tail_lines

SIZES = (40, 50, 7)  # the last part shorter than most tails below
LINES = [b'{"n": %d}' % n for n in range(sum(SIZES))]


def dataset(folder: Path, compressed: bool) -> Dataset:
    parts = []
    start = 0
    for number, size in enumerate(SIZES):
        name = f"part-{number:05d}.ndjson" + (".gz" if compressed else "")
        text = b"".join(line + b"\n" for line in LINES[start : start + size])
        (folder / name).write_bytes(gzip.compress(text) if compressed else text)
        parts.append({"file": name, "lines": size})
        start += size
    return Dataset(folder, {"lines": len(LINES), "parts": parts})


@pytest.mark.parametrize("compressed", [False, True])
@pytest.mark.parametrize("tail", [0, 1, 7, 8, 30, 57, 60, 97])
def test_bulk_and_tail_hold_every_line_once_in_order(
    tmp_path: Path, compressed: bool, tail: int
) -> None:
    source = tmp_path / "data"
    work = tmp_path / "work"
    source.mkdir()
    work.mkdir()
    data = dataset(source, compressed)
    bulk_lines = len(LINES) - tail
    loaded: list[bytes] = []
    for path, count in bulk_files(data, bulk_lines, work):
        lines = path.read_bytes().splitlines()
        assert len(lines) == count > 0
        loaded += lines
    assert loaded == LINES[:bulk_lines]
    assert tail_lines(data, bulk_lines) == LINES[bulk_lines:]
    assert list(work.iterdir()) == []  # each expanded part is removed after use
