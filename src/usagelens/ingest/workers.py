"""Processes that decode events beside the one that stores them: decoding is Python work that
holds the GIL, which the storing thread needs too, so threads of one process take turns."""

import multiprocessing
import multiprocessing.connection
import os
import threading
from concurrent.futures import ProcessPoolExecutor


def default_workers() -> int:
    """The processes that decode while this one stores: one per core but the one it stores on
    (on 2 cores, 2 workers loaded no faster than 1: storing is then the slower step)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, (cores or 1) - 1)


def decoding_pool(workers: int) -> ProcessPoolExecutor:
    """Workers started from a fresh interpreter, never forked from this process: it runs
    DuckDB's threads, which a fork would copy mid-step. They end when this process ends."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        spawn = multiprocessing.get_context("spawn")
        return ProcessPoolExecutor(workers, mp_context=spawn, initializer=_exit_with_parent)
    # The fork server imports the decoding code once; each worker forked from it starts
    # without importing it again.
    forkserver = multiprocessing.get_context("forkserver")
    forkserver.set_forkserver_preload(["usagelens.ingest.rows", "usagelens.ingest.bulk"])
    return ProcessPoolExecutor(workers, mp_context=forkserver, initializer=_exit_with_parent)


def _exit_with_parent() -> None:
    """In a worker: end when the parent process ends, even killed, rather than wait for work
    that will never come."""
    parent = multiprocessing.parent_process()
    if parent is not None:
        threading.Thread(target=_exit_once_gone, args=(parent.sentinel,), daemon=True).start()


def _exit_once_gone(sentinel: int) -> None:
    multiprocessing.connection.wait([sentinel])
    os._exit(1)
