"""The console as the ``safety-bot`` command knows it: a renderer, and no platform to run."""

from __future__ import annotations

from bots.adapter import Adapter, Renderer
from bots.console import render

CONSOLE = Adapter("console", lambda: Renderer(render.text, render.payload))
