"""Work done in a forked child while the parent goes on: a build computes the Sensitivity sheet's tornado and
grid this way while it writes the other sheets (the two cores of a small server both busy).

The child computes ``fn(*args)`` on its copy-on-write view of the parent's memory and sends the result back
pickled through a pipe; ``result()`` collects it. Where fork is not used (not Linux, other threads running,
fork or pipe refused) or the child does not deliver a whole result, ``result()`` computes ``fn(*args)`` in the
parent instead: the same function on the same data, so the same numbers either way, and any error is raised
where it would have been without the child. ``cancel()`` ends a child whose result is no longer wanted.
"""

from __future__ import annotations

import os
import pickle
import signal
import sys
import threading

# fork where it is safe and cheap: Linux (macOS's system frameworks are not fork-safe, Windows has no fork)
ENABLED = sys.platform.startswith("linux") and hasattr(os, "fork")


class Forked:
    """``fn(*args)``, started in a forked child and collected by ``result()`` (or computed there)."""

    def __init__(self, fn, *args):
        self._fn, self._args = fn, args
        self._pid: int | None = None
        self._fd: int | None = None
        self._owner = os.getpid()  # only this process may collect, kill or reap the child
        # (benchmarks turn ENABLED off to count the work's memory in one process); a fork with other threads
        # running could copy a lock one of them holds
        if not ENABLED or threading.active_count() > 1:
            return
        try:
            read_fd, write_fd = os.pipe()
        except OSError:
            return
        # SIGINT held from the fork until the child has its own handler and the parent has stored the child: an
        # interrupt in between would leave a child nobody waits for, or run the parent's cleanup in the child
        old_mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            try:
                pid = os.fork()
            except OSError:  # no process to spare (EAGAIN, ENOMEM): the parent does the work
                os.close(read_fd)
                os.close(write_fd)
                return
            if pid == 0:  # the child: compute, send, and leave without running the parent's exit handlers
                status = 1
                try:
                    os.close(read_fd)
                    signal.signal(signal.SIGINT, signal.SIG_DFL)  # Ctrl-C ends the child quietly
                    signal.pthread_sigmask(signal.SIG_SETMASK, old_mask)
                    data = pickle.dumps(fn(*args), protocol=pickle.HIGHEST_PROTOCOL)
                    with os.fdopen(write_fd, "wb") as out:
                        out.write(data)
                    status = 0
                finally:
                    os._exit(status)
            os.close(write_fd)
            self._pid, self._fd = pid, read_fd
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, old_mask)

    @property
    def started(self) -> bool:
        """A child is computing the result, not yet collected."""
        return self._fd is not None

    def result(self):
        """The child's result; computed here where there is no child or it did not deliver a whole one."""
        if self._fd is None or os.getpid() != self._owner:
            return self._fn(*self._args)
        fd, self._fd = self._fd, None
        with os.fdopen(fd, "rb") as src:  # read to the end before waiting: a large result fills the pipe
            data = src.read()
        self._reap()
        try:
            return pickle.loads(data)  # a child that died mid-write leaves a truncated pickle, which fails here
        except Exception:  # noqa: BLE001  (no or partial result: do the work here, raising what it raises)
            pass
        return self._fn(*self._args)

    def cancel(self) -> None:
        """End the child without its result (the write it was for failed)."""
        if os.getpid() != self._owner:
            return
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)
        pid, self._pid = self._pid, None
        if pid is None:
            return
        try:
            if os.waitpid(pid, os.WNOHANG) != (0, 0):
                return  # it had ended: reaped now
            os.kill(pid, signal.SIGKILL)  # still ours (not yet waited for, so its pid is not reused)
            os.waitpid(pid, 0)
        except ChildProcessError:  # already reaped (a host that ignores SIGCHLD): do not signal a reused pid
            pass

    def _reap(self) -> None:
        pid, self._pid = self._pid, None
        if pid is not None:
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:  # already reaped (a host that ignores SIGCHLD): nothing left behind
                pass

    def __getstate__(self):  # a copy computes the result itself: the child, its pid and pipe stay with the original
        state = dict(self.__dict__)
        state["_pid"], state["_fd"] = None, None
        return state

    def __del__(self):  # never collected: end the child, no zombie and no pipe left behind
        if getattr(self, "_pid", None) is not None or getattr(self, "_fd", None) is not None:
            self.cancel()
