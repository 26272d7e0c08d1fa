// Shadowplane console: reads the admin API (the same JSON the CLI reads) and follows
// GET /api/v1/events (server-sent events) to stay current without reloading.
// No framework and no build step; every value from the server goes in with textContent.
"use strict";

const TYPES = ["LDS", "RDS", "CDS", "EDS", "RTDS"];
const TYPE_URLS = {
  "type.googleapis.com/envoy.config.listener.v3.Listener": "listener",
  "type.googleapis.com/envoy.config.route.v3.RouteConfiguration": "route",
  "type.googleapis.com/envoy.config.cluster.v3.Cluster": "cluster",
  "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment": "endpoint",
  "type.googleapis.com/envoy.service.runtime.v3.Runtime": "runtime",
};
const STATE_ORDER = { NACK: 0, STALE: 1, "NOT SENT": 2, SYNCED: 3 };

const app = {
  token: sessionStorage.getItem("shadowplane-token") || "",
  lastEventID: 0,
  refreshTimer: null,
  rendering: false,
  renderAgain: false,
  filter: { text: "", state: "" },
  diff: { from: "", to: "" },
  // After a fraction change: the revision it made, the RTDS pushes of that revision or later
  // (stream id -> version) and the streams that ACKed them.
  confirmation: null,
  // The newest events, for a confirmation that starts after its pushes streamed in.
  recentEvents: [],
};

// ---- DOM helpers ------------------------------------------------------------------------

function h(tag, attributes, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else if (value === true) element.setAttribute(name, "");
    else element.setAttribute(name, String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

function table(caption, headers, rows, attributes) {
  return h("div", { class: "table-wrap" },
    h("table", attributes || {},
      h("caption", {}, caption),
      h("thead", {}, h("tr", {}, headers.map((header) => h("th", { scope: "col" }, header)))),
      h("tbody", {}, rows.length ? rows
        : h("tr", {}, h("td", { colspan: headers.length, class: "muted" }, "None")))));
}

function stateBadge(state) {
  return h("span", { class: "state state-" + state.replace(" ", "-") }, state);
}

// `key` names the details across refreshes, so an open one stays open.
function jsonDetails(value, key) {
  return h("details", { "data-key": key }, h("summary", {}, "JSON"),
    h("pre", {}, JSON.stringify(value, null, 2)));
}

function shortVersion(version) {
  return version ? String(version).slice(0, 8) : "";
}

function timeText(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  return isNaN(date) ? iso : date.toLocaleString();
}

function percentText(value) {
  if (value === null || value === undefined || isNaN(value)) return "?";
  return (Math.round(value * 10000) / 10000) + "%";
}

function showAlert(message) {
  const alert = document.getElementById("alert");
  alert.textContent = message || "";
  alert.hidden = !message;
}

// ---- the admin API ----------------------------------------------------------------------

class APIError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

function authHeaders(extra) {
  const headers = Object.assign({}, extra || {});
  if (app.token) headers.Authorization = "Bearer " + app.token;
  return headers;
}

async function api(path, options) {
  const init = Object.assign({}, options || {});
  init.headers = authHeaders(init.headers);
  const response = await fetch(path, init);
  const text = await response.text();
  let body = null;
  try { body = text ? JSON.parse(text) : null; } catch (error) { body = text; }
  if (response.status === 401) askForToken();
  if (!response.ok) {
    let message = response.status + " " + response.statusText;
    if (body && body.error) message = body.error;
    else if (body && body.errors) message = body.errors.map((e) => e.message || JSON.stringify(e)).join("; ");
    else if (body && body.message) message = body.message;
    throw new APIError(response.status, message);
  }
  return body;
}

function askForToken() {
  const form = document.getElementById("token-form");
  if (form.hidden) {
    form.hidden = false;
    document.getElementById("token").focus();
  }
}

// ---- Envoy resources (proto3 JSON, as /api/v1/nodes/NODE/config and /api/v1/resources) --

function resourcesByKind(document) {
  const kinds = { listener: [], route: [], cluster: [], endpoint: [], runtime: [] };
  for (const resource of (document && document.resources) || []) {
    const kind = TYPE_URLS[resource["@type"]];
    if (kind) kinds[kind].push(resource);
  }
  return kinds;
}

function runtimeValues(kinds) {
  const values = {};
  for (const runtime of kinds.runtime) Object.assign(values, runtime.layer || {});
  return values;
}

const DENOMINATORS = { HUNDRED: 100, TEN_THOUSAND: 10000, MILLION: 1000000 };

function fractionPercent(fractional) {
  const numerator = Number((fractional && fractional.numerator) || 0);
  const denominator = DENOMINATORS[(fractional && fractional.denominator) || "HUNDRED"] || 100;
  return Math.min(100, numerator * 100 / denominator);
}

// A runtime value as Envoy reads it for a fractional percent: a number is whole percent
// (rounded down), a string N/NAME (or a {numerator, denominator} struct) a fraction.
function runtimePercent(value) {
  if (value === undefined || value === null) return null;
  if (typeof value === "number") return Math.min(100, Math.floor(value));
  if (typeof value === "object") return fractionPercent(value);
  const text = String(value).trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.min(100, Math.floor(Number(text)));
  const match = /^(\d+)\s*\/\s*(HUNDRED|TEN_THOUSAND|MILLION)$/.exec(text);
  if (match) return Math.min(100, Number(match[1]) * 100 / DENOMINATORS[match[2]]);
  return null;
}

function mirrorPolicies(route, values) {
  const action = route.route || {};
  return (action.requestMirrorPolicies || []).map((policy) => {
    const fraction = policy.runtimeFraction;
    const configured = fraction ? fractionPercent(fraction.defaultValue) : 100;
    const key = fraction && fraction.runtimeKey;
    const override = key ? runtimePercent(values[key]) : null;
    return {
      cluster: policy.cluster || (policy.clusterHeader ? "header " + policy.clusterHeader : "?"),
      configured: configured,
      key: key || "",
      effective: override === null ? configured : override,
      overridden: override !== null,
    };
  });
}

function matchText(match) {
  if (!match) return "*";
  let text = "*";
  if (match.prefix !== undefined) text = match.prefix + "*";
  else if (match.path !== undefined) text = match.path;
  else if (match.safeRegex) text = "regex " + match.safeRegex.regex;
  else if (match.pathSeparatedPrefix !== undefined) text = match.pathSeparatedPrefix + "/*";
  const headers = (match.headers || []).map((header) => (header.invertMatch ? "!" : "") + header.name);
  if (headers.length) text += " [headers: " + headers.join(", ") + "]";
  return text;
}

function destinationText(route) {
  if (route.directResponse) return "direct response " + (route.directResponse.status || "");
  if (route.redirect) return "redirect";
  const action = route.route || {};
  if (action.cluster) return action.cluster;
  if (action.clusterHeader) return "cluster from header " + action.clusterHeader;
  if (action.weightedClusters) {
    const clusters = action.weightedClusters.clusters || [];
    const total = clusters.reduce((sum, cluster) => sum + Number(cluster.weight || 0), 0);
    return clusters.map((cluster) => cluster.name + " " +
      (total ? percentText(Number(cluster.weight || 0) * 100 / total) : "?")).join(", ");
  }
  return "";
}

function routeRows(kinds, values) {
  const rows = [];
  for (const configuration of kinds.route) {
    for (const host of configuration.virtualHosts || []) {
      for (const [index, route] of (host.routes || []).entries()) {
        rows.push({ configuration, host, route, index, mirrors: mirrorPolicies(route, values) });
      }
    }
  }
  return rows;
}

function socketText(address) {
  const socket = address && address.socketAddress;
  if (socket) return (socket.address || "") + ":" + (socket.portValue || "");
  if (address && address.pipe) return "unix:" + address.pipe.path;
  return "";
}

function listenerTarget(listener) {
  const targets = [];
  for (const chain of listener.filterChains || []) {
    for (const filter of chain.filters || []) {
      const config = filter.typedConfig || {};
      if (config.rds && config.rds.routeConfigName) targets.push(config.rds.routeConfigName);
      else if (config.routeConfig) targets.push("inline " + (config.routeConfig.name || "route"));
      else if (config.cluster) targets.push("cluster " + config.cluster);
    }
  }
  const api = listener.apiListener && listener.apiListener.apiListener;
  if (api && api.rds) targets.push(api.rds.routeConfigName);
  return targets.join(", ");
}

// ---- views ------------------------------------------------------------------------------

function streamState(stream) {
  let worst = "SYNCED";
  for (const type of TYPES) {
    const status = stream.types && stream.types[type];
    if (!status) continue;
    if (STATE_ORDER[status.state] < STATE_ORDER[worst]) worst = status.state;
  }
  return worst;
}

async function renderProxies(view) {
  const streams = await api("/api/v1/status");
  const text = app.filter.text.toLowerCase();
  const shown = streams.filter((stream) =>
    (!text || stream.nodeID.toLowerCase().includes(text) || (stream.nodeCluster || "").toLowerCase().includes(text)) &&
    (!app.filter.state || streamState(stream) === app.filter.state ||
      TYPES.some((type) => stream.types[type] && stream.types[type].state === app.filter.state)));
  const filterText = h("input", { id: "filter-text", type: "search", value: app.filter.text,
    oninput: (event) => { app.filter.text = event.target.value; scheduleRefresh(0); } });
  const stateSelect = h("select", { id: "filter-state",
    onchange: (event) => { app.filter.state = event.target.value; scheduleRefresh(0); } },
    ["", "SYNCED", "STALE", "NOT SENT", "NACK"].map((state) =>
      h("option", { value: state, selected: state === app.filter.state }, state || "Any")));
  const rows = shown.map((stream) => h("tr", { "data-node": stream.nodeID, "data-stream": stream.streamID },
    h("th", { scope: "row" }, h("a", { href: "#/proxy/" + encodeURIComponent(stream.nodeID) }, stream.nodeID)),
    h("td", {}, stream.nodeCluster),
    h("td", {}, stream.streamKind + " " + (stream.variant === "DELTA" || stream.variant === "delta" ? "delta" : stream.variant)),
    TYPES.map((type) => {
      const status = stream.types[type];
      if (!status) return h("td", { "data-type": type, class: "muted" }, "-");
      return h("td", { "data-type": type, "data-state": status.state },
        stateBadge(status.state), " ",
        h("span", { class: "mono", title: status.sentVersion || "" }, shortVersion(status.sentVersion || status.ackedVersion)),
        status.state === "NACK" && status.lastNack
          ? h("div", { class: "nack-message" }, status.lastNack.message) : null);
    }),
    h("td", {}, stream.userAgent),
    h("td", { class: "mono" }, stream.peer),
    h("td", {}, timeText(stream.connectedSince))));
  view.replaceChildren(
    h("h2", {}, "Proxies"),
    h("div", { class: "filters", role: "search" },
      h("label", { for: "filter-text" }, "Filter by node or cluster", filterText),
      h("label", { for: "filter-state" }, "State", stateSelect),
      h("p", { class: "muted", id: "proxy-count" }, shown.length + " of " + streams.length + " streams")),
    table("Every connected xDS client and where each resource type stands",
      ["Node", "Cluster", "Stream", ...TYPES, "User agent", "Peer", "Connected since"], rows,
      { id: "proxies" }));
}

async function renderProxy(view, node) {
  const [streams, document] = await Promise.all([
    api("/api/v1/status/" + encodeURIComponent(node)),
    api("/api/v1/nodes/" + encodeURIComponent(node) + "/config").catch((error) => {
      if (error.status === 404) return null;
      throw error;
    }),
  ]);
  const kinds = resourcesByKind(document);
  const values = runtimeValues(kinds);
  const routes = routeRows(kinds, values);
  view.replaceChildren(
    h("h2", {}, "Proxy ", h("span", { class: "mono" }, node)),
    h("p", {}, h("a", { href: "#/proxies" }, "All proxies")),
    table("Streams of this node", ["Stream", "Kind", ...TYPES, "Connected since"],
      streams.map((stream) => h("tr", {},
        h("td", { class: "num" }, stream.streamID),
        h("td", {}, stream.streamKind + " " + stream.variant),
        TYPES.map((type) => h("td", {}, stream.types[type] ? stateBadge(stream.types[type].state) : "-")),
        h("td", {}, timeText(stream.connectedSince))))),
    document ? [] : h("p", { class: "muted" }, "No snapshot is served to this node."),
    h("h3", {}, "Listeners"),
    table("Listeners", ["Name", "Address", "Routes to", "Envoy JSON"],
      kinds.listener.map((listener) => h("tr", {},
        h("td", {}, listener.name),
        h("td", { class: "mono" }, listener.apiListener ? "(api listener)" : socketText(listener.address)),
        h("td", {}, listenerTarget(listener)),
        h("td", {}, jsonDetails(listener, "listener:" + listener.name))))),
    h("h3", {}, "Routes"),
    table("Routes", ["Route configuration", "Virtual host", "Domains", "Match", "Destinations", "Mirrors", "Envoy JSON"],
      routes.map((row) => h("tr", { "data-route": row.configuration.name },
        h("td", {}, row.configuration.name),
        h("td", {}, row.host.name),
        h("td", {}, (row.host.domains || []).join(", ")),
        h("td", { class: "mono" }, matchText(row.route.match)),
        h("td", {}, destinationText(row.route)),
        h("td", {}, row.mirrors.map((mirror) => h("div", {},
          mirror.cluster + " " + percentText(mirror.effective),
          mirror.overridden ? " (configured " + percentText(mirror.configured) + ")" : "",
          mirror.key ? h("div", { class: "muted mono" }, "runtime " + mirror.key) : null))),
        h("td", {}, jsonDetails(row.route, "route:" + row.configuration.name + ":" + row.host.name + ":" + row.index))))),
    h("h3", {}, "Clusters"),
    table("Clusters", ["Name", "Type", "Load balancing", "Connect timeout", "Envoy JSON"],
      kinds.cluster.map((cluster) => h("tr", {},
        h("td", {}, cluster.name),
        h("td", {}, cluster.type || (cluster.edsClusterConfig ? "EDS" : "STATIC")),
        h("td", {}, cluster.lbPolicy || "ROUND_ROBIN"),
        h("td", {}, cluster.connectTimeout || ""),
        h("td", {}, jsonDetails(cluster, "cluster:" + cluster.name))))),
    h("h3", {}, "Endpoints"),
    table("Endpoints", ["Cluster", "Endpoint", "Weight", "Envoy JSON"],
      endpointRows(kinds)),
    h("h3", {}, "Runtime"),
    table("Runtime layers", ["Layer", "Values"],
      kinds.runtime.map((runtime) => h("tr", {},
        h("td", {}, runtime.name),
        h("td", {}, h("pre", {}, JSON.stringify(runtime.layer || {}, null, 2)))))));
}

function endpointRows(kinds) {
  const assignments = kinds.endpoint.map((assignment) => [assignment.clusterName, assignment]).concat(
    kinds.cluster.filter((cluster) => cluster.loadAssignment).map((cluster) => [cluster.name, cluster.loadAssignment]));
  const rows = [];
  for (const [cluster, assignment] of assignments) {
    const endpoints = (assignment.endpoints || []).flatMap((group) => group.lbEndpoints || []);
    if (!endpoints.length) rows.push(h("tr", {}, h("td", {}, cluster), h("td", { class: "muted" }, "(none)"), h("td", {}), h("td", {}, jsonDetails(assignment, "endpoint:" + cluster))));
    endpoints.forEach((endpoint, index) => rows.push(h("tr", {},
      h("td", {}, cluster),
      h("td", { class: "mono" }, socketText(endpoint.endpoint && endpoint.endpoint.address)),
      h("td", { class: "num" }, endpoint.loadBalancingWeight || 1),
      h("td", {}, index === 0 ? jsonDetails(assignment, "endpoint:" + cluster) : ""))));
  }
  return rows;
}

async function renderPushes(view) {
  const page = await api("/api/v1/history?limit=50");
  const entries = (page.entries || []).slice().reverse();
  const revisions = Array.from(new Set(entries.map((entry) => entry.configRevision))).sort((a, b) => a - b);
  if (!app.diff.to && revisions.length) app.diff.to = String(revisions[revisions.length - 1]);
  if (!app.diff.from && revisions.length) app.diff.from = String(revisions[Math.max(0, revisions.length - 2)]);
  const options = (selected) => revisions.map((revision) =>
    h("option", { value: revision, selected: String(revision) === selected }, "revision " + revision));
  const diffResult = h("div", { id: "diff-result", "aria-live": "polite" });
  const timeline = h("ol", { class: "timeline", id: "timeline", "aria-label": "Pushed revisions, newest first" },
    entries.map((entry) => {
      const byState = { ACK: 0, NACK: 0, PENDING: 0 };
      let bytes = 0;
      let slowest = null;
      const nacks = [];
      const nodes = new Set();
      for (const push of entry.nodes) {
        byState[push.state] = (byState[push.state] || 0) + 1;
        bytes += push.bytes;
        nodes.add(push.node);
        if (push.answerMilliseconds !== undefined && push.answerMilliseconds !== null)
          slowest = Math.max(slowest || 0, push.answerMilliseconds);
        if (push.state === "NACK") nacks.push(push);
      }
      const count = (action) => entry.changes.filter((change) => change.action === action).length;
      return h("li", { "data-revision": entry.configRevision },
        h("h3", {}, "Revision " + entry.configRevision, h("span", { class: "muted" }, " · " + timeText(entry.time))),
        h("p", {},
          h("span", { class: "added" }, "+" + count("added") + " added"), " · ",
          h("span", { class: "changed" }, "~" + count("changed") + " changed"), " · ",
          h("span", { class: "removed" }, "−" + count("removed") + " removed")),
        entry.changes.length ? h("details", { "data-key": "changes:" + entry.id }, h("summary", {}, "Resources"),
          h("ul", { class: "changes" }, entry.changes.map((change) =>
            h("li", { class: change.action }, change.action + " " + change.type + " " + change.name)))) : null,
        h("p", {},
          entry.nodes.length + (entry.nodes.length === 1 ? " push" : " pushes") + " to " + nodes.size +
            (nodes.size === 1 ? " node: " : " nodes: "),
          stateBadge("ACK"), " " + byState.ACK + " ", stateBadge("NACK"), " " + byState.NACK + " ",
          stateBadge("PENDING"), " " + byState.PENDING,
          " · " + bytes + " bytes",
          slowest !== null ? " · slowest answer " + Math.round(slowest) + " ms" : ""),
        nacks.map((push) => h("div", { class: "nack-message" },
          push.node + " NACKed " + push.type + ": " + (push.message || ""))),
        entry.nodes.length ? h("details", { "data-key": "nodes:" + entry.id }, h("summary", {}, "Who answered"),
          table("Pushes of revision " + entry.configRevision, ["Node", "Type", "Version", "Answer", "Bytes", "Answered in"],
            entry.nodes.map((push) => h("tr", {},
              h("td", {}, push.node), h("td", {}, push.type),
              h("td", { class: "mono" }, shortVersion(push.version)),
              h("td", {}, stateBadge(push.state)),
              h("td", { class: "num" }, push.bytes),
              h("td", { class: "num" }, push.answerMilliseconds === undefined || push.answerMilliseconds === null
                ? "" : Math.round(push.answerMilliseconds) + " ms"))))) : null);
    }));
  const form = h("form", { class: "inline-form", id: "diff-form",
    onsubmit: async (event) => {
      event.preventDefault();
      app.diff.from = document.getElementById("diff-from").value;
      app.diff.to = document.getElementById("diff-to").value;
      await showDiff(diffResult);
    } },
    h("label", { for: "diff-from" }, "From"), h("select", { id: "diff-from" }, options(app.diff.from)),
    h("label", { for: "diff-to" }, "to"), h("select", { id: "diff-to" }, options(app.diff.to)),
    h("button", { type: "submit" }, "Show diff"));
  view.replaceChildren(
    h("h2", {}, "Pushes"),
    h("div", { class: "columns" },
      h("section", { "aria-labelledby": "timeline-heading" },
        h("h3", { id: "timeline-heading" }, "Timeline"),
        entries.length ? timeline : h("p", { class: "muted" }, "Nothing pushed yet.")),
      h("section", { "aria-labelledby": "diff-heading" },
        h("h3", { id: "diff-heading" }, "Diff of two revisions"),
        revisions.length > 1 ? form : h("p", { class: "muted" }, "Needs two retained revisions."),
        diffResult)));
  if (app.diff.shown) await showDiff(diffResult);
}

async function showDiff(target) {
  app.diff.shown = true;
  const diff = await api("/api/v1/diff?from=" + encodeURIComponent(app.diff.from) + "&to=" + encodeURIComponent(app.diff.to));
  target.replaceChildren(
    h("p", {}, diff.resources.length + (diff.resources.length === 1 ? " resource differs" : " resources differ") +
      " between revision " + diff.from + " and " + diff.to + "."),
    ...diff.resources.map((resource) => h("section", { class: "diff-item" },
      h("h4", { class: resource.action }, resource.action + " " + resource.type + " " + resource.name),
      h("div", { class: "diff-pair" },
        h("div", {}, h("h4", {}, "Revision " + diff.from), h("pre", {}, JSON.stringify(resource.before, null, 2))),
        h("div", {}, h("h4", {}, "Revision " + diff.to), h("pre", {}, JSON.stringify(resource.after, null, 2)))))));
}

// A percentage as a runtime value: whole percents as a number, else parts per million.
function runtimeValueFor(percent) {
  if (Number.isInteger(percent)) return String(percent);
  return Math.round(percent * 10000) + "/MILLION";
}

async function renderMirrors(view) {
  const [document, overrides] = await Promise.all([
    api("/api/v1/resources"),
    api("/api/v1/runtime").catch(() => null),
  ]);
  const kinds = resourcesByKind(document);
  // The layer as served (the store turns `12.5` into `125000/MILLION`), not the raw texts.
  const values = runtimeValues(kinds);
  const rows = [];
  for (const row of routeRows(kinds, values)) {
    row.mirrors.forEach((mirror, index) => {
      const inputID = "fraction-" + rows.length;
      const input = h("input", { id: inputID, type: "number", min: 0, max: 100, step: "any",
        value: mirror.effective, "aria-describedby": inputID + "-key" });
      const set = async (value) => {
        try {
          const answer = value === null
            ? await api("/api/v1/runtime/" + encodeURIComponent(mirror.key), { method: "DELETE" })
            : await api("/api/v1/runtime/" + encodeURIComponent(mirror.key), { method: "PUT", body: value });
          app.confirmation = { key: mirror.key, revision: answer.revision, pushes: new Map(), acked: new Set(), nacked: new Set() };
          // The pushes and ACKs may have streamed in before this answer did.
          for (const event of app.recentEvents) confirm(event);
          showAlert("");
          scheduleRefresh(0);
        } catch (error) {
          showAlert("Could not change " + mirror.key + ": " + error.message);
        }
      };
      const canWrite = Boolean(overrides) && Boolean(mirror.key);
      rows.push(h("tr", { "data-runtime-key": mirror.key, "data-mirror-cluster": mirror.cluster },
        h("td", {}, row.configuration.name + " / " + row.host.name),
        h("td", { class: "mono" }, matchText(row.route.match)),
        h("td", {}, destinationText(row.route)),
        h("td", {}, mirror.cluster),
        h("td", { class: "num" }, percentText(mirror.configured)),
        h("td", { class: "num", "data-effective": mirror.effective }, percentText(mirror.effective),
          mirror.overridden ? h("div", { class: "muted" }, "runtime override") : null),
        h("td", { class: "mono", id: inputID + "-key" }, mirror.key || "(none)"),
        h("td", {}, canWrite
          ? h("form", { class: "inline-form", onsubmit: (event) => {
              event.preventDefault();
              const percent = Number(input.value);
              if (!(percent >= 0 && percent <= 100)) {
                showAlert("A mirror fraction is a percentage from 0 to 100, got '" + input.value + "'");
                return;
              }
              set(runtimeValueFor(percent));
            } },
            h("label", { for: inputID, class: "sr-only" }, "New fraction for " + mirror.cluster + " in percent"),
            input, h("span", { "aria-hidden": "true" }, "%"),
            h("button", { type: "submit" }, "Set"),
            mirror.overridden ? h("button", { type: "button", class: "secondary", onclick: () => set(null) }, "Reset") : null)
          : h("span", { class: "muted" }, overrides ? "no runtime key" : "needs the config store"))));
    });
  }
  view.replaceChildren(
    h("h2", {}, "Mirrors"),
    confirmationText(),
    table("Every mirror policy in the mesh: configured fraction, the runtime override in force, and a control to change it",
      ["Route", "Match", "Destinations", "Mirror target", "Configured", "Effective", "Runtime key", "Change"],
      rows, { id: "mirrors" }));
}

function confirmationText() {
  const confirmation = app.confirmation;
  if (!confirmation) return h("p", { id: "confirmation", class: "muted", "aria-live": "polite" });
  const pushed = confirmation.pushes.size;
  return h("p", { id: "confirmation", "aria-live": "polite", "data-acked": confirmation.acked.size, "data-pushed": pushed },
    "Revision " + confirmation.revision + " (" + confirmation.key + "): pushed to " + pushed +
    " streams, ACKed by " + confirmation.acked.size +
    (confirmation.nacked.size ? ", NACKed by " + confirmation.nacked.size : "") + ".");
}

// ---- routing and refresh ----------------------------------------------------------------

function currentRoute() {
  const hash = location.hash || "#/proxies";
  const parts = hash.slice(2).split("/");
  return { view: parts[0] || "proxies", argument: parts[1] ? decodeURIComponent(parts.slice(1).join("/")) : null };
}

async function render() {
  if (app.rendering) { app.renderAgain = true; return; }
  app.rendering = true;
  const view = document.getElementById("view");
  const route = currentRoute();
  for (const link of document.querySelectorAll("header nav a")) {
    const active = link.dataset.view === route.view || (route.view === "proxy" && link.dataset.view === "proxies");
    if (active) link.setAttribute("aria-current", "page"); else link.removeAttribute("aria-current");
  }
  const kept = route.view === app.renderedView ? keepState(view) : null;
  try {
    if (route.view === "proxy" && route.argument) await renderProxy(view, route.argument);
    else if (route.view === "pushes") await renderPushes(view);
    else if (route.view === "mirrors") await renderMirrors(view);
    else await renderProxies(view);
    app.renderedView = route.view;
    if (kept) restoreState(view, kept);
    view.dataset.rendered = String(Date.now());
    if (!document.getElementById("alert").dataset.sticky) showAlert("");
  } catch (error) {
    showAlert(error.status === 401 ? "This control plane needs a token: enter one above." : "Could not load: " + error.message);
  } finally {
    app.rendering = false;
    if (app.renderAgain) { app.renderAgain = false; scheduleRefresh(50); }
  }
}

// What a refresh must not take from the reader: open details, what they typed and not yet
// sent, and the focus.
function keepState(view) {
  const open = new Set(Array.from(view.querySelectorAll("details[data-key][open]"), (details) => details.dataset.key));
  const edited = new Map();
  for (const input of view.querySelectorAll("input[id]")) {
    if (input.value !== input.defaultValue) edited.set(input.id, input.value);
  }
  const active = document.activeElement;
  const focused = active && view.contains(active) && active.id ? active.id : null;
  return { open, edited, focused };
}

function restoreState(view, kept) {
  for (const details of view.querySelectorAll("details[data-key]")) {
    if (kept.open.has(details.dataset.key)) details.open = true;
  }
  for (const [id, value] of kept.edited) {
    const input = document.getElementById(id);
    if (input) input.value = value;
  }
  if (kept.focused) {
    const element = document.getElementById(kept.focused);
    if (element) {
      element.focus();
      if (element.type === "search" || element.type === "text") element.setSelectionRange(element.value.length, element.value.length);
    }
  }
}

// An event schedules a refresh 150 ms later unless one is already due: under a stream of
// events (a push to thousands of proxies) the page still refreshes every 150 ms or so, not
// only once they stop. A reader's action (a delay given) refreshes at once.
function scheduleRefresh(delay) {
  if (delay === undefined && app.refreshTimer !== null) return;
  clearTimeout(app.refreshTimer);
  app.refreshTimer = setTimeout(() => {
    app.refreshTimer = null;
    render();
  }, delay === undefined ? 150 : delay);
}

// ---- the live feed ----------------------------------------------------------------------

function setLive(state, text) {
  const live = document.getElementById("live");
  live.className = "live " + state;
  live.textContent = text;
}

function onEvent(event) {
  if (app.lastEventID && event.id !== app.lastEventID + 1) {
    // Missed events (a buffer overflowed, or the stream reconnected): reload the view.
    app.lastEventID = event.id;
    scheduleRefresh(0);
    return;
  }
  app.lastEventID = event.id;
  app.recentEvents.push(event);
  if (app.recentEvents.length > 2000) app.recentEvents.splice(0, app.recentEvents.length - 1000);
  confirm(event);
  scheduleRefresh();
}

// Follows a fraction change to the proxies: the RTDS pushes of its revision (or a later
// one) and their ACKs and NACKs.
function confirm(event) {
  const confirmation = app.confirmation;
  if (!confirmation || event.type !== "RTDS") return;
  if (event.kind === "push" && event.revision >= confirmation.revision) {
    confirmation.pushes.set(event.streamID, event.version);
  } else if ((event.kind === "ack" || event.kind === "nack") && confirmation.pushes.get(event.streamID) === event.version) {
    (event.kind === "ack" ? confirmation.acked : confirmation.nacked).add(event.streamID);
  }
}

function parseEvents(buffer, onMessage) {
  // Server-sent events: blocks separated by a blank line; `data:` lines joined, `:` comments.
  let index;
  while ((index = buffer.indexOf("\n\n")) >= 0) {
    const block = buffer.slice(0, index);
    buffer = buffer.slice(index + 2);
    const data = block.split("\n").filter((line) => line.startsWith("data:")).map((line) => line.slice(5).trimStart()).join("\n");
    if (data) {
      try { onMessage(JSON.parse(data)); } catch (error) { /* not an event of ours */ }
    }
  }
  return buffer;
}

async function followEvents() {
  let delay = 500;
  for (;;) {
    try {
      const response = await fetch("/api/v1/events", { headers: authHeaders({ Accept: "text/event-stream" }) });
      if (response.status === 401) {
        askForToken();
        setLive("off", "Needs a token");
        await waitForToken();
        continue;
      }
      if (!response.ok || !response.body) throw new Error("event stream: " + response.status);
      setLive("on", "Live");
      delay = 500;
      app.lastEventID = 0;
      scheduleRefresh(0);
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer = parseEvents(buffer + decoder.decode(value, { stream: true }), onEvent);
      }
    } catch (error) {
      // Connection refused or dropped: try again below.
    }
    setLive("off", "Reconnecting…");
    await new Promise((resolve) => setTimeout(resolve, delay));
    delay = Math.min(delay * 2, 5000);
  }
}

let tokenWaiters = [];
function waitForToken() {
  return new Promise((resolve) => tokenWaiters.push(resolve));
}

function start() {
  document.getElementById("token-form").addEventListener("submit", (event) => {
    event.preventDefault();
    app.token = document.getElementById("token").value.trim();
    sessionStorage.setItem("shadowplane-token", app.token);
    document.getElementById("token-form").hidden = true;
    const waiters = tokenWaiters;
    tokenWaiters = [];
    waiters.forEach((resolve) => resolve());
    scheduleRefresh(0);
  });
  window.addEventListener("hashchange", () => {
    scheduleRefresh(0);
    document.getElementById("view").focus();
  });
  render();
  followEvents();
}

document.addEventListener("DOMContentLoaded", start);
