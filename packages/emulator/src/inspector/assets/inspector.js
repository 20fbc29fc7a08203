// The emulator inspector's page script: plain browser JavaScript, served as written. Every value
// from a request reaches the page through textContent, never as markup.

(() => {
  const TOKEN = document.querySelector('meta[name="inspector-token"]').content;
  const STEP_NAMES = {
    getPlatformMetadata: "getplatformmetadata",
    issueCredential: "issuecredential",
    mtlsToken: "token (mTLS)",
    token: "token",
    imdsToken: "IMDS v1 token",
    resource: "resource",
  };
  const entries = new Map();
  const revealed = new Map();
  // Claims panels the user opened stay open when the page redraws.
  const openClaims = new Set();
  let state = { managedIdentities: [], clients: [], faults: [] };

  function h(tag, props, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(props || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (name === "class") node.className = value;
      else if (name === "text") node.textContent = value;
      else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
      else node.setAttribute(name, value === true ? "" : String(value));
    }
    for (const child of children.flat()) {
      if (child === undefined || child === null || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function api(path, body) {
    return fetch(`/_inspector/${path}`, {
      method: body === undefined ? "GET" : "POST",
      headers: { "x-inspector-token": TOKEN, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
    }).then(async (response) => {
      const data = await response.json().catch(() => ({}));
      if (!response.ok) throw new Error(data.error || `HTTP ${response.status}`);
      return data;
    });
  }

  function failed(entry) {
    return entry.outcome !== "answered" || entry.status >= 400;
  }

  function time(at) {
    const d = new Date(at);
    return `${d.toLocaleTimeString([], { hour12: false })}.${String(d.getMilliseconds()).padStart(3, "0")}`;
  }

  function statusText(entry) {
    if (entry.outcome === "answered") return String(entry.status);
    return entry.outcome === "hung" ? "hung" : entry.outcome === "reset" ? "reset" : "dropped";
  }

  function faultText(fault) {
    if (!fault) return "";
    const parts = [];
    if (fault.status !== undefined) parts.push(`HTTP ${fault.status}`);
    if (fault.delayMs) parts.push(`delay ${fault.delayMs} ms`);
    if (fault.hang) parts.push("hang");
    if (fault.reset) parts.push("reset");
    if (fault.body !== undefined) parts.push("raw body");
    if (fault.headers) parts.push("headers");
    return parts.join(", ") || "fault";
  }

  function thumbprint(value, label) {
    return h("code", { class: "x5t", "data-x5t": value, title: label || value, text: value });
  }

  // ---- flows ----

  function flowsOf() {
    const flows = new Map();
    for (const entry of entries.values()) {
      if (!flows.has(entry.flowId)) flows.set(entry.flowId, []);
      flows.get(entry.flowId).push(entry);
    }
    return [...flows.entries()].sort((a, b) => b[0] - a[0]);
  }

  function renderFlows() {
    const container = document.getElementById("flows");
    const flows = flowsOf();
    document.getElementById("no-flows").hidden = flows.length > 0;
    container.replaceChildren(...flows.map(([id, steps]) => renderFlow(id, steps)));
  }

  function renderFlow(id, steps) {
    const firstFailure = steps.find(failed);
    const ok = !firstFailure;
    const correlation = steps.find((s) => s.correlationId)?.correlationId;
    const timeline = h(
      "ol",
      { class: "timeline" },
      steps.map((step) =>
        h(
          "li",
          {
            class: `step ${failed(step) ? "failed" : "ok"}${step === firstFailure ? " first-failure" : ""}${step.fault ? " faulted" : ""}`,
            "data-endpoint": step.endpoint,
            title: step.error
              ? `${step.error.code}: ${step.error.description}`
              : `${step.method} ${step.path}`,
          },
          h("span", { class: "step-name", text: STEP_NAMES[step.endpoint] || step.endpoint }),
          h("span", { class: "step-status", text: statusText(step) }),
          h("span", { class: "step-ms", text: `${step.durationMs} ms` }),
          step.fault ? h("span", { class: "fault-badge", text: `injected: ${faultText(step.fault)}` }) : null,
          step === firstFailure && step.error
            ? h("span", { class: "step-error", text: step.error.description || step.error.code })
            : null,
        ),
      ),
    );
    return h(
      "article",
      { class: `flow ${ok ? "flow-ok" : "flow-failed"}`, "data-flow": id },
      h(
        "header",
        {},
        h("strong", { text: `Flow #${id}` }),
        h("span", {
          class: `badge ${ok ? "ok" : "failed"}`,
          text: ok ? "ok" : `failed at ${STEP_NAMES[firstFailure.endpoint] || firstFailure.endpoint}`,
        }),
        correlation ? h("span", { class: "muted", text: `correlation id ${correlation}` }) : null,
        h("span", { class: "muted", text: time(steps[0].at) }),
      ),
      timeline,
      renderBindings(steps),
    );
  }

  function renderBindings(steps) {
    const tokenStep = steps.find((s) => s.token && s.endpoint !== "resource");
    const resources = steps.filter((s) => s.endpoint === "resource");
    const issued = steps.find((s) => s.issuedCertificate);
    if (!tokenStep && resources.length === 0) return null;
    const tokenCard = tokenStep ? renderToken("Token issued", tokenStep.token) : null;
    const certificates = h(
      "div",
      { class: "card" },
      h("h3", { text: "Certificates" }),
      issued ? certificateRow("issued by IMDS", issued.issuedCertificate) : null,
      tokenStep?.clientCertificate
        ? certificateRow("presented at the token endpoint", tokenStep.clientCertificate)
        : null,
      resources.map((r) =>
        r.clientCertificate ? certificateRow("presented at the resource", r.clientCertificate) : null,
      ),
    );
    const comparisons = resources.map((r) => renderComparison(r));
    const resourceTokens = resources
      .filter((r) => r.token && (!tokenStep || r.token.claims.uti !== tokenStep.token.claims.uti))
      .map((r) => renderToken("Token presented at the resource", r.token));
    return h(
      "div",
      { class: "bindings" },
      h("div", { class: "side-by-side" }, tokenCard, resourceTokens, certificates),
      comparisons,
    );
  }

  function certificateRow(label, cert) {
    return h(
      "dl",
      { class: "cert" },
      h("dt", { text: label }),
      h("dd", {}, thumbprint(cert.x5tS256, "x5t#S256")),
      h("dd", { class: "muted", text: `${cert.subject} · expires ${cert.validTo}` }),
    );
  }

  function renderComparison(step) {
    const b = step.binding || {};
    const state = b.match === true ? "match" : b.match === false ? "mismatch" : "unbound";
    let verdict;
    if (state === "match") verdict = step.status < 400 ? "equal: the resource accepted the binding" : "equal";
    else if (state === "mismatch")
      verdict = `different: ${b.reason || "refused"}${b.message ? ` (${b.message})` : ""}`;
    else if (!b.presented) verdict = `no client certificate: ${b.reason || "not checked"}`;
    else
      verdict =
        step.status < 400
          ? "Bearer token: no binding to compare"
          : `refused: ${b.reason || step.error?.code || step.status}`;
    return h(
      "div",
      { class: `binding ${state}`, "data-binding": state },
      h(
        "div",
        {},
        h("span", { class: "label", text: "token cnf x5t#S256" }),
        b.boundTo ? thumbprint(b.boundTo) : h("em", { text: "none" }),
      ),
      h(
        "div",
        {},
        h("span", { class: "label", text: "resource saw" }),
        b.presented ? thumbprint(b.presented) : h("em", { text: "no certificate" }),
      ),
      h("div", { class: "verdict", text: verdict }),
    );
  }

  function renderToken(title, token) {
    const claims = token.claims;
    const rows = ["aud", "appid", "exp"]
      .filter((name) => claims[name] !== undefined)
      .map((name) => h("tr", {}, h("th", { text: name }), h("td", { text: datePlus(name, claims[name]) })));
    const shown = revealed.get(token.ref);
    return h(
      "div",
      { class: "card token" },
      h(
        "h3",
        {},
        title,
        h("span", { class: "muted", text: ` ${token.header.alg} · kid ${token.header.kid}` }),
      ),
      h(
        "table",
        {},
        rows,
        h(
          "tr",
          {},
          h("th", { text: 'cnf["x5t#S256"]' }),
          h("td", {}, token.boundTo ? thumbprint(token.boundTo) : h("em", { text: "none (Bearer)" })),
        ),
      ),
      h(
        "details",
        {
          open: openClaims.has(token.ref),
          ontoggle: (event) => (event.target.open ? openClaims.add(token.ref) : openClaims.delete(token.ref)),
        },
        h("summary", { text: "all claims" }),
        h("pre", { class: "claims", text: JSON.stringify({ header: token.header, claims }, null, 2) }),
      ),
      shown
        ? h(
            "div",
            {},
            h("code", { class: "raw-token", text: shown }),
            h("button", {
              type: "button",
              class: "secondary",
              onclick: () => hideToken(token.ref),
              text: "Hide token",
            }),
          )
        : h("button", {
            type: "button",
            class: "secondary reveal",
            onclick: () => revealToken(token.ref),
            text: "Reveal token",
          }),
    );
  }

  function datePlus(name, value) {
    if ((name === "iat" || name === "exp") && typeof value === "number")
      return `${value} (${new Date(value * 1000).toISOString()})`;
    return typeof value === "string" ? value : JSON.stringify(value);
  }

  function revealToken(ref) {
    api("api/reveal", { ref })
      .then((data) => {
        revealed.set(ref, data.token);
        renderFlows();
      })
      .catch((error) => message(error.message, true));
  }

  function hideToken(ref) {
    revealed.delete(ref);
    renderFlows();
  }

  // ---- log ----

  function logRow(entry) {
    return h(
      "tr",
      { class: failed(entry) ? "failed" : "", "data-id": entry.id },
      h("td", { text: time(entry.at) }),
      h("td", { text: `#${entry.flowId}` }),
      h("td", { text: entry.endpoint }),
      h("td", { class: "path", text: `${entry.method} ${entry.path}` }),
      h("td", { text: statusText(entry) }),
      h("td", { text: String(entry.durationMs) }),
      h(
        "td",
        {},
        entry.clientCertificate
          ? thumbprint(entry.clientCertificate.x5tS256, entry.clientCertificate.subject)
          : "",
      ),
      h("td", {}, entry.fault ? h("span", { class: "fault-badge", text: faultText(entry.fault) }) : ""),
    );
  }

  function renderLog() {
    const body = document.querySelector("#log tbody");
    body.replaceChildren(...[...entries.values()].reverse().map(logRow));
  }

  // ---- state and controls ----

  function renderState() {
    document.getElementById("tenant").textContent = state.tenantId ? `tenant ${state.tenantId}` : "";
    document
      .getElementById("identities")
      .replaceChildren(
        ...state.managedIdentities.map((m) =>
          h(
            "li",
            {},
            h("strong", { text: m.kind === "system" ? "system-assigned" : "user-assigned" }),
            ` client id ${m.clientId}`,
            h("br"),
            h("span", { class: "muted", text: m.resourceId }),
          ),
        ),
      );
    document.getElementById("clients").replaceChildren(
      ...(state.clients.length
        ? state.clients.map((c) =>
            h(
              "li",
              { "data-client": c.clientId },
              h("strong", { text: c.clientId }),
              c.certificates.map((cert) => h("div", {}, thumbprint(cert.x5tS256, cert.subject))),
            ),
          )
        : [h("li", { class: "muted", text: "none registered" })]),
    );
    document
      .getElementById("pending-faults")
      .replaceChildren(
        ...state.faults.map((f) =>
          h(
            "li",
            { class: "pending-fault", "data-endpoint": f.endpoint },
            h("strong", { text: f.endpoint }),
            `: ${faultText(f.fault)} × ${f.remaining === null ? "∞" : f.remaining}`,
          ),
        ),
      );
  }

  function message(text, isError) {
    const node = document.getElementById("control-message");
    node.textContent = text;
    node.className = isError ? "hint error" : "hint";
  }

  function setupControls(endpoints) {
    const select = document.getElementById("fault-endpoint");
    select.replaceChildren(...endpoints.map((e) => h("option", { value: e, text: e })));
    document.getElementById("fault-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const form = new FormData(event.target);
      const fault = {
        status: form.get("status") || undefined,
        count: form.get("count") || undefined,
        delayMs: form.get("delayMs") || undefined,
        hang: form.get("hang") === "on",
        reset: form.get("reset") === "on",
      };
      if (fault.hang || fault.reset) fault.status = undefined;
      api("api/faults", { endpoint: form.get("endpoint"), fault })
        .then((data) => {
          state = data;
          renderState();
          message(`Fault armed on ${form.get("endpoint")}.`);
        })
        .catch((error) => message(error.message, true));
    });
    document.getElementById("clear-faults").addEventListener("click", () => {
      api("api/faults/clear", {})
        .then((data) => {
          state = data;
          renderState();
          message("Faults cleared.");
        })
        .catch((error) => message(error.message, true));
    });
    document.getElementById("client-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const form = new FormData(event.target);
      const scopes = String(form.get("allowedScopes") || "")
        .split(/\s+/)
        .filter(Boolean);
      api("api/clients", {
        clientId: form.get("clientId"),
        certificatePem: form.get("certificatePem"),
        allowedScopes: scopes,
      })
        .then((data) => {
          state = data;
          renderState();
          message(`Registered ${form.get("clientId")}.`);
          event.target.reset();
        })
        .catch((error) => message(error.message, true));
    });
  }

  // ---- live feed ----

  function connect() {
    const status = document.getElementById("connection");
    const source = new EventSource(`/_inspector/events?token=${encodeURIComponent(TOKEN)}`);
    source.addEventListener("open", () => {
      status.textContent = "live";
      status.className = "connection on";
    });
    source.addEventListener("error", () => {
      status.textContent = "disconnected (retrying)";
      status.className = "connection off";
    });
    source.addEventListener("snapshot", (event) => {
      const data = JSON.parse(event.data);
      entries.clear();
      for (const entry of data.entries) entries.set(entry.id, entry);
      state = data.state;
      setupControlsOnce(data.endpoints);
      renderState();
      renderFlows();
      renderLog();
    });
    source.addEventListener("request", (event) => {
      const entry = JSON.parse(event.data);
      entries.set(entry.id, entry);
      // The server keeps a bounded log; the page keeps the same window.
      while (entries.size > 500) entries.delete(entries.keys().next().value);
      renderFlows();
      renderLog();
    });
    source.addEventListener("state", (event) => {
      state = JSON.parse(event.data);
      renderState();
    });
  }

  let controlsReady = false;
  function setupControlsOnce(endpoints) {
    if (controlsReady) return;
    controlsReady = true;
    setupControls(endpoints);
  }

  connect();
})();
