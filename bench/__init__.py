"""Speed and memory benchmarks for Casebook: `python -m bench` (or `make bench`) prints one table."""
