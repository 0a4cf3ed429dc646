"""Throughput and latency benchmarks: ``python benchmarks/bench.py --help``."""
