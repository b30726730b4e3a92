"""Subscription accounts served in-process: Claude and ChatGPT (OAuth), cto.new (Clerk).

Each provider package holds its wire constants (the defaults of its config section), its
login, and its upstream; ``base`` is what the OAuth upstreams share.
"""
