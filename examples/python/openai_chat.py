"""Stream a chat completion from cliproxy with the official OpenAI SDK."""

import os

from openai import OpenAI

client = OpenAI(
    base_url=os.environ.get("CLIPROXY_URL", "http://127.0.0.1:8317") + "/v1",
    api_key=os.environ.get("CLIPROXY_CLIENT_KEY", "cliproxy"),
)
stream = client.chat.completions.create(
    model=os.environ.get("CLIPROXY_MODEL", "fast"),
    messages=[{"role": "user", "content": "Say hello"}],
    stream=True,
)
for chunk in stream:
    if chunk.choices and chunk.choices[0].delta.content:
        print(chunk.choices[0].delta.content, end="", flush=True)
print()
