"""Ask cliproxy through the official Anthropic SDK; the router translates as needed."""

import os

from anthropic import Anthropic

client = Anthropic(
    base_url=os.environ.get("CLIPROXY_URL", "http://127.0.0.1:8317"),
    api_key=os.environ.get("CLIPROXY_CLIENT_KEY", "cliproxy"),
)
message = client.messages.create(
    model=os.environ.get("CLIPROXY_MODEL", "fast"),
    max_tokens=256,
    messages=[{"role": "user", "content": "Say hello"}],
)
print("".join(block.text for block in message.content if block.type == "text"))
