"""Pieces of loadtests/benchmark.py: plan, service processes, raw engine, load, report.

Nothing in here imports ray or the project's `deployments`; only the raw engine's child
process (bench.raw.raw_worker) loads the project, and only its Piper engine.
"""
