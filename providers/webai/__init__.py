"""WebAI sidecar: an OpenAI-compatible service backed by gpt4free (g4f) web providers.

g4f is GPL-3.0, so it is imported only inside this package, which runs as its own
process (`python -m providers.webai`). Nothing under router/ may import this package.
"""
