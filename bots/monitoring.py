"""The operator's endpoints of ``safety-bot run``, on ``[metrics] listen``:

- ``/metrics``: Prometheus text (or OpenMetrics, when asked) from the core's own registry;
- ``/healthz``: 200 while the process runs;
- ``/readyz``: 200 when every platform it serves is connected and the store answers; else
  503 with a short reason (platform names and "store", nothing else).

Pinned-post figures are computed on a scrape, at most once a minute (a scrape waits for them
a little, then gets the last ones), so frequent scrapes cost the store one read a minute.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager

from aiohttp import web
from prometheus_client import ProcessCollector
from prometheus_client.exposition import choose_encoder

from shared.config import listen_address
from shared.core import Core

log = logging.getLogger(__name__)

PIN_FIGURES_EVERY = 60.0
"""Seconds between two counts of the pinned posts (a read of every post's record)."""
PIN_FIGURES_WAIT = 2.0
"""Seconds a scrape waits for a count in progress before it gets the previous figures."""
STORE_TIMEOUT = 2.0
"""Seconds the store has to answer a readiness probe."""
READY_KEY = "monitoring.readyz"
"""The operator value read to see that the store answers (it is never written)."""
SHUTDOWN_TIMEOUT = 2.0
"""Seconds a scrape in progress may take to finish when the bot stops."""


class Monitoring:
    """The HTTP server of ``/metrics``, ``/healthz`` and ``/readyz`` for one core."""

    def __init__(
        self,
        core: Core,
        platforms: Iterable[str],
        *,
        pin_figures_every: float = PIN_FIGURES_EVERY,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.core = core
        self.platforms = tuple(platforms)
        self.pin_figures_every = pin_figures_every
        self._clock = clock
        self._counted_at: float | None = None
        self._counting: asyncio.Task[None] | None = None
        app = web.Application()
        app.router.add_get("/metrics", self.metrics)
        app.router.add_get("/healthz", self.healthz)
        app.router.add_get("/readyz", self.readyz)
        # No access log: a scrape every few seconds would bury the bot's own log lines.
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=SHUTDOWN_TIMEOUT)
        self.addresses: list[tuple[str, int]] = []
        # The process's memory, CPU time and open files, served with the bot's own figures.
        self._process = ProcessCollector(registry=None)

    async def start(self, host: str, port: int) -> None:
        """Listen on ``host``:``port`` (0: a free port; see :attr:`addresses`)."""
        await self._runner.setup()
        try:
            await web.TCPSite(self._runner, host, port).start()
        except BaseException:
            await self._runner.cleanup()
            raise
        self.addresses = [(str(a[0]), int(a[1])) for a in self._runner.addresses]
        self.core.metrics.registry.register(self._process)

    async def close(self) -> None:
        """Stop listening, after the requests in progress (a few seconds at most)."""
        if self._counting is not None:
            self._counting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._counting
        await self._runner.cleanup()
        self.core.metrics.registry.unregister(self._process)

    # -- endpoints ------------------------------------------------------------------------

    async def healthz(self, request: web.Request) -> web.Response:
        """The process is alive and its event loop answers."""
        return web.Response(text="ok\n")

    async def readyz(self, request: web.Request) -> web.Response:
        """200 when every platform is connected and the store answers; else 503 and why."""
        reasons = [f"{name}: not connected" for name in self.platforms if not self._up(name)]
        if not await self._store_answers():
            reasons.append("store: not answering")
        if reasons:
            return web.Response(status=503, text="not ready: " + "; ".join(reasons) + "\n")
        return web.Response(text="ready\n")

    async def metrics(self, request: web.Request) -> web.Response:
        """Every metric, in the format the scraper asked for."""
        for name in self.platforms:
            self._up(name)
        await self._pin_figures()
        encode, content_type = choose_encoder(request.headers.get("Accept", ""))
        body = encode(self.core.metrics.registry)
        return web.Response(body=body, headers={"Content-Type": content_type})

    # -- checks ---------------------------------------------------------------------------

    def _up(self, platform: str) -> bool:
        return self.core.metrics.connected(platform)

    async def _store_answers(self) -> bool:
        store = self.core.store
        if store is None:
            return False
        try:
            async with asyncio.timeout(STORE_TIMEOUT):
                await store.get_meta(READY_KEY)
        except Exception:
            return False
        return True

    async def _pin_figures(self) -> None:
        """Start a count of the pinned posts when one is due, and wait a little for it."""
        now = self._clock()
        due = self._counted_at is None or now - self._counted_at >= self.pin_figures_every
        if self._counting is None and due:
            self._counted_at = now
            self._counting = asyncio.create_task(self._count_pins())
        if self._counting is not None:
            await asyncio.wait({self._counting}, timeout=PIN_FIGURES_WAIT)

    async def _count_pins(self) -> None:
        try:
            figures = await self.core.pins.summary(self.platforms)
        except Exception:
            self.core.store_failed("count pinned posts")  # the gauges keep their last values
        else:
            self.core.metrics.pinned(figures)
        finally:
            self._counting = None


@asynccontextmanager
async def monitoring(
    core: Core, listen: str, platforms: Iterable[str]
) -> AsyncIterator[Monitoring | None]:
    """The endpoints served for the block when ``listen`` is set (else None).

    An address that cannot be used (taken, not this machine's) is logged and the bot runs
    without them: people's answers matter more, and the missing target shows in Prometheus.
    """
    address = listen_address(listen)
    if address is None:
        yield None
        return
    server = Monitoring(core, platforms)
    try:
        await server.start(*address)
    except OSError as error:
        log.error(
            "cannot serve metrics on %s (%s); running without /metrics, /healthz and /readyz",
            listen,
            error.strerror or type(error).__name__,
        )
        yield None
        return
    for host, port in server.addresses:
        shown = f"[{host}]" if ":" in host else host
        log.info("serving /metrics, /healthz and /readyz on http://%s:%d", shown, port)
    try:
        yield server
    finally:
        await server.close()
