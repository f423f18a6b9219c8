"""Calls of one Lua script from thousands of sockets, sent to Redis together.

Each change on a socket is one script call (``checkpoint_scripts.APPLY``). Sent one by one,
every call holds a pool connection for its round trip: at thousands of changes a second
the pool ran dry, every change waited for a connection and then heard ``busy``, and each
``busy`` came back as a resend (docs/benchmarks.md, "20,000 candidates"). Here the calls
made during one pass of the event loop leave as one pipeline on one connection: fewer
system calls for the worker and for Redis, and a queue with a known length. When that
queue is longer than ``max_pending``, a call is refused at once with ``Busy``: the phone
keeps the change and sends it again (docs/protocol.md, ``busy``), and refusing costs next
to nothing.

Each call is still its own script run, atomic on its own; a pipeline is not a transaction
and its calls are judged one after another, exactly as if sent separately.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import NoScriptError, ResponseError

from exam_server.delivery.backpressure import Busy

log = logging.getLogger(__name__)

_Call = tuple[Sequence[Any], Sequence[Any], "asyncio.Future[Any]"]


class ScriptBatch:
    def __init__(
        self,
        redis: Redis,
        script: str,
        *,
        max_pending: int = 2_000,
        max_batch: int = 500,
        max_in_flight: int = 4,
    ) -> None:
        self.redis = redis
        self._script = redis.register_script(script)
        self.max_pending = max_pending
        self.max_batch = max_batch
        self.max_in_flight = max_in_flight
        self._pending: list[_Call] = []
        self._in_flight = 0
        self._scheduled = False
        self._flushes: set[asyncio.Task[None]] = set()
        self.refused = 0  # calls answered ``Busy`` because the queue was full

    @property
    def pending(self) -> int:
        return len(self._pending)

    async def __call__(self, keys: Sequence[Any], args: Sequence[Any]) -> Any:
        if len(self._pending) >= self.max_pending:
            self.refused += 1
            raise Busy()
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._pending.append((keys, args, future))
        if not self._scheduled and self._in_flight < self.max_in_flight:
            # After the callbacks already queued in this pass: they add to the same batch.
            self._scheduled = True
            loop.call_soon(self._start)
        return await future

    def _start(self) -> None:
        self._scheduled = False
        while self._pending and self._in_flight < self.max_in_flight:
            batch, self._pending = (
                self._pending[: self.max_batch],
                self._pending[self.max_batch :],
            )
            self._in_flight += 1
            task = asyncio.create_task(self._flush(batch))
            self._flushes.add(task)  # held until done: asyncio keeps weak references
            task.add_done_callback(self._flushes.discard)

    async def _flush(self, batch: list[_Call]) -> None:
        try:
            results = await self._send(batch)
            again = [i for i, r in enumerate(results) if isinstance(r, NoScriptError)]
            if again:  # Redis restarted or was flushed: load the script, send those again
                await self.redis.script_load(self._script.script)
                redo = await self._send([batch[i] for i in again])
                for i, r in zip(again, redo, strict=True):
                    results[i] = r
            for (_, _, future), result in zip(batch, results, strict=True):
                if future.done():  # its socket went away meanwhile
                    continue
                if isinstance(result, Exception):
                    future.set_exception(result)
                else:
                    future.set_result(result)
        except BaseException as exc:
            for _, _, future in batch:
                if not future.done():
                    future.set_exception(exc if isinstance(exc, Exception) else Busy())
            if not isinstance(exc, Exception):
                raise
        finally:
            self._in_flight -= 1
            if self._pending and not self._scheduled:
                self._scheduled = True
                asyncio.get_running_loop().call_soon(self._start)

    async def _send(self, batch: Sequence[_Call]) -> list[Any]:
        sha = self._script.sha
        if len(batch) == 1:  # a quiet moment: a pipeline would only add its own cost
            keys, args, _ = batch[0]
            try:
                return [await self.redis.evalsha(sha, len(keys), *keys, *args)]
            except ResponseError as exc:  # the script's own error, or NOSCRIPT
                return [exc]
        async with self.redis.pipeline(transaction=False) as pipe:
            for keys, args, _ in batch:
                pipe.evalsha(sha, len(keys), *keys, *args)
            return list(await pipe.execute(raise_on_error=False))
