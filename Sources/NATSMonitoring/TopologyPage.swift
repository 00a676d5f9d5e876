/// The page natsd's monitoring serves at `/` (beyond nats-server, whose `/` is an index of links): the same
/// links, and a live drawing of the cluster read from `/topologyz` every 2 s. Self-contained (inline CSS
/// and script, the SVG drawn by the script, nothing fetched from elsewhere), so it works without internet
/// access and under any content policy that allows the page itself.
///
/// What it draws: every server (this one thick, peers known only from routes dashed), every route
/// connection between two servers (each pool connection its own curve, with its pool index), and the
/// messages per second on each, from the difference of two successive documents' counters over their
/// `now`. A table lists each route connection's rates per direction. Test hooks: nodes are
/// `g.node[data-server-id]`, connections `path.route[data-from][data-to][data-pool-idx]` with
/// `data-msgs-per-sec` once a rate is known, and `body[data-updates]` counts the documents drawn.
enum TopologyPage {
    static let html = #"""
    <!DOCTYPE html>
    <html lang="en">
    <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>natsd monitoring</title>
    <style>
      body { font-family: ui-sans-serif, system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
             margin: 0; background: #f5f7fa; color: #1f2933; }
      header { display: flex; align-items: baseline; gap: 16px; padding: 14px 28px; background: #fff;
               border-bottom: 1px solid #e4e7eb; }
      header h1 { font-size: 20px; margin: 0; color: #27aae1; }
      header .server { font-size: 15px; font-weight: 600; }
      header .status { margin-left: auto; font-size: 13px; color: #616e7c; }
      header .status.error { color: #c92a2a; }
      nav { padding: 10px 28px; display: flex; flex-wrap: wrap; gap: 6px 18px; font-size: 14px; }
      nav a { color: #3e4c59; text-decoration: none; }
      nav a:hover { color: #3b32ca; font-weight: 600; }
      nav .endpoint { font-family: ui-monospace, monospace; font-size: 12px; color: #9aa5b1; margin-left: 4px; }
      main { padding: 0 28px 28px; }
      .card { background: #fff; border: 1px solid #e4e7eb; border-radius: 8px; margin-top: 12px; }
      #drawing { display: block; width: 100%; height: 540px; }
      .legend { font-size: 12px; color: #7b8794; padding: 0 16px 10px; }
      table { border-collapse: collapse; width: 100%; font-size: 13px; }
      th, td { text-align: left; padding: 6px 12px; border-bottom: 1px solid #f0f2f5; white-space: nowrap; }
      th { color: #616e7c; font-weight: 600; background: #fafbfc; }
      td.number, th.number { text-align: right; font-variant-numeric: tabular-nums; }
      .problems { font-size: 13px; color: #8a5a00; padding: 8px 16px; }
      .problems:empty { display: none; }
      svg text { font-family: inherit; }
      .node circle { fill: #fff; stroke: #27aae1; stroke-width: 2.5; }
      .node.self circle { stroke: #375c93; stroke-width: 4; }
      .node.routes circle, .node.seen circle { stroke: #9aa5b1; stroke-dasharray: 6 4; }
      .node .name { font-size: 14px; font-weight: 600; fill: #1f2933; }
      .node .detail { font-size: 12px; fill: #616e7c; }
      .node .role { font-size: 10px; fill: #375c93; letter-spacing: 0.05em; }
      path.route { fill: none; stroke: #cbd2d9; stroke-linecap: round; }
      path.route.active { stroke: #34a574; }
      .card-box { fill: #fff; fill-opacity: 0.94; stroke: #d9dee4; }
      .card-title { font-size: 12px; font-weight: 600; fill: #1f2933; }
      .card-head { font-size: 10.5px; fill: #7b8794; }
      text.rate { font-size: 11.5px; fill: #52606d; font-variant-numeric: tabular-nums; }
      text.rate.active { fill: #1e7d4f; font-weight: 600; }
    </style>
    </head>
    <body data-updates="0">
    <header>
      <h1>natsd</h1><span class="server" id="server"></span>
      <span class="status" id="status">loading…</span>
    </header>
    <nav>
      <a href="./varz">General<span class="endpoint">/varz</span></a>
      <a href="./connz">Connections<span class="endpoint">/connz</span></a>
      <a href="./accountz">Accounts<span class="endpoint">/accountz</span></a>
      <a href="./subsz">Subscriptions<span class="endpoint">/subsz</span></a>
      <a href="./routez">Routes<span class="endpoint">/routez</span></a>
      <a href="./healthz">Health Probe<span class="endpoint">/healthz</span></a>
      <a href="./topologyz">Topology<span class="endpoint">/topologyz</span></a>
    </nav>
    <main>
      <div class="card">
        <svg id="drawing" xmlns="http://www.w3.org/2000/svg" role="img" aria-label="cluster topology"></svg>
        <div class="legend">Each curve is one route connection; the card beside a pair of servers gives each pool
          connection's (p = pool index) messages per second in both directions. Green: messages in the last
          interval. Thick circle: the server serving this page; dashed: a server known only from routes.</div>
        <div class="problems" id="problems"></div>
      </div>
      <div class="card">
        <table>
          <thead><tr><th>Route A ⇄ B</th><th>Pool</th><th>rid at A</th><th class="number">A → B msgs/s</th>
            <th class="number">B → A msgs/s</th><th class="number">A → B bytes/s</th><th class="number">B → A bytes/s</th>
            <th class="number">subs at A</th></tr></thead>
          <tbody id="routes"></tbody>
        </table>
      </div>
    </main>
    <script>
    "use strict";
    const SVG = "http://www.w3.org/2000/svg";
    const REFRESH_MS = 2000, TIMEOUT_MS = 5000;
    const previous = new Map();   // counter samples of the last document, by node or route connection
    let lastDocument = null, updates = 0;

    // Go and natsd write up to nine fraction digits; Date.parse wants at most three.
    function time(text) { return text ? Date.parse(text.replace(/(\.\d{3})\d+/, "$1")) : NaN; }

    // Per-second rates of the counters `fields` of `sample` since the previous sample under `key`.
    function rates(key, now, sample, fields) {
      const last = previous.get(key), t = time(now), result = {};
      if (!isNaN(t)) previous.set(key, Object.assign({ t }, sample));
      for (const f of fields) {
        const ok = last && t > last.t && sample[f] >= last[f];
        result[f] = ok ? (sample[f] - last[f]) * 1000 / (t - last.t) : null;
      }
      return result;
    }

    function format(rate) {
      if (rate === null || rate === undefined) return "–";
      if (rate >= 1e6) return (rate / 1e6).toFixed(1) + "M";
      if (rate >= 1e3) return (rate / 1e3).toFixed(1) + "k";
      return rate >= 10 || rate === 0 ? Math.round(rate).toString() : rate.toFixed(1);
    }

    function element(name, attributes, parent, text) {
      const node = document.createElementNS(SVG, name);
      for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
      if (text !== undefined) node.textContent = text;
      if (parent) parent.appendChild(node);
      return node;
    }

    function shorten(text, length) { return text.length > length ? text.slice(0, length - 1) + "…" : text; }

    // Nodes (this server first, then by name), and the route connections of each pair of servers as one
    // side reports them: the first by name among those whose /routez we have, so the drawing and the
    // table read the same way between refreshes.
    function model(doc) {
      const nodes = new Map();
      for (const s of doc.servers || []) nodes.set(s.server_id, s);
      const pairs = new Map();
      for (const s of doc.servers || []) {
        for (const r of (s.routez && s.routez.routes) || []) {
          if (!nodes.has(r.remote_id)) {
            nodes.set(r.remote_id, { server_id: r.remote_id, server_name: r.remote_name || r.remote_id, source: "seen" });
          }
          const key = [s.server_id, r.remote_id].sort().join(" ");
          if (!pairs.has(key)) pairs.set(key, new Map());
          const sides = pairs.get(key);
          if (!sides.has(s.server_id)) sides.set(s.server_id, { server: s, routes: [] });
          sides.get(s.server_id).routes.push(r);
        }
      }
      const byName = (a, b) => (a.server_name || "").localeCompare(b.server_name || "") || a.server_id.localeCompare(b.server_id);
      const order = [...nodes.values()].sort((a, b) => (b.source === "self") - (a.source === "self") || byName(a, b));
      const links = [];
      for (const [key, sides] of pairs) {
        const from = [...sides.keys()].map(id => nodes.get(id)).sort(byName)[0].server_id, side = sides.get(from);
        const to = key.split(" ").find(id => id !== from) || from;
        const routes = side.routes.slice().sort((a, b) => (a.pool_idx ?? 0) - (b.pool_idx ?? 0) || a.rid - b.rid);
        links.push({ from, to, now: side.server.routez.now, routes });
      }
      links.sort((a, b) => byName(nodes.get(a.from), nodes.get(b.from)) || byName(nodes.get(a.to), nodes.get(b.to)));
      return { nodes: order, links };
    }

    function layout(nodes, width, height) {
      const center = { x: width / 2, y: height / 2 + 4 }, radius = Math.min(width * 0.3, height * 0.32);
      const places = new Map();
      nodes.forEach((n, i) => {
        if (nodes.length === 1) { places.set(n.server_id, { x: center.x, y: center.y }); return; }
        const angle = -Math.PI / 2 + i * 2 * Math.PI / nodes.length;
        places.set(n.server_id, { x: center.x + radius * Math.cos(angle), y: center.y + radius * Math.sin(angle) });
      });
      return { places, center, radius };
    }

    function unit(x, y) { const length = Math.hypot(x, y); return length ? { x: x / length, y: y / length } : { x: 0, y: 1 }; }

    const NODE_RADIUS = 44;

    function draw(doc) {
      const svg = document.getElementById("drawing");
      const width = svg.clientWidth || 960, height = svg.clientHeight || 540;
      svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
      svg.replaceChildren();
      const { nodes, links } = model(doc);
      const { places, center, radius } = layout(nodes, width, height);
      const names = new Map(nodes.map(n => [n.server_id, n.server_name || n.server_id]));
      const linkLayer = element("g", { class: "links" }, svg), nodeLayer = element("g", { class: "nodes" }, svg);
      const cardLayer = element("g", { class: "cards" }, svg);
      const rows = [];
      for (const link of links) {
        const a = places.get(link.from), b = places.get(link.to);
        if (!a || !b) continue;
        const n = unit(a.y - b.y, b.x - a.x), count = link.routes.length;
        const spread = Math.min(56, 180 / Math.max(count, 1));
        const connections = link.routes.map((r, i) => {
          const pool = r.pool_idx ?? i;
          const rate = rates(`route ${link.from} ${r.rid}`, link.now, r, ["out_msgs", "in_msgs", "out_bytes", "in_bytes"]);
          const total = rate.out_msgs === null ? null : rate.out_msgs + rate.in_msgs;
          const bend = (i - (count - 1) / 2) * spread;
          const c = { x: (a.x + b.x) / 2 + n.x * bend, y: (a.y + b.y) / 2 + n.y * bend };
          const active = total !== null && total > 0;
          const path = element("path", {
            class: "route" + (active ? " active" : ""), d: `M ${a.x} ${a.y} Q ${c.x} ${c.y} ${b.x} ${b.y}`,
            "stroke-width": (2 + Math.min(6, Math.log10(1 + (total || 0)) * 2)).toFixed(1),
            "data-from": link.from, "data-to": link.to, "data-pool-idx": pool, "data-rid": r.rid,
          }, linkLayer);
          if (total !== null) path.setAttribute("data-msgs-per-sec", total.toFixed(2));
          element("title", {}, path, `${names.get(link.from)} ⇄ ${names.get(link.to)}: pool ${pool}, rid ${r.rid}`);
          rows.push({ link, r, pool, rate });
          return { pool, rate, active };
        });
        drawCard(cardLayer, link, connections, names, { a, b, center, radius, fan: spread * (count - 1) / 4 });
      }
      for (const n of nodes) drawNode(nodeLayer, n, places.get(n.server_id), center, nodes.length);
      drawTable(rows, names);
      const problems = nodes.filter(n => n.problem).map(n => `${n.server_name}: ${n.problem}`);
      document.getElementById("problems").textContent = problems.join(" · ");
      return { nodes: nodes.length, connections: rows.length };
    }

    function drawNode(layer, n, p, center, count) {
      const g = element("g", { class: `node ${n.source}`, "data-server-id": n.server_id, "data-source": n.source,
                               transform: `translate(${p.x} ${p.y})` }, layer);
      element("circle", { r: NODE_RADIUS }, g);
      if (n.source === "self") element("text", { class: "role", y: -17, "text-anchor": "middle" }, g, "SERVING");
      element("text", { class: "name", y: 5, "text-anchor": "middle" }, g, shorten(n.server_name || n.server_id, 11));
      const v = n.varz;
      element("text", { class: "detail", y: 22, "text-anchor": "middle" }, g,
              v ? `${v.connections} client${v.connections === 1 ? "" : "s"}` : "from routes");
      if (v) {
        // Away from the middle of the drawing, where the routes run.
        const rate = rates(`node ${n.server_id}`, v.now, v, ["in_msgs", "out_msgs"]);
        const out = count === 1 ? { x: 0, y: 1 } : unit(p.x - center.x, p.y - center.y);
        const anchor = out.x > 0.5 ? "start" : out.x < -0.5 ? "end" : "middle";
        element("text", { class: "detail", x: out.x * (NODE_RADIUS + 10), y: out.y * (NODE_RADIUS + 14) + 4,
                          "text-anchor": anchor }, g, `in ${format(rate.in_msgs)} · out ${format(rate.out_msgs)} msg/s`);
      }
      element("title", {}, g, `${n.server_name} (${n.server_id})` + (n.problem ? `\n${n.problem}` : ""));
    }

    // One card per pair of servers: msg/s each way on every pool connection. It sits outside the fan of
    // curves, away from the middle of the drawing (for a route through the middle, near its first end).
    function drawCard(layer, link, connections, names, geometry) {
      const { a, b, center, radius, fan } = geometry;
      const g = element("g", { class: "card", "data-from": link.from, "data-to": link.to }, layer);
      const box = element("rect", { rx: 6, class: "card-box" }, g);
      const from = shorten(names.get(link.from), 9), to = shorten(names.get(link.to), 9);
      const lines = [[`${from} ⇄ ${to}`, "", ""], ["msg/s", `${from} →`, `${to} →`]];
      for (const c of connections) lines.push([`p${c.pool}`, format(c.rate.out_msgs), format(c.rate.in_msgs), c]);
      const texts = lines.map((line, row) => line.slice(0, 3).map((value, column) => {
        const attributes = { class: row === 0 ? "card-title" : row === 1 ? "card-head" : "card-cell", y: 16 + row * 16 };
        const text = element("text", attributes, g, value);
        return text;
      }));
      const measure = t => (t.getComputedTextLength ? t.getComputedTextLength() : t.textContent.length * 6.5);
      const widths = [0, 1, 2].map(col => Math.max(...texts.slice(1).map(row => measure(row[col]))));
      const columnGap = 14, padding = 10;
      const width = Math.max(measure(texts[0][0]), widths[0] + widths[1] + widths[2] + 2 * columnGap) + 2 * padding;
      const height = 10 + lines.length * 16;
      texts.forEach((row, index) => {
        row[0].setAttribute("x", padding);
        row[1].setAttribute("x", padding + widths[0] + columnGap + widths[1]);
        row[2].setAttribute("x", padding + widths[0] + widths[1] + 2 * columnGap + widths[2]);
        row[1].setAttribute("text-anchor", "end");
        row[2].setAttribute("text-anchor", "end");
        const connection = lines[index][3];
        if (connection) {
          row.forEach(t => t.setAttribute("class", "rate" + (connection.active ? " active" : "")));
          row[0].setAttribute("data-from", link.from); row[0].setAttribute("data-to", link.to);
          row[0].setAttribute("data-pool-idx", connection.pool);
        }
      });
      box.setAttribute("width", width); box.setAttribute("height", height);
      const middle = { x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 };
      const away = { x: middle.x - center.x, y: middle.y - center.y };
      let x, y;
      if (Math.hypot(away.x, away.y) > radius * 0.25) {
        const d = unit(away.x, away.y), reach = fan + 16 + Math.abs(d.x) * width / 2 + Math.abs(d.y) * height / 2;
        x = middle.x + d.x * reach; y = middle.y + d.y * reach;
      } else {
        x = a.x + (b.x - a.x) * 0.3; y = a.y + (b.y - a.y) * 0.3;
      }
      g.setAttribute("transform", `translate(${(x - width / 2).toFixed(1)} ${(y - height / 2).toFixed(1)})`);
    }

    function drawTable(rows, names) {
      const body = document.getElementById("routes");
      body.replaceChildren();
      for (const { link, r, pool, rate } of rows) {
        const tr = document.createElement("tr");
        tr.className = "route-row";
        tr.dataset.from = link.from; tr.dataset.to = link.to; tr.dataset.poolIdx = pool;
        const cells = [`${names.get(link.from)} ⇄ ${names.get(link.to)}`, `p${pool}`, r.rid,
                       format(rate.out_msgs), format(rate.in_msgs), format(rate.out_bytes), format(rate.in_bytes),
                       r.subscriptions ?? "–"];
        cells.forEach((value, i) => {
          const td = document.createElement("td");
          if (i >= 3) td.className = "number";
          td.textContent = value;
          tr.appendChild(td);
        });
        body.appendChild(tr);
      }
    }

    async function refresh() {
      const status = document.getElementById("status");
      const abort = new AbortController(), timer = setTimeout(() => abort.abort(), TIMEOUT_MS);
      try {
        const response = await fetch("./topologyz", { cache: "no-store", signal: abort.signal });
        if (!response.ok) throw new Error(`/topologyz answered ${response.status}`);
        lastDocument = await response.json();
        const drawn = draw(lastDocument);
        document.getElementById("server").textContent = lastDocument.server_name;
        document.body.dataset.updates = ++updates;
        status.className = "status";
        status.textContent = `${drawn.nodes} server${drawn.nodes === 1 ? "" : "s"} · ${drawn.connections} route ` +
          `connection${drawn.connections === 1 ? "" : "s"} · updated ${new Date().toLocaleTimeString()}`;
      } catch (error) {
        status.className = "status error";
        status.textContent = `update failed: ${error.message || error}`;
      } finally {
        clearTimeout(timer);
        setTimeout(refresh, REFRESH_MS);
      }
    }
    refresh();
    </script>
    </body>
    </html>

    """#
}
