#!/usr/bin/env bash
# Two calls to cliproxy with curl: OpenAI Chat Completions streamed, then Anthropic Messages.
set -euo pipefail
url="${CLIPROXY_URL:-http://127.0.0.1:8317}"
key="${CLIPROXY_CLIENT_KEY:-cliproxy}"
model="${CLIPROXY_MODEL:-fast}"

curl -sS --fail-with-body -N "${url}/v1/chat/completions" \
    -H "Authorization: Bearer ${key}" -H 'Content-Type: application/json' \
    -d "{\"model\": \"${model}\", \"stream\": true,
         \"messages\": [{\"role\": \"user\", \"content\": \"Say hello\"}]}"
echo

curl -sS --fail-with-body "${url}/v1/messages" \
    -H "x-api-key: ${key}" -H 'anthropic-version: 2023-06-01' \
    -H 'Content-Type: application/json' \
    -d "{\"model\": \"${model}\", \"max_tokens\": 64,
         \"messages\": [{\"role\": \"user\", \"content\": \"Say hello\"}]}"
echo
