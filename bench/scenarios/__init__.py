"""Benchmark scenarios: each module offers http_scenarios(ctx) and/or offline(ctx)."""
