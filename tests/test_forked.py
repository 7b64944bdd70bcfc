"""Work in a forked child (tcomodel.forked): the result comes back whole, a failing child is redone in the parent,
an uncollected child is reaped, and a build's tornado and grid are the same numbers whether the child or the
parent computes them."""

from __future__ import annotations

import gc
import os
from pathlib import Path

import numpy as np
import pytest

from tcomodel import forked
from tcomodel.finance import run_model
from tcomodel.forked import Forked
from tcomodel.inputs import load_scenario

DEFAULT = Path(__file__).parents[1] / "assumptions" / "aarhusai-vs-alternative.xlsx"

pytestmark = pytest.mark.skipif(not forked.ENABLED, reason="fork is used on Linux only")


def _pid_and(x):
    return os.getpid(), np.arange(x, dtype=float) ** 0.5


def test_the_child_computes_and_the_parent_gets_the_whole_result():
    pid, arr = Forked(_pid_and, 100_000).result()
    assert pid != os.getpid()  # done in another process
    np.testing.assert_array_equal(arr, np.arange(100_000, dtype=float) ** 0.5)


def test_a_failing_child_is_redone_here_and_an_error_raised_here(tmp_path):
    parent = os.getpid()

    def fails_in_child():
        if os.getpid() != parent:
            raise RuntimeError("child only")
        return "parent"

    assert Forked(fails_in_child).result() == "parent"

    def always_fails():
        raise ValueError("bad input")

    with pytest.raises(ValueError, match="bad input"):
        Forked(always_fails).result()


def test_a_child_never_collected_is_reaped():
    f = Forked(_pid_and, 10)
    pid = f._pid
    del f
    gc.collect()
    with pytest.raises(ChildProcessError):  # already waited for: no zombie left
        os.waitpid(pid, os.WNOHANG)


def test_without_fork_the_parent_computes(monkeypatch):
    monkeypatch.setattr(forked, "ENABLED", False)
    pid, _ = Forked(_pid_and, 10).result()
    assert pid == os.getpid()


def test_a_builds_tornado_and_grid_are_the_same_from_the_child(monkeypatch):
    scenario = load_scenario(DEFAULT)
    child_run = run_model(scenario)
    child_run.start_sensitivity()
    assert isinstance(child_run._sensitivity, Forked) and child_run._sensitivity._pid is not None
    monkeypatch.setattr(forked, "ENABLED", False)
    here_run = run_model(scenario)
    a, b = child_run.tornado, here_run.tornado
    assert [d.label for d in a.drivers] == [d.label for d in b.drivers] and len(a.drivers) > 10
    assert set(a.levelized) == set(b.levelized) and set(a.npv) == set(b.npv) and b.npv
    for oid in b.levelized:
        np.testing.assert_array_equal(a.levelized[oid], b.levelized[oid])
    for oid in b.npv:  # every option but the baseline
        np.testing.assert_array_equal(a.npv[oid], b.npv[oid])
    assert child_run.grid.cheapest == here_run.grid.cheapest
    for oid in here_run.grid.levelized:
        np.testing.assert_array_equal(child_run.grid.levelized[oid], here_run.grid.levelized[oid])
    assert [(t.metric, t.option, t.base, [(d.label, lo, hi) for d, lo, hi in t.rows]) for t in child_run.tornado_tables] \
        == [(t.metric, t.option, t.base, [(d.label, lo, hi) for d, lo, hi in t.rows]) for t in here_run.tornado_tables]


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_a_refused_fork_leaves_the_work_to_the_parent_and_no_pipe_open(monkeypatch):
    def refuse():
        raise BlockingIOError(11, "Resource temporarily unavailable")

    before = _open_fds()
    monkeypatch.setattr(os, "fork", refuse)
    f = Forked(_pid_and, 10)
    assert _open_fds() == before
    assert f.result()[0] == os.getpid()


def test_a_host_that_ignores_sigchld_still_gets_the_result():
    import signal

    old = signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children reaped by the kernel: waitpid finds none
    try:
        pid, arr = Forked(_pid_and, 50_000).result()  # larger than a pipe's buffer: read before waiting
    finally:
        signal.signal(signal.SIGCHLD, old)
    assert pid != os.getpid() and arr.size == 50_000


def test_no_fork_while_other_threads_run():
    import threading

    stop = threading.Event()
    t = threading.Thread(target=stop.wait)
    t.start()
    try:
        assert Forked(_pid_and, 10).result()[0] == os.getpid()
    finally:
        stop.set()
        t.join()


def test_a_failed_write_ends_the_child(monkeypatch, tmp_path):
    import tcomodel.finance.results as results
    import tcomodel.report.workbook as workbook
    from tcomodel.report import write_report

    started = []

    class Recorded(Forked):
        def __init__(self, fn, *args):
            super().__init__(fn, *args)
            started.append(self._pid)

    def fails(*_args, **_kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(results, "Forked", Recorded)
    monkeypatch.setattr(workbook, "write_annual", fails)  # before the Sensitivity sheet collects the child
    run = run_model(load_scenario(DEFAULT))
    with pytest.raises(RuntimeError, match="disk full"):
        write_report(run, tmp_path / "r.xlsx")
    assert started and started[0] is not None and run._sensitivity is None
    with pytest.raises(ChildProcessError):  # killed and waited for
        os.waitpid(started[0], os.WNOHANG)
    assert not (tmp_path / "r.xlsx").exists()
    assert run.tornado is not None  # and computed again when asked for


def test_a_copy_of_a_run_does_not_share_the_child():
    import copy

    run = run_model(load_scenario(DEFAULT))
    run.start_sensitivity()
    twin = copy.deepcopy(run)
    assert twin._sensitivity is None and isinstance(run._sensitivity, Forked)
    np.testing.assert_array_equal(twin.grid.levelized[next(iter(twin.grid.levelized))],
                                  run.grid.levelized[next(iter(run.grid.levelized))])


def test_a_copied_forked_computes_itself_and_leaves_the_child_to_the_original():
    import copy
    import signal

    mask = signal.pthread_sigmask(signal.SIG_BLOCK, [])
    f = Forked(_pid_and, 1000)
    assert signal.pthread_sigmask(signal.SIG_BLOCK, []) == mask  # SIGINT held around the fork only
    twin = copy.copy(f)
    assert twin.result()[0] == os.getpid() and f.started  # the copy did the work here; the child is untouched
    del twin
    gc.collect()
    pid, arr = f.result()
    assert pid != os.getpid() and arr.size == 1000
