// cliproxy dashboard: plain DOM and SVG over the router's JSON APIs (no build step).
"use strict";

const COLORS = ["#3b6fd4", "#d4843b", "#2f9e6e", "#b0459f", "#8c6d1f", "#4aa3c0", "#c0504a", "#6a5acd"];
const SVG = "http://www.w3.org/2000/svg";
let needSecret = false;

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (name === "class") node.className = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value);
  }
  for (const child of children) node.append(child instanceof Node ? child : String(child ?? ""));
  return node;
}

function svg(tag, attrs = {}) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  return node;
}

function showError(message) {
  const box = document.getElementById("error");
  box.textContent = message;
  box.hidden = !message;
}

async function api(method, path, body) {
  const headers = {};
  const secret = sessionStorage.getItem("cliproxy-secret");
  if (secret) headers["X-Management-Key"] = secret;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const data = await response.json().catch(() => ({}));
  if (response.status === 401 && path.startsWith("/v1/management/")) {
    // Each wrong or missing secret counts toward the guard's lockout: stop asking
    // until the user enters one.
    needSecret = true;
    document.getElementById("secret-form").hidden = false;
  }
  if (!response.ok) {
    const message = (data.error && (data.error.message || data.error)) || response.statusText;
    throw new Error(`${method} ${path}: ${response.status} ${message}`);
  }
  return data;
}

function fill(tableId, rows) {
  const body = document.querySelector(`#${tableId} tbody`);
  body.replaceChildren(...rows);
}

function number(value, digits = 0) {
  if (value === null || value === undefined) return "–";
  return Number(value).toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

function renderProviders(health) {
  const status = document.getElementById("status");
  status.textContent = health.status;
  status.className = `pill ${health.status}`;
  const rows = Object.entries(health.providers).map(([name, p]) => {
    const cooldowns = el("ul", {}, ...p.cooldowns.map((c) =>
      el("li", {}, `${c.credential} · ${c.model} · ${c.remaining_s}s (${c.reason})`)));
    const accounts = el("ul", {}, ...(p.accounts || []).map((a) =>
      el("li", {}, el("span", { class: a.state }, `${a.label || a.id}: ${a.state}`), " ",
        el("button", { class: "danger", "data-forget": a.id, onclick: () => forget(name, a.id) }, "Forget"))));
    const actions = el("div", { class: "actions" },
      p.cooldowns.length
        ? el("button", { "data-reset": name, onclick: () => resetCooldown(name) }, "Reset cooldowns")
        : "",
      name in LOGINS ? el("button", { "data-login": name, onclick: () => startLogin(name) }, "Log in") : "");
    return el("tr", { "data-provider": name },
      el("td", {}, name, el("br"), el("small", {}, p.kind)),
      el("td", { class: p.status }, p.status),
      el("td", {}, p.credentials.join(", ")),
      el("td", {}, p.cooldowns.length ? cooldowns : "none"),
      el("td", {}, p.accounts ? (p.accounts.length ? accounts : "none") : "–"),
      el("td", {}, actions));
  });
  fill("providers", rows);
  const services = health.services;
  const aistudio = services.aistudio;
  const items = [
    el("li", {}, "webai: ", el("span", { class: services.webai.status }, services.webai.status)),
    el("li", {}, "aistudio service: ", el("span", { class: aistudio.service.status }, aistudio.service.status)),
    el("li", {}, `relay sessions: ${aistudio.sessions_connected}`,
      el("ul", {}, ...aistudio.sessions.map((s) => el("li", {},
        `${s.name}: `, el("span", { class: s.state === "ready" ? "ok" : "error" }, s.state),
        ` · ${s.in_flight} in flight · since ${s.connected_since.slice(0, 19)}`,
        ...aistudio.cooldowns.filter((c) => c.credential === s.name).map(
          (c) => ` · cooling ${c.remaining_s}s for ${c.model} (${c.reason})`),
        s.last_error ? ` · last error: ${s.last_error}` : "")))),
    el("li", {}, `upstream connections: ${health.upstream_connections}`),
  ];
  document.getElementById("services").replaceChildren(...items);
}

// How each login-based provider signs in (the routes management already offers).
const LOGINS = {
  "llmux-claude": { kind: "oauth", provider: "claude" },
  "llmux-chatgpt": { kind: "oauth", provider: "chatgpt" },
  aistudio: { kind: "aistudio" },
  ctonew: { kind: "ctonew" },
};
const LOGIN_HELP = {
  oauth: ["Code (code#state)", "Open the sign-in page and sign in. A browser on the router's machine " +
    "comes back by itself; anywhere else, paste the code the page shows (code#state) here."],
  aistudio: ["Storage state JSON (optional)", "Paste the storage-state JSON (or cookie export) of a " +
    "signed-in Google account, or leave it empty to open a browser on the router's machine."],
  ctonew: ["Cookie", "Paste the __client cookie value (or the whole Cookie header) of a browser " +
    "signed in to cto.new."],
};
let loginTarget = null;

function loginResult(message, ok) {
  const result = document.getElementById("login-result");
  result.textContent = message;
  result.className = ok ? "ok" : "error";
}

async function startLogin(name) {
  const how = LOGINS[name];
  loginTarget = name;
  const [field, help] = LOGIN_HELP[how.kind];
  const section = document.getElementById("login-section");
  section.hidden = false;
  section.scrollIntoView({ block: "nearest" });
  document.getElementById("login-title").textContent = `Log in to ${name}`;
  document.getElementById("login-field").textContent = field;
  document.getElementById("login-help").textContent = help;
  document.getElementById("login-input").value = "";
  document.getElementById("login-input").required = how.kind !== "aistudio";
  document.getElementById("login-label-field").hidden = how.kind !== "ctonew";
  const link = document.getElementById("login-url");
  link.hidden = true;
  loginResult("", true);
  if (how.kind !== "oauth") return;
  try {
    const started = await api("GET", `/v1/auth/llmux/${how.provider}/login`);
    link.href = started.url;
    link.hidden = false;
  } catch (error) {
    loginResult(error.message, false);
  }
}

function loginRequest(how, text) {
  if (how.kind === "oauth") return ["POST", `/v1/auth/llmux/${how.provider}/callback`, { code: text }];
  if (how.kind === "ctonew") {
    const label = document.getElementById("login-label").value.trim();
    return ["POST", "/v1/auth/ctonew", label ? { cookie: text, label } : { cookie: text }];
  }
  return ["POST", "/v1/auth/aistudio/login", text ? JSON.parse(text) : undefined];
}

async function submitLogin(event) {
  event.preventDefault();
  const how = LOGINS[loginTarget];
  const text = document.getElementById("login-input").value.trim();
  try {
    const done = await api(...loginRequest(how, text));
    const who = done.label || done.account || done.email || done.id;
    loginResult(`Logged in to ${loginTarget}${who ? ` as ${who}` : ""}.`, true);
    document.getElementById("login-input").value = "";
    document.getElementById("login-url").hidden = true;
    await refresh();
  } catch (error) {
    loginResult(error instanceof SyntaxError ? `Not JSON: ${error.message}` : error.message, false);
  }
}

async function resetCooldown(provider) {
  await guarded(async () => {
    await api("POST", `/v1/management/cooldowns/reset?provider=${encodeURIComponent(provider)}`);
    await refresh();
  });
}

async function forget(provider, id) {
  if (!confirm(`Forget ${provider} account ${id}? It must log in again.`)) return;
  const path = provider === "ctonew"
    ? `/v1/auth/ctonew?id=${encodeURIComponent(id)}`
    : `/v1/auth/llmux/${encodeURIComponent(provider.replace(/^llmux-/, ""))}?id=${encodeURIComponent(id)}`;
  await guarded(async () => {
    await api("DELETE", path);
    await refresh();
  });
}

function measureOf(row, measure) {
  return measure === "cost" ? (row.api_equivalent_usd || 0) : row.tokens_in + row.tokens_out;
}

function renderChart(rows, group, measure, days) {
  const today = new Date();
  const labels = [];
  for (let i = days - 1; i >= 0; i--) {
    labels.push(new Date(today.getTime() - i * 86400000).toISOString().slice(0, 10));
  }
  const series = [...new Set(rows.map((r) => r[group]))].sort();
  const totals = Object.fromEntries(labels.map((d) => [d, 0]));
  for (const row of rows) if (row.day in totals) totals[row.day] += measureOf(row, measure);
  const max = Math.max(1, ...Object.values(totals));
  const width = 720, height = 220, left = 56, bottom = 24, top = 8;
  const barWidth = (width - left) / labels.length;
  const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img" });
  const scale = (value) => (value / max) * (height - bottom - top);
  for (const tick of [0, 0.5, 1]) {
    const y = height - bottom - scale(max * tick);
    chart.append(svg("line", { x1: left, x2: width, y1: y, y2: y, stroke: "#d9dee7" }));
    const text = svg("text", { x: left - 4, y: y + 4, "text-anchor": "end", "font-size": 11, fill: "#5c6577" });
    text.textContent = measure === "cost" ? `$${(max * tick).toFixed(2)}` : number(max * tick);
    chart.append(text);
  }
  labels.forEach((day, i) => {
    let y = height - bottom;
    for (const [s, name] of series.entries()) {
      const row = rows.find((r) => r.day === day && r[group] === name);
      if (!row) continue;
      const h = scale(measureOf(row, measure));
      y -= h;
      const bar = svg("rect", { x: left + i * barWidth + 1, y, width: Math.max(barWidth - 2, 1), height: h, fill: COLORS[s % COLORS.length] });
      const title = svg("title");
      title.textContent = `${day} ${name || "(none)"}: ${measure === "cost" ? "$" + number(measureOf(row, measure), 4) : number(measureOf(row, measure))}`;
      bar.append(title);
      chart.append(bar);
    }
    if (labels.length <= 10 || i % Math.ceil(labels.length / 8) === 0) {
      const text = svg("text", { x: left + i * barWidth + barWidth / 2, y: height - 6, "text-anchor": "middle", "font-size": 11, fill: "#5c6577" });
      text.textContent = day.slice(5);
      chart.append(text);
    }
  });
  const legend = el("div", { class: "legend" }, ...series.map((name, s) =>
    el("span", {}, el("i", { style: `background:${COLORS[s % COLORS.length]}` }), name || "(none)")));
  document.getElementById("chart").replaceChildren(chart, legend);
}

async function loadUsage() {
  const group = document.getElementById("group").value;
  const measure = document.getElementById("measure").value;
  const days = Number(document.getElementById("days").value);
  const from = new Date(Date.now() - (days - 1) * 86400000).toISOString().slice(0, 10);
  const [perDay, totals] = await Promise.all([
    api("GET", `/v1/management/usage?group=day,${group}&from=${from}`),
    api("GET", `/v1/management/usage?group=${group}&from=${from}`),
  ]);
  renderChart(perDay.rows, group, measure, days);
  fill("usage", totals.rows.map((r) => el("tr", { "data-name": r[group] },
    el("td", {}, r[group] || "(none)"), el("td", {}, number(r.requests)), el("td", {}, number(r.errors)),
    el("td", {}, number(r.tokens_in)), el("td", {}, number(r.tokens_out)),
    el("td", {}, number(r.cost_usd, 4)), el("td", {}, number(r.api_equivalent_usd, 4)),
    el("td", {}, number(r.unpriced_requests)))));
}

async function loadRecent() {
  const data = await api("GET", "/v1/management/usage/recent?limit=50");
  fill("recent", data.requests.map((r) => el("tr", {},
    el("td", {}, new Date(r.ts * 1000).toISOString().slice(0, 19).replace("T", " ")),
    el("td", {}, r.key || "–"),
    el("td", {}, r.model, r.operation === "count_tokens" ? el("small", {}, " (token count)") : ""),
    el("td", {}, r.provider || "–"),
    el("td", { class: r.status >= 400 ? "error" : "ok" }, r.status + (r.error ? ` ${r.error}` : "")),
    el("td", {}, number(r.latency_ms, 1)), el("td", {}, number(r.ttft_ms, 1)),
    el("td", {}, `${number(r.tokens_in)} / ${number(r.tokens_out)}`),
    el("td", {}, r.api_equivalent_usd === null ? "–" : "$" + number(r.api_equivalent_usd, 5)))));
}

function describeLimits(limits) {
  const parts = Object.entries(limits).filter(([, v]) => v !== null).map(([k, v]) => `${k.replaceAll("_", " ")}: ${v}`);
  return parts.length ? parts.join("; ") : "none";
}

async function loadKeys() {
  const data = await api("GET", "/v1/management/keys");
  document.getElementById("config-keys").textContent = data.config_keys.join(", ") || "none";
  const now = Date.now() / 1000;
  fill("keys", data.keys.map((k) => {
    const state = k.revoked_at ? "revoked" : (k.expires_at && k.expires_at <= now ? "expired" : "active");
    return el("tr", { "data-key": k.name },
      el("td", {}, k.name, el("br"), el("small", {}, `${k.prefix}…`)),
      el("td", { class: state }, state),
      el("td", {}, k.models.join(", ") || "all"),
      el("td", {}, describeLimits(k.limits)),
      el("td", {}, `${number(k.used.tokens_today)} tokens · $${number(k.used.cost_today, 4)}`),
      el("td", {}, `${number(k.used.tokens_this_month)} tokens · $${number(k.used.cost_this_month, 4)}`),
      el("td", {}, state === "active"
        ? el("button", { class: "danger", "data-revoke": k.name, onclick: () => revoke(k.name) }, "Revoke")
        : ""));
  }));
}

async function revoke(name) {
  if (!confirm(`Revoke key ${name}? Its next request gets 401.`)) return;
  await guarded(async () => {
    await api("DELETE", `/v1/management/keys/${encodeURIComponent(name)}`);
    await loadKeys();
  });
}

async function createKey(event) {
  event.preventDefault();
  const value = (id) => document.getElementById(id).value.trim();
  const limits = {};
  if (value("key-rpm")) limits.requests_per_minute = Number(value("key-rpm"));
  if (value("key-tokens-day")) limits.tokens_per_day = Number(value("key-tokens-day"));
  if (value("key-cost-month")) limits.cost_per_month = Number(value("key-cost-month"));
  const models = value("key-models").split(",").map((m) => m.trim()).filter(Boolean);
  await guarded(async () => {
    const created = await api("POST", "/v1/management/keys", { name: value("key-name"), models, limits });
    const shown = document.getElementById("new-key");
    shown.textContent = `New key for ${created.name} (shown once): ${created.key}`;
    shown.hidden = false;
    event.target.reset();
    await loadKeys();
  });
}

async function guarded(work) {
  try {
    await work();
    showError("");
  } catch (error) {
    showError(error.message);
  }
}

async function refresh() {
  await guarded(async () => {
    // One guarded call first: a missing secret costs one failure, not four.
    const health = await api("GET", "/v1/management/health");
    renderProviders(health);
    if (needSecret) return;
    await Promise.all([loadKeys(), loadUsage(), loadRecent()]);
    document.body.dataset.loaded = "true";
  });
}

document.getElementById("secret-form").addEventListener("submit", (event) => {
  event.preventDefault();
  sessionStorage.setItem("cliproxy-secret", document.getElementById("secret").value);
  event.target.hidden = true;
  needSecret = false;
  refresh();
});
document.getElementById("key-form").addEventListener("submit", createKey);
document.getElementById("login-form").addEventListener("submit", submitLogin);
document.getElementById("login-close").addEventListener("click", () => {
  document.getElementById("login-section").hidden = true;
});
for (const id of ["group", "measure", "days"]) {
  document.getElementById(id).addEventListener("change", () => guarded(loadUsage));
}
refresh();
setInterval(refresh, 15000);
