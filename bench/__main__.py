"""Run the benchmark: python -m bench --patrons N."""

from bench.harness import main

main()
