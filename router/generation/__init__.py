"""The generation path, in the order a request takes it.

A client API handler (``router/api/``) decodes what is specific to its API into a
``Generation`` and hands it to ``pipeline.proxy_generation``, which:

1. plans the route (``router/routing/plan.py``) and, where the route caches answers,
   answers from the cache (``cached.py``);
2. opens the upstream with failover (``router/routing/failover.py``);
3. passes the client's bytes through when the upstream speaks the client's format
   (``model_splice.py``, ``passthrough.py``, ``stream_end.py``), else translates through
   the formats layer's IR (``translate.py``, ``codec_guard.py``, ``first_event.py``);
4. streams the answer back as it arrives (``streaming.py``), with the upstream's
   rate-limit headers renamed for the client's API family (``rate_limit_headers.py``).
"""
