"""Benchmarks run by ``make bench`` (never by ``make test``).

Every figure is a ratio of two things measured side by side in the same run,
never an absolute timed assertion. Entry point: ``python -m benchmarks.run``.
"""
