"""Benchmarks for safety-bot (issue 7): ``make bench`` or ``python -m benchmarks``.

Everything runs offline: the platform libraries talk to the fakes of ``tests/`` on 127.0.0.1.
"""
