"""Micro-batching for the HTTP server: texts from concurrent requests share one ``coder.predict`` call.

One worker thread owns the model. Requests put their texts on a queue and wait on a future; the worker
takes the first waiting request, then keeps gathering until it holds ``max_texts`` texts or
``max_wait_ms`` have passed, codes them in one call and hands each request its own predictions.
A lone request therefore waits at most ``max_wait_ms`` longer than a direct call, and under load the
model sees batches as large as ``predict``'s offline batches.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field

logger = logging.getLogger(__name__)


@dataclass
class _Job:
    texts: list[str]
    ids: list[str]
    document_date: str | None
    future: Future = field(default_factory=Future)


@dataclass
class BatchStats:
    """What the worker has done so far (for /v1/health and the tests)."""

    requests: int = 0
    texts: int = 0
    predict_calls: int = 0
    largest_batch: int = 0


class MicroBatcher:
    """Gathers up to ``max_texts`` texts or ``max_wait_ms`` milliseconds of requests into one predict call."""

    def __init__(self, coder, max_texts: int = 64, max_wait_ms: float = 10.0, batch_size: int = 64):
        if max_texts < 1 or max_wait_ms < 0 or batch_size < 1:
            raise ValueError("max_texts and batch_size must be at least 1 and max_wait_ms at least 0")
        self.coder = coder
        self.max_texts = max_texts
        self.max_wait = max_wait_ms / 1000.0
        self.batch_size = batch_size
        self.stats = BatchStats()
        self._queue: queue.Queue[_Job | None] = queue.Queue()
        self._closed = False
        self._worker = threading.Thread(target=self._run, name="wirecoder-batcher", daemon=True)
        self._worker.start()

    def submit(self, texts: list[str], ids: list[str] | None = None, document_date: str | None = None) -> Future:
        """A future of one :class:`Prediction` per text, as ``coder.predict(texts, ids=ids, ...)`` returns them."""
        if self._closed:
            raise RuntimeError("the batcher is closed")
        # predict numbers the texts of each call from 0; a shared call must keep each request's numbering.
        ids = [str(i) for i in range(len(texts))] if ids is None else [str(i) for i in ids]
        job = _Job(list(texts), ids, document_date)
        self._queue.put(job)
        return job.future

    def close(self, timeout: float | None = 10.0) -> None:
        """Finish the requests already queued, then stop the worker."""
        if not self._closed:
            self._closed = True
            self._queue.put(None)
            self._worker.join(timeout)

    # -- the worker --------------------------------------------------------------------------------

    def _gather(self, first: _Job) -> tuple[list[_Job], bool]:
        jobs, n = [first], len(first.texts)
        deadline = time.monotonic() + self.max_wait
        while n < self.max_texts:
            remaining = deadline - time.monotonic()
            try:
                job = self._queue.get(timeout=remaining) if remaining > 0 else self._queue.get_nowait()
            except queue.Empty:
                break
            if job is None:
                return jobs, True
            jobs.append(job)
            n += len(job.texts)
        return jobs, False

    def _run(self) -> None:
        stop = False
        while not stop:
            first = self._queue.get()
            if first is None:
                break
            jobs, stop = self._gather(first)
            self._code(jobs)

    def _code(self, jobs: list[_Job]) -> None:
        jobs = [j for j in jobs if j.future.set_running_or_notify_cancel()]
        if not jobs:
            return
        try:
            preds = self._predict(jobs)
        except Exception:  # noqa: BLE001 - one bad request must not fail the others in its batch
            logger.exception("a batch of %d requests failed; coding them one by one", len(jobs))
            for job in jobs:
                try:
                    job.future.set_result(self._predict([job]))
                except Exception as exc:  # noqa: BLE001 - handed to the request that caused it
                    job.future.set_exception(exc)
            return
        pos = 0
        for job in jobs:
            job.future.set_result(preds[pos : pos + len(job.texts)])
            pos += len(job.texts)

    def _predict(self, jobs: list[_Job]) -> list:
        texts = [t for j in jobs for t in j.texts]
        ids = [i for j in jobs for i in j.ids]
        kwargs = {}
        if any(j.document_date is not None for j in jobs):
            # One date per text: requests with different dates still share the forward pass.
            kwargs["document_date"] = [j.document_date for j in jobs for _ in j.texts]
        preds = self.coder.predict(texts, batch_size=self.batch_size, ids=ids, **kwargs)
        self.stats.requests += len(jobs)
        self.stats.texts += len(texts)
        self.stats.predict_calls += 1
        self.stats.largest_batch = max(self.stats.largest_batch, len(texts))
        return preds
