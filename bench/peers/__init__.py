"""The peer benchmark (issue 16): cliproxy next to LiteLLM, claude-code-router and 9router.

``python -m bench.peers`` (``make bench-peers``) installs the peers at the versions pinned in
``bench/peers/pins.py`` into a scratch folder outside the repository, points each at the
bench upstream and measures every system in one interleaved run. It is not part of
``make bench`` (no benchmark here is registered in ``bench.registry``) and never runs in CI.
"""
