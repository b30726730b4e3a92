"""Which upstreams may serve a model, in what order, and failing over between them."""
