"""A fixed set of app threads that the event loop hands calls to, each answered through an asyncio future.

loop.run_in_executor does the same through a concurrent.futures.Future chained to an asyncio one (locks,
callbacks, a thread-count check on every submit): about 33 µs of CPU per hand-off against 7 µs here,
paid twice or more by every request (bench/README.md, "The RSGI edge")."""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Callable

log = logging.getLogger("server.edge")
_STOP = None


def _settle(future: asyncio.Future, result, error: BaseException | None) -> None:
    if future.cancelled():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


class AppThreads:
    def __init__(self, count: int, name: str = "fhir-app"):
        self.calls: queue.SimpleQueue = queue.SimpleQueue()
        self.threads = [threading.Thread(target=self._work, name=f"{name}-{i}", daemon=True) for i in range(count)]
        for thread in self.threads:
            thread.start()

    def run(self, function: Callable, *args) -> asyncio.Future:
        """function(*args) on an app thread; await the returned future for its result (or its exception)."""
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self.calls.put((loop, future, function, args))
        return future

    def _work(self) -> None:
        while (call := self.calls.get()) is not _STOP:
            loop, future, function, args = call
            if future.cancelled():
                continue
            result, error = None, None
            try:
                result = function(*args)
            except BaseException as raised:  # handed to the awaiting coroutine, as run_in_executor does
                error = raised
            try:
                loop.call_soon_threadsafe(_settle, future, result, error)
            except RuntimeError:  # the loop closed meanwhile: nobody is waiting any more
                log.debug("event loop closed before an app call's result was handed back")

    def shutdown(self, wait: bool) -> None:
        """Stop after the calls already handed over (`wait`: until they are done; else calls not started are
        dropped and the threads, daemons, end with the process)."""
        if not wait:
            while True:
                try:
                    call = self.calls.get_nowait()
                except queue.Empty:
                    break
                if call is not _STOP:
                    call[0].call_soon_threadsafe(call[1].cancel)
        for _ in self.threads:
            self.calls.put(_STOP)
        if wait:
            for thread in self.threads:
                thread.join()
