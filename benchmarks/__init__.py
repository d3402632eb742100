"""Benchmarks: run by `nox -s benchmarks`; figures are ratios to a baseline measured in the same run."""
