// Baseline — Security Profiles page. Plain JavaScript, no build step, no external code.
// Every text that comes from the API (image names, node keys, paths, rules, explanations) is
// attacker-controlled: it is only ever put into the page as text (DOM nodes, textContent),
// never as markup. The CSP allows no inline script or style.
"use strict";

const TOKEN_KEY = "baseline.token";
const app = document.getElementById("app");
const banner = document.getElementById("banner");
let identity = null; // {name, scope} of the signed-in token

// ---------- DOM building ----------

// h("a", {href: "#/", className: "x", onclick: fn, dataset: {k: v}}, "text", child, [children])
function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "dataset") Object.assign(el.dataset, v);
    else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "className" || k === "textContent" || k === "value" || k === "checked" || k === "disabled" || k === "hidden") el[k] = v;
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

const SVG = "http://www.w3.org/2000/svg";
function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, String(v));
  for (const c of children) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

function clear(el) { while (el.firstChild) el.removeChild(el.firstChild); return el; }

// ---------- formatting ----------

function fmtDate(iso) {
  if (!iso) return "—";
  const d = new Date(iso);
  return isNaN(d) ? String(iso) : d.toLocaleString(undefined, { year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
}

function fmtDuration(seconds) {
  if (seconds === undefined || seconds === null) return "—";
  const units = [["d", 86400], ["h", 3600], ["min", 60], ["s", 1]];
  const parts = [];
  let rest = Math.max(0, Math.round(seconds));
  for (const [name, size] of units) {
    if (rest >= size && parts.length < 2) { parts.push(Math.floor(rest / size) + " " + name); rest %= size; }
  }
  return parts.length ? parts.join(" ") : "0 s";
}

function pct(x) { return (x === undefined || x === null) ? "—" : (Math.round(x * 1000) / 10) + " %"; }
function num(x) { return (x === undefined || x === null) ? "—" : Number(x).toLocaleString(); }

// Commonality as a coloured chip on the 11-step scale (classes cs-0 … cs-10 in app.css).
function commonality(x, title) {
  const step = Math.max(0, Math.min(10, Math.round((Number(x) || 0) * 10)));
  return h("span", { className: "cs cs-" + step, title: title || "Behavior Commonality: share of the version's instances" }, pct(x));
}

function commonalityBar(x) {
  const step = Math.max(0, Math.min(10, Math.round((Number(x) || 0) * 10)));
  const fill = h("span", { className: "cs-" + step });
  fill.style.width = Math.round((Number(x) || 0) * 100) + "%"; // CSSOM: allowed by the CSP
  return h("span", { className: "bar" }, fill);
}

function legend() {
  const steps = [];
  for (let i = 0; i <= 10; i++) steps.push(h("span", { className: "cs cs-" + i }));
  return h("span", { className: "legend", title: "Commonality colour scale" }, "0 %", steps, "100 %");
}

function stateBadge(state) { return h("span", { className: "badge state-" + safeClass(state) }, state || "—"); }
function statusBadge(status) { return h("span", { className: "badge status-" + safeClass(status) }, status || "—"); }
function safeClass(v) { return String(v || "").replace(/[^a-z_-]/gi, ""); }

// Node keys as people read them: `a > b > c | activity`, percent-escapes undone.
// Undoes the key builder's percent-escapes for reading, except where the character could mislead:
// separators (" > ", " | "), brackets, quotes, "%", control, format and bidi characters, and
// whitespace other than a plain space stay escaped, so one process can never look like two.
function readable(text) {
  let decoded;
  try { decoded = decodeURIComponent(text); } catch (e) { return text; }
  let out = "";
  for (const ch of decoded) {
    if (/[>|\[\]"\\%]/.test(ch) || /[\p{Cc}\p{Cf}\p{Co}\p{Cn}\p{Zl}\p{Zp}]/u.test(ch) || (/\s/.test(ch) && ch !== " ")) {
      out += encodeURIComponent(ch).replace(/[!'()*]/g, (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase());
      if (/[>|\[\]"\\%]/.test(ch) && encodeURIComponent(ch) === ch) out = out.slice(0, -1) + "%" + ch.charCodeAt(0).toString(16).toUpperCase();
    } else {
      out += ch;
    }
  }
  return out;
}
function lastProcess(key) {
  const lineage = String(key).split(" | ")[0].split(" > ");
  return readable(lineage[lineage.length - 1]);
}

function showBanner(message, kind) {
  banner.textContent = message;
  banner.className = "banner" + (kind ? " " + kind : "");
  banner.hidden = !message;
}

// ---------- the API ----------

function token() { return sessionStorage.getItem(TOKEN_KEY) || ""; }

class APIError extends Error {
  constructor(status, code, message) { super(message); this.status = status; this.code = code; }
}

async function api(method, path, body) {
  const headers = { Authorization: "Bearer " + token(), Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let res;
  try {
    res = await fetch("/api/v1" + path, { method, headers, cache: "no-store", body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (e) {
    throw new APIError(0, "network", "profile-api cannot be reached: " + e.message);
  }
  let data = null;
  try { data = await res.json(); } catch (e) { data = null; }
  if (!res.ok) {
    const err = data && data.error ? data.error : { code: "http_" + res.status, message: res.status + " " + res.statusText };
    if (res.status === 401) { signOut("Your token was not accepted (" + err.message + "). Enter it again."); }
    throw new APIError(res.status, err.code, err.message);
  }
  return data;
}

function get(path, params) { return api("GET", path + query(params)); }

// Query values percent-encoded with %20 for spaces: the API reads `+` as a plus (node keys hold
// spaces and pluses), not as form encoding's space (which URLSearchParams would send).
function query(params) {
  const parts = [];
  const add = (k, v) => parts.push(encodeURIComponent(k) + "=" + encodeURIComponent(v));
  for (const [k, v] of Object.entries(params || {})) {
    if (Array.isArray(v)) v.forEach((x) => x !== "" && add(k, x));
    else if (v !== undefined && v !== null && v !== "") add(k, v);
  }
  return parts.length ? "?" + parts.join("&") : "";
}

// Path parameters are percent-encoded: image names hold `/`.
function versionPath(image, tag) { return "/profiles/" + encodeURIComponent(image) + "/versions/" + encodeURIComponent(tag); }
function canWrite() { return identity && identity.scope === "write"; }

function failure(el, e) {
  clear(el).append(h("div", { className: "empty" }, "Could not load: " + e.message));
}

// ---------- sign-in ----------

function signOut(message) {
  sessionStorage.removeItem(TOKEN_KEY);
  identity = null;
  document.getElementById("session").hidden = true;
  document.getElementById("topnav").hidden = true;
  renderLogin(message);
}

function renderLogin(message) {
  showBanner("");
  const input = h("input", { type: "password", id: "token-input", name: "token", autocomplete: "off", placeholder: "API token", required: true });
  const error = h("p", { className: "muted", id: "login-error" }, message || "");
  const form = h("form", { className: "card login", id: "login-form" },
    h("h2", {}, "Sign in"),
    h("p", { className: "muted" }, "Enter an API token (read or write). It is kept for this browser tab only (sessionStorage)."),
    input, h("p", {}, h("button", { type: "submit", className: "primary", id: "token-submit" }, "Continue")), error);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, input.value.trim());
    error.textContent = "Checking…";
    try {
      await loadIdentity();
      route();
    } catch (e) {
      sessionStorage.removeItem(TOKEN_KEY);
      renderLogin(e.status === 401 ? "That token is not valid." : e.message);
    }
  });
  clear(app).append(form);
  input.focus();
}

async function loadIdentity() {
  identity = await api("GET", "/identity");
  document.getElementById("session-name").textContent = identity.name;
  document.getElementById("session-scope").textContent = identity.scope;
  document.getElementById("session").hidden = false;
  document.getElementById("topnav").hidden = false;
}

document.getElementById("sign-out").addEventListener("click", () => signOut("Signed out."));

// ---------- routing ----------

// #/?image=…            profiles overview (filters in the hash)
// #/p/<image>/<tag>/<tab>  a profile version
// #/suppressions         suppressions
function parseHash() {
  const raw = location.hash.replace(/^#/, "") || "/";
  const [path, qs] = raw.split("?");
  const parts = path.split("/").filter(Boolean).map((p) => { try { return decodeURIComponent(p); } catch (e) { return p; } });
  return { parts, params: new URLSearchParams(qs || "") };
}

async function route() {
  if (!token()) return renderLogin();
  if (!identity) {
    try { await loadIdentity(); } catch (e) { return e.status === 401 ? undefined : renderLogin(e.message); }
  }
  showBanner("");
  const { parts, params } = parseHash();
  if (parts[0] === "p" && parts.length >= 3) return renderProfile(parts[1], parts[2], parts[3] || "tree");
  if (parts[0] === "suppressions") return renderSuppressions();
  return renderOverview(params);
}

window.addEventListener("hashchange", route);

function profileHref(image, tag, tab) {
  return "#/p/" + encodeURIComponent(image) + "/" + encodeURIComponent(tag) + (tab ? "/" + tab : "");
}

// ---------- overview ----------

const LABEL_KEYS = ["service", "host", "cluster", "namespace", "instance"];

function renderOverview(params) {
  const field = (name, label, placeholder) => h("label", {}, label,
    h("input", { type: "text", name, id: "filter-" + name, value: params.get(name) || "", placeholder: placeholder || "" }));
  const state = h("select", { name: "state", id: "filter-state" },
    ["", "learning", "stable", "unstable"].map((v) => h("option", { value: v, selected: params.get("state") === v ? true : undefined }, v || "any")));
  const form = h("form", { className: "card filters", id: "filters" },
    field("q", "Search", "image, tag or service"), field("image", "Image name (exact)"), field("tag", "Image tag (exact)"),
    field("service", "Service"), field("label", "Tags (key:value, comma-separated)", "namespace:prod"),
    h("label", {}, "Model state", state),
    h("div", { className: "row" }, h("button", { type: "submit", className: "primary" }, "Apply"),
      h("button", { type: "button", onclick: () => { location.hash = "#/"; } }, "Reset")));
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const q = new URLSearchParams();
    for (const el of form.querySelectorAll("input, select")) if (el.value.trim()) q.set(el.name, el.value.trim());
    const next = "#/" + (q.toString() ? "?" + q.toString() : "");
    if (location.hash === next) route(); else location.hash = next;
  });
  const results = h("div", { className: "card", id: "profiles" }, h("div", { className: "empty" }, "Loading…"));
  clear(app).append(h("h1", {}, "Security profiles"),
    h("p", { className: "muted" }, "Profiles grouped by image name: each version (image tag) with the dumps merged into it, its model state and its Behavior Commonality."),
    form, results);

  const labels = (params.get("label") || "").split(",").map((x) => x.trim()).filter(Boolean);
  const filter = { q: params.get("q"), image: params.get("image"), tag: params.get("tag"), service: params.get("service"), state: params.get("state"), label: labels };
  const bad = labels.find((l) => !LABEL_KEYS.includes(l.split(":")[0]) || !l.includes(":"));
  if (bad) { failure(results, new Error("a tag filter must be key:value with key one of " + LABEL_KEYS.join(", "))); return; }
  const cursors = [];
  const load = async (cursor) => {
    try {
      const page = await get("/profiles", Object.assign({}, filter, { cursor, limit: 25 }));
      drawOverview(results, page, cursor, cursors, load);
    } catch (e) { failure(results, e); }
  };
  load(undefined);
}

function drawOverview(el, page, cursor, cursors, load) {
  clear(el);
  if (!page.items.length) { el.append(h("div", { className: "empty" }, "No profile matches.")); return; }
  const rows = [];
  for (const group of page.items) {
    rows.push(h("tr", { className: "group", dataset: { image: group.image_name } },
      h("td", { colspan: 2, className: "wrap" }, group.image_name, " ", h("span", { className: "muted" }, group.versions.length + (group.versions.length === 1 ? " version" : " versions"))),
      h("td", { className: "num" }, num(group.dumps_merged)), h("td"), h("td"), h("td"), h("td"), h("td", {}, fmtDate(group.last_updated))));
    for (const v of group.versions) {
      rows.push(h("tr", { className: "version", dataset: { image: v.image_name, tag: v.image_tag } },
        h("td", { className: "wrap" }, h("a", { href: profileHref(v.image_name, v.image_tag), className: "version-link" }, v.image_tag)),
        h("td", {}, stateBadge(v.state)),
        h("td", { className: "num" }, num(v.dumps_merged)),
        h("td", { className: "num" }, num(v.instances)),
        h("td", { className: "num" }, num(v.nodes)),
        h("td", { className: "commonality" }, commonalityBar(v.commonality), commonality(v.commonality)),
        h("td", { className: "num" }, v.pending_anomalies ? h("span", { className: "badge status-pending" }, v.pending_anomalies) : "0"),
        h("td", {}, fmtDate(v.last_updated))));
    }
  }
  el.append(h("table", { id: "profiles-table" },
    h("thead", {}, h("tr", {}, h("th", {}, "Image / tag"), h("th", {}, "Model"), h("th", { className: "num" }, "Dumps merged"),
      h("th", { className: "num" }, "Instances"), h("th", { className: "num" }, "Nodes"), h("th", {}, "Commonality"),
      h("th", { className: "num" }, "Anomalies"), h("th", {}, "Last updated"))),
    h("tbody", {}, rows)));
  el.append(pager(cursors.length > 0, page.next_cursor, () => load(cursors.pop()), () => { cursors.push(cursor); load(page.next_cursor); }));
}

function pager(hasPrev, next, onPrev, onNext) {
  return h("div", { className: "pager" },
    h("button", { type: "button", disabled: !hasPrev, onclick: onPrev }, "‹ Previous"),
    h("button", { type: "button", disabled: !next, onclick: onNext, className: "next-page" }, "Next ›"));
}

// ---------- a profile version ----------

const TABS = [["tree", "Process tree"], ["states", "Model states"], ["commonality", "Commonality over time"], ["history", "History"],
  ["instances", "Instances & dumps"], ["anomalies", "Anomalies"], ["signals", "Signals"], ["overrides", "Overrides"]];

async function renderProfile(image, tag, tab) {
  clear(app).append(h("div", { className: "empty" }, "Loading…"));
  let v;
  try { v = await get(versionPath(image, tag)); } catch (e) { return failure(app, e); }
  const header = h("div", { className: "card", id: "profile-header" },
    h("div", { className: "row" },
      h("div", {}, h("div", { className: "muted small" }, h("a", { href: "#/" }, "Profiles"), " › ",
        h("a", { href: "#/?image=" + encodeURIComponent(image) }, "versions of this image")),
        h("h1", { id: "profile-title" }, v.image_name, h("span", { className: "muted" }, " : ", v.image_tag))),
      h("span", { className: "spacer" }),
      h("button", { type: "button", onclick: () => download(image, tag, "baseline") }, "Export JSON"),
      h("button", { type: "button", onclick: () => download(image, tag, "datadog") }, "Export (Datadog)")),
    h("div", { className: "summary" },
      stat("Behavior commonality", commonality(v.commonality), "profile-commonality"),
      stat("Model", stateBadge(v.state)),
      stat("Dumps merged", num(v.dumps_merged)),
      stat("Instances", num(v.instances)),
      stat("Nodes", num(v.nodes)),
      stat("Pending anomalies", num(v.pending_anomalies)),
      stat("First seen", fmtDate(v.first_seen), undefined, "date"),
      stat("Last updated", fmtDate(v.last_updated), undefined, "date")));
  const tabs = h("nav", { className: "tabs", id: "tabs" }, TABS.map(([id, label]) =>
    h("a", { href: profileHref(image, tag, id), className: id === tab ? "active" : "", dataset: { tab: id } }, label,
      id === "anomalies" && v.pending_anomalies ? h("span", { className: "badge status-pending" }, v.pending_anomalies) : null)));
  const body = h("div", { id: "tab-body" });
  clear(app).append(header, tabs, body);
  const views = { tree: treeView, states: statesView, commonality: chartView, history: historyView, instances: instancesView,
    anomalies: anomaliesView, signals: signalsView, overrides: overridesView };
  (views[tab] || treeView)(body, image, tag, v);
}

function stat(label, value, id, kind) {
  return h("div", { className: "stat" + (kind ? " " + kind : ""), id }, h("div", { className: "label" }, label), h("div", { className: "value" }, value));
}

async function download(image, tag, format) {
  try {
    const doc = await get(versionPath(image, tag) + "/export", { format });
    const blob = new Blob([JSON.stringify(doc, null, 2)], { type: "application/json" });
    const a = h("a", { href: URL.createObjectURL(blob), download: (image + "_" + tag).replace(/[^A-Za-z0-9._-]/g, "_") + (format === "datadog" ? ".security-profile.json" : ".profile.json") });
    document.body.append(a); a.click(); a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 10000);
  } catch (e) { showBanner("Export failed: " + e.message); }
}

// ---------- process tree ----------

function treeView(body, image, tag) {
  const filter = h("input", { type: "text", id: "tree-filter", placeholder: "Filter loaded nodes by path…" });
  const root = h("ul", { className: "tree root", id: "tree" });
  const panel = h("aside", { className: "card side-panel", id: "node-panel", hidden: true });
  const treeCard = h("div", { className: "card" },
    h("div", { className: "row" }, h("strong", {}, "Processes"), h("span", { className: "spacer" }), filter, legend()),
    h("p", { className: "muted small" }, "Expand a process to load its children; click its name for its files, DNS requests, sockets and syscalls. Colours show how common a process is across the version's instances."),
    root);
  const layout = h("div", { className: "tree-layout", id: "tree-layout" }, treeCard, panel);
  clear(body).append(layout);
  loadChildren(root, image, tag, null, panel, layout);
  filter.addEventListener("input", () => applyTreeFilter(root, filter.value.trim().toLowerCase()));
}

async function loadChildren(list, image, tag, parent, panel, layout, cursor) {
  const loading = h("li", { className: "muted small" }, "Loading…");
  list.append(loading);
  try {
    const page = await get(versionPath(image, tag) + "/tree", { parent: parent || undefined, cursor, limit: 200 });
    loading.remove();
    if (!page.items.length && !parent) list.append(h("li", { className: "empty" }, "This version has no process yet."));
    for (const node of page.items) list.append(treeNode(node, image, tag, panel, layout));
    if (page.next_cursor) {
      const more = h("li", {}, h("button", { type: "button", className: "link-more", onclick: () => { more.remove(); loadChildren(list, image, tag, parent, panel, layout, page.next_cursor); } }, "Load more…"));
      list.append(more);
    }
    const f = document.getElementById("tree-filter");
    if (f && f.value.trim()) applyTreeFilter(document.getElementById("tree"), f.value.trim().toLowerCase());
  } catch (e) {
    loading.textContent = "Could not load: " + e.message;
  }
}

function treeNode(node, image, tag, panel, layout) {
  const li = h("li", { className: "tree-node", dataset: { key: node.key } });
  const children = h("ul", { className: "tree", hidden: true });
  let loaded = false;
  const toggle = h("button", { type: "button", className: "toggle", title: node.children ? "Expand" : "No children", disabled: !node.children, "aria-expanded": "false" },
    node.children ? "▸" : "·");
  toggle.addEventListener("click", () => {
    const open = children.hidden;
    children.hidden = !open;
    toggle.textContent = open ? "▾" : "▸";
    toggle.setAttribute("aria-expanded", String(open));
    if (open && !loaded) { loaded = true; loadChildren(children, image, tag, node.key, panel, layout); }
  });
  const name = h("span", { className: "node-name", title: readable(node.key), tabindex: "0" }, node.name);
  const select = () => openNodePanel(panel, layout, image, tag, node.key, li);
  name.addEventListener("click", select);
  name.addEventListener("keydown", (ev) => { if (ev.key === "Enter") select(); });
  li.append(h("div", { className: "tree-row" }, toggle, commonality(node.commonality, "Seen on " + node.instances + " instance(s), in " + node.dumps + " dump(s)"), name,
    h("span", { className: "node-meta" }, node.children ? node.children + (node.children === 1 ? " child" : " children") + " · " + node.descendants + " below" : "")), children);
  return li;
}

// Hides loaded nodes whose path does not contain the text, unless a loaded descendant does.
function applyTreeFilter(root, text) {
  const walk = (li) => {
    const key = (li.dataset.key || "").toLowerCase();
    const own = !text || key.includes(text) || readable(key).toLowerCase().includes(text);
    let below = false;
    const sub = li.querySelector(":scope > ul");
    if (sub) for (const child of sub.querySelectorAll(":scope > li.tree-node")) below = walk(child) || below;
    li.hidden = !(own || below);
    li.firstChild.classList.toggle("match", !!text && own);
    return own || below;
  };
  for (const li of root.querySelectorAll(":scope > li.tree-node")) walk(li);
}

const ACTIVITY_TITLES = { file: "Files", dns: "DNS requests", network: "Sockets", syscall: "Syscalls", capability: "Capabilities" };

async function openNodePanel(panel, layout, image, tag, key, li) {
  for (const el of document.querySelectorAll(".tree-row.selected")) el.classList.remove("selected");
  li.firstChild.classList.add("selected");
  panel.hidden = false;
  layout.classList.add("with-panel");
  clear(panel).append(h("div", { className: "empty" }, "Loading…"));
  let d;
  try { d = await get(versionPath(image, tag) + "/node", { key, limit: 200 }); } catch (e) { return failure(panel, e); }
  const n = d.node;
  clear(panel).append(
    h("button", { type: "button", className: "close", title: "Close", onclick: () => { panel.hidden = true; layout.classList.remove("with-panel"); li.firstChild.classList.remove("selected"); } }, "✕"),
    h("h2", { id: "node-panel-title" }, n.name),
    h("div", { className: "row" }, "Commonality ", commonality(n.commonality), h("span", { className: "muted small" }, "seen on " + n.instances + " instance(s) in " + n.dumps + " dump(s)")),
    h("h3", {}, "Lineage"),
    h("ol", { className: "lineage" }, d.lineage.map((p) => h("li", {}, p))),
    h("dl", { className: "kv" }, h("dt", {}, "First seen"), h("dd", {}, fmtDate(n.first_seen)), h("dt", {}, "Last seen"), h("dd", {}, fmtDate(n.last_seen)),
      h("dt", {}, "Children"), h("dd", {}, num(n.children)), h("dt", {}, "Below"), h("dd", {}, num(n.descendants))));
  const types = Object.keys(ACTIVITY_TITLES).filter((t) => d.activities[t] && d.activities[t].length);
  if (!types.length) panel.append(h("p", { className: "muted" }, "No file, DNS, socket or syscall activity recorded for this process."));
  for (const t of types) {
    const rows = d.activities[t].map((a) => h("tr", {},
      h("td", { className: "wrap mono" }, readable(a.activity), a.is_pattern ? h("span", { className: "badge", title: "A pattern mined from the profile" }, " pattern") : null),
      h("td", {}, commonality(a.commonality)), h("td", { className: "num" }, num(a.instances)), h("td", { className: "num" }, num(a.dumps))));
    panel.append(h("h3", {}, ACTIVITY_TITLES[t] + " (" + rows.length + (d.truncated.includes(t) ? "+, most common first" : "") + ")"),
      h("table", { className: "activities", dataset: { type: t } },
        h("thead", {}, h("tr", {}, h("th", {}, "Activity"), h("th", {}, "Commonality"), h("th", { className: "num" }, "Inst."), h("th", { className: "num" }, "Dumps"))),
        h("tbody", {}, rows)));
  }
}

// ---------- model states ----------

function statesView(body, image, tag, v) {
  const rows = v.event_types.map((e) => h("tr", { dataset: { type: e.event_type } },
    h("td", {}, h("strong", {}, e.event_type)), h("td", {}, stateBadge(e.state)), h("td", { className: "num" }, num(e.nodes)),
    h("td", { className: "num" }, pct(e.coverage)), h("td", { className: "num" }, pct(e.novelty)), h("td", {}, commonality(e.commonality)),
    h("td", {}, e.state === "stable" ? fmtDuration(e.time_to_stable_seconds) : e.eta_seconds !== undefined ? "≈ " + fmtDuration(e.eta_seconds) + " more" : e.dumps_to_stable !== undefined ? "≈ " + e.dumps_to_stable + " dumps more" : "—"),
    h("td", {}, fmtDate(e.learning_since), h("br"), h("span", { className: "muted small" }, e.stable_since ? "stable " + fmtDate(e.stable_since) : "")),
    h("td", { className: "wrap" }, e.reason || h("span", { className: "muted" }, "no transition yet"), evidence(e.evidence))));
  clear(body).append(h("div", { className: "card" },
    h("p", { className: "muted" }, "Each event type learns on its own: it turns stable once enough dumps and instances were seen, few new nodes appear (novelty) and the estimated coverage is high; new behaviour of a stable type is an anomaly."),
    v.event_types.length ? h("table", { id: "states" },
      h("thead", {}, h("tr", {}, ["Event type", "State", "Nodes", "Coverage", "Novelty", "Commonality", "Time to stable", "Learning since", "Reason and evidence"].map((t) => h("th", {}, t)))),
      h("tbody", {}, rows)) : h("div", { className: "empty" }, "No event type yet.")));
}

// The transition's numbers on one line: "dumps 6 · instances 5 · coverage 0.76 · quiet 1 h 40 min".
function evidence(ev) {
  if (!ev || typeof ev !== "object") return null;
  const items = Object.entries(ev).map(([k, val]) => {
    const shown = typeof val === "number" && /Nanoseconds$/.test(k) ? fmtDuration(val / 1e9)
      : typeof val === "number" && !Number.isInteger(val) ? String(Math.round(val * 1e4) / 1e4) : JSON.stringify(val);
    return k.replace(/Nanoseconds$/, "") + " " + shown;
  });
  return h("div", { className: "muted small evidence" }, items.join(" · "));
}

// ---------- commonality over time ----------

async function chartView(body, image, tag) {
  const card = h("div", { className: "card chart", id: "commonality-chart" }, h("div", { className: "empty" }, "Loading…"));
  clear(body).append(card);
  let series;
  try { series = await get(versionPath(image, tag) + "/commonality", { points: 300 }); } catch (e) { return failure(card, e); }
  clear(card).append(h("p", { className: "muted" }, "The version's Behavior Commonality after each merged dump (by number of dumps merged). It moves as instances join and as the workload changes."));
  if (!series.points.length) { card.append(h("div", { className: "empty" }, "No merge recorded yet.")); return; }
  card.append(lineChart(series.points));
}

// x: the merge (dumps merged so far), since one merge batch stores many dumps at one time;
// the axis also names the times of the first, middle and last point.
function lineChart(points) {
  const W = 800, H = 280, L = 48, R = 16, T = 12, B = 44;
  const n0 = points[0].dumps_merged, n1 = Math.max(points[points.length - 1].dumps_merged, n0 + 1);
  const x = (n) => L + (W - L - R) * (n - n0) / (n1 - n0);
  const y = (c) => T + (H - T - B) * (1 - c);
  const svg = s("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": "Behavior commonality after each merged dump" });
  for (const g of [0, 0.25, 0.5, 0.75, 1]) {
    svg.append(s("line", { x1: L, x2: W - R, y1: y(g), y2: y(g), class: "grid" }), s("text", { x: L - 6, y: y(g) + 4, "text-anchor": "end" }, Math.round(g * 100) + " %"));
  }
  svg.append(s("line", { x1: L, x2: L, y1: T, y2: H - B, class: "axis" }), s("line", { x1: L, x2: W - R, y1: H - B, y2: H - B, class: "axis" }));
  const ticks = [points[0], points[Math.floor((points.length - 1) / 2)], points[points.length - 1]];
  ticks.forEach((p, i) => {
    const anchor = i === 0 ? "start" : i === 2 ? "end" : "middle";
    svg.append(s("text", { x: x(p.dumps_merged), y: H - B + 16, "text-anchor": anchor }, p.dumps_merged + (i === 0 ? " dumps" : "")),
      s("text", { x: x(p.dumps_merged), y: H - B + 30, "text-anchor": anchor }, fmtDate(p.at)));
  });
  svg.append(s("polyline", { class: "line", points: points.map((p) => `${x(p.dumps_merged).toFixed(1)},${y(p.commonality).toFixed(1)}`).join(" ") }));
  for (const p of points) {
    svg.append(s("circle", { class: "point", cx: x(p.dumps_merged).toFixed(1), cy: y(p.commonality).toFixed(1), r: 3 },
      s("title", {}, `${pct(p.commonality)} after ${p.dumps_merged} dumps (${fmtDate(p.at)})`)));
  }
  return svg;
}

// ---------- history ----------

function historyView(body, image, tag) {
  const card = h("div", { className: "card", id: "history" });
  clear(body).append(card);
  const cursors = [];
  const load = async (cursor) => {
    clear(card).append(h("div", { className: "empty" }, "Loading…"));
    let page;
    try { page = await get(versionPath(image, tag) + "/history", { cursor, limit: 50 }); } catch (e) { return failure(card, e); }
    clear(card);
    if (!page.items.length) { card.append(h("div", { className: "empty" }, "No history yet.")); return; }
    card.append(h("table", {}, h("thead", {}, h("tr", {}, ["When", "What", "Event type", "Detail", "By"].map((t) => h("th", {}, t)))),
      h("tbody", {}, page.items.map((e) => h("tr", {}, h("td", {}, fmtDate(e.at)), h("td", {}, h("span", { className: "badge" }, e.kind.replace(/_/g, " "))),
        h("td", {}, e.event_type || ""), h("td", { className: "wrap" }, e.detail), h("td", {}, e.by || ""))))),
    pager(cursors.length > 0, page.next_cursor, () => load(cursors.pop()), () => { cursors.push(cursor); load(page.next_cursor); }));
  };
  load(undefined);
}

// ---------- instances and dumps ----------

function instancesView(body, image, tag) {
  const inst = h("div", { className: "card", id: "instances" });
  const dumps = h("div", { className: "card", id: "dumps" });
  clear(body).append(h("h2", {}, "Instances (containers)"), inst, h("h2", {}, "Activity dumps merged"), dumps);
  pagedTable(inst, versionPath(image, tag) + "/instances", ["Instance", "Hosts", "Dumps", "First seen", "Last seen"],
    (i) => [h("td", { className: "wrap mono" }, i.instance_id), h("td", { className: "wrap" }, i.hosts.join(", ")), h("td", { className: "num" }, num(i.dumps)), h("td", {}, fmtDate(i.first_seen)), h("td", {}, fmtDate(i.last_seen))]);
  pagedTable(dumps, versionPath(image, tag) + "/dumps", ["Dump", "Instance", "Host / service", "Window", "Nodes", "New", "Commonality after", "Merged"],
    (d) => [h("td", { className: "wrap mono" }, d.dump_id, d.warming_up ? h("span", { className: "badge", title: "within the container's warm-up" }, " warm-up") : null),
      h("td", { className: "wrap mono" }, d.instance_id), h("td", { className: "wrap" }, [d.host, d.service, d.cluster, d.namespace].filter(Boolean).join(" · ")),
      h("td", {}, fmtDate(d.dump_start), " – ", fmtDate(d.dump_end)), h("td", { className: "num" }, num(d.node_count)), h("td", { className: "num" }, num(d.new_nodes)),
      h("td", {}, d.version_commonality !== undefined ? commonality(d.version_commonality) : "—"), h("td", {}, fmtDate(d.merged_at))]);
}

function pagedTable(card, path, headings, cells, params) {
  const cursors = [];
  const load = async (cursor) => {
    clear(card).append(h("div", { className: "empty" }, "Loading…"));
    let page;
    try { page = await get(path, Object.assign({}, params || {}, { cursor, limit: 50 })); } catch (e) { return failure(card, e); }
    clear(card);
    if (!page.items.length) { card.append(h("div", { className: "empty" }, "None.")); return; }
    card.append(h("table", {}, h("thead", {}, h("tr", {}, headings.map((t) => h("th", {}, t)))),
      h("tbody", {}, page.items.map((item) => h("tr", {}, cells(item, () => load(cursor)))))),
    pager(cursors.length > 0, page.next_cursor, () => load(cursors.pop()), () => { cursors.push(cursor); load(page.next_cursor); }));
  };
  load(undefined);
}

// ---------- anomalies ----------

function anomaliesView(body, image, tag) {
  const status = h("select", { id: "anomaly-status" }, ["pending", "accepted", "dismissed", ""].map((v) => h("option", { value: v }, v || "all")));
  const card = h("div", { className: "card", id: "anomalies" });
  clear(body).append(h("div", { className: "row" }, h("p", { className: "muted" }, "Behaviour a stable event type had never seen. Accept it to add it to the profile (profile-merger learns it), or dismiss it."),
    h("span", { className: "spacer" }), h("label", {}, "Status ", status)), card);
  const draw = () => pagedTable(card, "/anomalies", ["Recorded", "Type", "Process", "Activity", "Instance", "Status", ""], (a, reload) => [
    h("td", {}, fmtDate(a.recorded_at)), h("td", {}, a.event_type),
    h("td", { className: "wrap mono" }, a.lineage.join(" › ")), h("td", { className: "wrap mono" }, a.activity || "—"),
    h("td", { className: "wrap mono" }, a.instance_id),
    h("td", {}, statusBadge(a.status), a.decided_by ? h("div", { className: "muted small" }, "by " + a.decided_by + ", " + fmtDate(a.decided_at)) : null),
    h("td", {}, a.status === "pending" && canWrite() ? h("div", { className: "row" },
      h("button", { type: "button", className: "primary", onclick: () => decide("/anomalies/" + encodeURIComponent(a.anomaly_id) + "/accept", reload, "Anomaly accepted: profile-merger will add it to the profile.") }, "Accept"),
      h("button", { type: "button", onclick: () => decide("/anomalies/" + encodeURIComponent(a.anomaly_id) + "/dismiss", reload, "Anomaly dismissed.") }, "Dismiss")) : null)],
  { image, tag, status: status.value });
  status.addEventListener("change", draw);
  draw();
}

async function decide(path, reload, message) {
  try {
    await api("POST", path);
    showBanner(message, "info");
    reload();
  } catch (e) { showBanner(e.status === 403 ? "Your token is read-only: this needs a write token." : e.message); }
}

// ---------- signals and suggestions ----------

function signalsView(body, image, tag) {
  const list = h("div", { id: "signals" });
  clear(body).append(h("p", { className: "muted" }, "Security signals seen for this version, one entry per rule and process-tree node, with the profile context of the last one. When a signal matched common, known behaviour of a stable profile, a suppression suggestion is offered."), list);
  const cursors = [];
  const load = async (cursor) => {
    clear(list).append(h("div", { className: "card empty" }, "Loading…"));
    let page;
    try { page = await get(versionPath(image, tag) + "/signals", { cursor, limit: 25 }); } catch (e) { return failure(list, e); }
    clear(list);
    if (!page.items.length) { list.append(h("div", { className: "card empty" }, "No signal seen for this version.")); return; }
    for (const sig of page.items) list.append(signalCard(sig, () => load(cursor)));
    list.append(pager(cursors.length > 0, page.next_cursor, () => load(cursors.pop()), () => { cursors.push(cursor); load(page.next_cursor); }));
  };
  load(undefined);
}

function signalCard(sig, reload) {
  const ctx = sig.last_enrichment || {};
  const node = ctx.node || null;
  const card = h("div", { className: "card signal" + (sig.anomalous ? " anomalous" : sig.suppressed ? " suppressed" : ""), dataset: { rule: sig.rule_id } },
    h("div", { className: "row" }, h("strong", {}, sig.rule_id), h("span", { className: "badge" }, sig.event_type), h("span", { className: "badge" }, "match: " + sig.match),
      ctx.in_profile ? h("span", { className: "badge state-stable" }, "in profile") : h("span", { className: "badge state-unstable" }, "not in profile"),
      h("span", { className: "spacer" }),
      h("span", { className: "muted small" }, num(sig.signals) + " signals · " + num(sig.suppressed) + " suppressed · " + num(sig.anomalous) + " anomalous")),
    h("div", { className: "mono wrap small" }, sig.node_key === "*" ? "(other nodes of this rule)" : readable(sig.node_key)),
    h("p", {}, ctx.explanation || ""),
    h("dl", { className: "kv" },
      h("dt", {}, "Seen"), h("dd", {}, fmtDate(sig.first_seen), " – ", fmtDate(sig.last_seen)),
      ctx.profile_state ? [h("dt", {}, "Profile"), h("dd", {}, stateBadge(ctx.profile_state), " ", ctx.event_type ? ctx.event_type + " baseline " : "", ctx.event_type_state ? stateBadge(ctx.event_type_state) : "")] : null,
      node ? [h("dt", {}, "Node commonality"), h("dd", {}, commonality(node.commonality), " on " + node.instances + " of " + (ctx.instances || "?") + " instances")] : null,
      ctx.profile_commonality !== undefined ? [h("dt", {}, "Profile commonality"), h("dd", {}, commonality(ctx.profile_commonality))] : null,
      ctx.suppression_id ? [h("dt", {}, "Suppressed by"), h("dd", { className: "mono" }, ctx.suppression_id)] : null));
  if (sig.suggestion_id) {
    const box = h("div", { className: "suggestion", dataset: { suggestion: sig.suggestion_id } }, h("span", { className: "muted" }, "Loading suggestion…"));
    card.append(box);
    drawSuggestion(box, sig.suggestion_id, reload);
  }
  return card;
}

async function drawSuggestion(box, id, reload) {
  let sug;
  try { sug = await get("/suggestions/" + encodeURIComponent(id)); } catch (e) { return clear(box).append("Suggestion " + id + ": " + e.message); }
  const ev = sug.evidence || {};
  clear(box).append(h("div", { className: "row" }, h("strong", {}, "Suppression suggestion"), statusBadge(sug.status),
    sug.decided_by ? h("span", { className: "muted small" }, "by " + sug.decided_by + ", " + fmtDate(sug.decided_at)) : null),
    h("p", {}, ev.explanation || ""),
    h("div", { className: "muted small" }, "Suppression query for rule " + sug.rule_id + ":"),
    h("code", {}, sug.query));
  const result = h("div", { className: "suppression-result" });
  if (sug.status !== "accepted" && canWrite()) {
    const accept = h("button", { type: "button", className: "primary accept-suggestion" }, "Suppress Signals");
    accept.addEventListener("click", async () => {
      accept.disabled = true;
      try {
        const sup = await api("POST", "/suggestions/" + encodeURIComponent(id) + "/accept");
        showBanner("Suppression " + sup.suppression_id + " added to rule " + sup.rule_id + "; signal-enricher applies it at its next refresh.", "info");
        reload();
      } catch (e) { accept.disabled = false; showBanner(e.status === 403 ? "Your token is read-only: this needs a write token." : e.message); }
    });
    const dismiss = h("button", { type: "button" }, "Dismiss");
    dismiss.addEventListener("click", () => decide("/suggestions/" + encodeURIComponent(id) + "/dismiss", reload, "Suggestion dismissed."));
    box.append(h("div", { className: "row" }, accept, sug.status === "open" ? dismiss : null));
  } else if (sug.status === "accepted") {
    result.append(h("span", { className: "badge status-accepted" }, "Suppression added"), " ", h("a", { href: "#/suppressions" }, "see suppressions"));
  } else {
    result.append(h("span", { className: "muted small" }, "A write token can accept this suggestion."));
  }
  box.append(result);
}

// ---------- suppressions ----------

function renderSuppressions() {
  const card = h("div", { className: "card", id: "suppressions" });
  clear(app).append(h("h1", {}, "Suppressions"), h("p", { className: "muted" }, "Accepted suggestions: signals of the rule matching the node are marked suppressed. Disable one to stop it."), card);
  pagedTable(card, "/suppressions", ["Suppression", "Rule", "Image", "Query", "Hits", "Created", "Active", ""], (x, reload) => [
    h("td", { className: "mono" }, x.suppression_id), h("td", {}, x.rule_id), h("td", { className: "wrap" }, x.image_name),
    h("td", { className: "wrap mono small" }, x.query), h("td", { className: "num" }, num(x.hits), x.last_hit_at ? h("div", { className: "muted small" }, fmtDate(x.last_hit_at)) : null),
    h("td", {}, fmtDate(x.created_at), h("div", { className: "muted small" }, "by " + x.created_by)),
    h("td", {}, x.active ? h("span", { className: "badge status-accepted" }, "active") : h("span", { className: "badge status-dismissed" }, "disabled")),
    h("td", {}, canWrite() ? h("button", { type: "button", onclick: () => decide("/suppressions/" + encodeURIComponent(x.suppression_id) + (x.active ? "/disable" : "/enable"), reload, x.active ? "Suppression disabled." : "Suppression enabled.") }, x.active ? "Disable" : "Enable") : null)]);
}

// ---------- overrides ----------

const OVERRIDE_FIELDS = [
  ["max_novelty", "Max novelty", "0–1: share of new nodes a type may still show to turn stable", "any"],
  ["min_dumps", "Min dumps", "dumps before a type may turn stable", "1"],
  ["min_instances", "Min instances", "instances before a type may turn stable", "1"],
  ["min_quiet_seconds", "Min quiet (s)", "seconds without a new node before stable", "1"],
  ["max_learning_seconds", "Max learning (s)", "after this, a type that is still changing is unstable", "1"],
  ["node_cap", "Node cap", "most nodes a version keeps", "1"],
];

async function overridesView(body, image) {
  const card = h("div", { className: "card", id: "overrides" }, h("div", { className: "empty" }, "Loading…"));
  clear(body).append(card);
  let o;
  try { o = await get("/profiles/" + encodeURIComponent(image) + "/overrides"); } catch (e) { return failure(card, e); }
  const inputs = {};
  const rows = OVERRIDE_FIELDS.map(([key, label, help, step]) => {
    inputs[key] = h("input", { type: "number", name: key, id: "override-" + key, step, min: "0", value: o.settings[key] !== undefined ? String(o.settings[key]) : "", placeholder: "default", disabled: !canWrite() });
    return [h("label", { for: "override-" + key }, label), inputs[key], h("span", { className: "muted small" }, help)];
  });
  const form = h("form", {}, h("div", { className: "form-grid" }, rows),
    canWrite() ? h("p", {}, h("button", { type: "submit", className: "primary" }, "Save overrides"), " ", h("span", { className: "muted small" }, "Empty fields use the service default. profile-merger applies a change from its next merge of this image.")) :
      h("p", { className: "muted small" }, "A write token can change these."));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const settings = {};
    for (const [key] of OVERRIDE_FIELDS) {
      const raw = inputs[key].value.trim();
      if (raw !== "") settings[key] = Number(raw);
    }
    try {
      await api("PUT", "/profiles/" + encodeURIComponent(image) + "/overrides", settings);
      showBanner("Overrides saved for " + image + ".", "info");
      overridesView(body, image);
    } catch (e) { showBanner(e.status === 403 ? "Your token is read-only: this needs a write token." : e.message); }
  });
  clear(card).append(h("p", { className: "muted" }, "Learning overrides apply to every version of ", h("strong", {}, image), "."),
    o.updated_at ? h("p", { className: "small" }, "Last changed by " + (o.updated_by || "?") + ", " + fmtDate(o.updated_at)) : h("p", { className: "small muted" }, "No override set: the service defaults apply."),
    form);
}

route();
