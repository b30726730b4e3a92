"""Local stand-ins for AI Studio peers, shared by the tests and the benchmarks.

Both tests/ and bench/ import from here; testkit imports neither, so benchmarks never
depend on test modules.
"""
