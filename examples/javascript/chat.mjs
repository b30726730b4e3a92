// Stream a chat completion from cliproxy with plain fetch (Node 18+ or a browser page
// whose origin is listed in cors-origins).
const url = process.env.CLIPROXY_URL ?? "http://127.0.0.1:8317";
const key = process.env.CLIPROXY_CLIENT_KEY ?? "cliproxy";
const model = process.env.CLIPROXY_MODEL ?? "fast";

const response = await fetch(`${url}/v1/chat/completions`, {
  method: "POST",
  headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/json" },
  body: JSON.stringify({
    model,
    stream: true,
    messages: [{ role: "user", content: "Say hello" }],
  }),
});
if (!response.ok) {
  console.error(`cliproxy answered ${response.status}: ${await response.text()}`);
  process.exit(1);
}

// Server-sent events: "data: {json}" lines, ending with "data: [DONE]".
const decoder = new TextDecoder();
let buffer = "";
let text = "";
for await (const bytes of response.body) {
  buffer += decoder.decode(bytes, { stream: true });
  let newline;
  while ((newline = buffer.indexOf("\n")) >= 0) {
    const line = buffer.slice(0, newline).trim();
    buffer = buffer.slice(newline + 1);
    if (!line.startsWith("data: ") || line === "data: [DONE]") continue;
    const delta = JSON.parse(line.slice(6)).choices?.[0]?.delta?.content;
    if (delta) {
      text += delta;
      process.stdout.write(delta);
    }
  }
}
process.stdout.write("\n");
if (!text) {
  console.error("the stream carried no text");
  process.exit(1);
}
