"""Benchmarks (not tests). ``python -m bench --quick|--full [NAME...]``; results in bench/results/."""
