"""cliproxy benchmarks: real processes on 127.0.0.1, compared with a baseline in the same run.

Run with ``python -m bench`` (see ``python -m bench --help``). Not a pytest suite.
"""
