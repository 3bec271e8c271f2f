// Headwaters lineage viewer: search -> an entity (or a column) -> its lineage, laid out
// left to right. Tables open up into their columns, with column-to-column edges; a
// column traces its whole path across tables. The address bar holds the view.
// Talks only to the server that served it (REST API under /api/v1).
import cytoscape from 'cytoscape';
import dagre from 'cytoscape-dagre';

cytoscape.use(dagre);

const TOKEN_KEY = 'headwaters.token';
const PAGE = 25; // neighbours shown per node and direction before a "+K more" node
const NODE_W = 210; // entity node width
const HEADER_H = 36; // entity node height (the header, when its columns are listed)
const ROW_H = 20; // one column row
const FONT = 12; // entity label size at zoom 1
const MIN_ZOOM = 0.8; // fitting never shrinks labels below FONT * MIN_ZOOM px
const LABEL_MIN_PX = 7; // labels smaller than this on screen are hidden (hover shows them)
const EXPAND_ALL_MAX = 60; // "columns" lists the columns of at most this many tables
const TYPE_STYLE = {
  table: ['#2b7bb9', '▦'], dashboard: ['#d9822b', '◧'], pipeline: ['#7a4fbf', '⚙'],
  topic: ['#2e9d6e', '✉'], mlmodel: ['#c2417a', '◆'], container: ['#6b7785', '▣'],
  storedProcedure: ['#8a6d3b', 'ƒ'], dashboardDataModel: ['#b8860b', '◩'], searchIndex: ['#3a8fa3', '⌕'],
  apiEndpoint: ['#4a6fa5', '⇄'], metric: ['#a0522d', '∑'], chart: ['#e07b39', '◔'],
};
const RUN_GLYPH = { Successful: '✓', Failed: '✗', Pending: '…', Skipped: '⤼' };
const EDGE_STYLES = [
  ['lineage', 'solid', '#9aa5b1'], ['path to the focus', 'dashed', '#1f6feb'],
  ['column mapping', 'solid', '#7fb3e0'], ['column trace', 'solid', '#f08c00'],
];

const $ = (id) => document.getElementById(id);
const state = {
  focus: null, // the focused entity's reference
  refs: new Map(), // entity id -> reference
  edges: new Map(), // "from->to" -> {from, to, details}
  hidden: new Map(), // "+K more" node id -> {anchor, dir, items}
  docs: new Map(), // entity id -> document (fetched when needed)
  pipelines: new Map(), // pipeline id -> document (for the run status on edges)
  expanded: new Set(), // entity ids whose columns are listed
  trace: null, // {column, columns: Set of column FQNs, tables: Set of ids}
  columnPath: new Set(), // tables of the current trace (kept for the console and tests)
};
window.hwViewer = state; // for tests and the console

function token() { return localStorage.getItem(TOKEN_KEY) || ''; }
async function api(path) {
  const t = token();
  const r = await fetch(path, { headers: t ? { Authorization: 'Bearer ' + t } : {} });
  const body = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error(body.message || r.statusText);
  return body;
}
function status(msg, isError) { const s = $('status'); s.textContent = msg; s.className = isError ? 'error' : ''; }
function fail(e) { status(e.message, true); }
function serviceOf(fqn) { const m = (fqn || '').match(/^("[^"]*"|[^.]*)/); return m ? m[1].replace(/"/g, '') : ''; }
function esc(s) { return String(s ?? '').replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' }[c])); }
// An FQN that may break only after its dots, never inside a name.
function fqnHtml(fqn) { return `<span class="fqn">${String(fqn ?? '').split('.').map(esc).join('.<wbr>')}</span>`; }
function pathOf(ref) { return new URL(ref.href, location.href).pathname; }
function colId(fqn) { return `col:${fqn}`; }

const cy = cytoscape({
  container: $('graph'),
  wheelSensitivity: 0.3,
  minZoom: 0.05,
  maxZoom: 3,
  style: [
    { selector: 'node.entity', style: {
      'shape': 'round-rectangle', 'width': NODE_W, 'height': 'data(h)', 'background-color': 'data(color)',
      'label': 'data(label)', 'color': '#fff', 'font-size': FONT, 'text-valign': 'center', 'text-halign': 'center',
      'text-wrap': 'ellipsis', 'text-max-width': NODE_W - 12, 'min-zoomed-font-size': LABEL_MIN_PX } },
    { selector: 'node.entity.expanded', style: { 'text-valign': 'top', 'text-margin-y': HEADER_H / 2 + FONT / 2 + 1 } },
    { selector: 'node.col', style: {
      'shape': 'rectangle', 'width': NODE_W - 12, 'height': ROW_H - 3, 'background-color': '#fff',
      'border-width': 1, 'border-color': '#c9d3dd', 'label': 'data(label)', 'color': '#1b2733', 'font-size': 10.5,
      'text-valign': 'center', 'text-halign': 'center', 'text-wrap': 'ellipsis', 'text-max-width': NODE_W - 20,
      'min-zoomed-font-size': LABEL_MIN_PX } },
    { selector: 'node.focus', style: { 'border-width': 4, 'border-color': '#111' } },
    { selector: 'node.more', style: { 'shape': 'round-tag', 'width': 120, 'height': 30, 'background-color': '#eee', 'label': 'data(label)',
      'color': '#333', 'font-size': FONT, 'border-width': 1, 'border-color': '#999', 'text-valign': 'center', 'text-halign': 'center' } },
    { selector: 'node.filtered', style: { 'display': 'none' } },
    { selector: 'edge', style: { 'width': 2, 'line-color': '#9aa5b1', 'target-arrow-color': '#9aa5b1',
      'target-arrow-shape': 'triangle', 'curve-style': 'bezier', 'arrow-scale': 0.9 } },
    { selector: 'edge[label]', style: { 'label': 'data(label)', 'font-size': 10, 'color': '#3b4650', 'text-background-color': '#fff',
      'text-background-opacity': 0.9, 'text-background-padding': 2, 'min-zoomed-font-size': LABEL_MIN_PX } },
    { selector: 'edge.run-Successful', style: { 'color': '#2e7d32' } },
    { selector: 'edge.run-Failed', style: { 'color': '#b00020' } },
    { selector: 'edge.run-Pending', style: { 'color': '#8a6d3b' } },
    { selector: 'edge.colEdge', style: { 'width': 1.4, 'line-color': '#7fb3e0', 'target-arrow-color': '#7fb3e0', 'arrow-scale': 0.6,
      'curve-style': 'unbundled-bezier', 'control-point-distances': 0, 'source-endpoint': '50% 0%', 'target-endpoint': '-50% 0%' } },
    { selector: 'edge.bundled', style: { 'opacity': 0.35 } },
    { selector: 'node.path', style: { 'border-width': 4, 'border-color': '#1f6feb', 'border-style': 'dashed' } },
    { selector: 'edge.path', style: { 'width': 4, 'line-color': '#1f6feb', 'target-arrow-color': '#1f6feb', 'line-style': 'dashed' } },
    { selector: 'node.col.trace', style: { 'background-color': '#ffe3b0', 'border-color': '#f08c00', 'border-width': 2 } },
    { selector: 'node.col.traceRoot', style: { 'background-color': '#f5b041' } },
    { selector: 'edge.trace', style: { 'width': 3, 'line-color': '#f08c00', 'target-arrow-color': '#f08c00', 'opacity': 1 } },
    { selector: '.dim', style: { 'opacity': 0.2 } },
    { selector: ':selected', style: { 'overlay-opacity': 0.15 } },
  ],
});
state.cy = cy;

// ---- graph building ------------------------------------------------------------

function addRef(ref) {
  state.refs.set(ref.id, ref);
  if (cy.getElementById(ref.id).nonempty()) return;
  const [color, icon] = TYPE_STYLE[ref.type] || ['#555', '●'];
  cy.add({ group: 'nodes', classes: 'entity', data: { id: ref.id, label: `${icon} ${ref.name}`, color, type: ref.type, fqn: ref.fullyQualifiedName, h: HEADER_H } });
}

function edgeLabel(details) {
  const p = details && details.pipeline;
  if (!p) return {};
  const doc = state.pipelines.get(p.id);
  const run = doc && doc.pipelineStatus && doc.pipelineStatus.executionStatus;
  return { label: `⚙ ${p.name}${run ? ' ' + (RUN_GLYPH[run] || run) : ''}`, run };
}

function addEdge(from, to, details) {
  const id = `${from}->${to}`;
  // Column lineage adds edges without details; never let it erase known ones.
  if (details || !state.edges.has(id)) state.edges.set(id, { from, to, details });
  const d = state.edges.get(id).details;
  if (cy.getElementById(id).empty() && cy.getElementById(from).nonempty() && cy.getElementById(to).nonempty()) {
    const { label, run } = edgeLabel(d);
    const e = cy.add({ group: 'edges', classes: 'tedge', data: { id, source: from, target: to, ...(label ? { label } : {}) } });
    if (run) e.addClass(`run-${run}`);
  }
}

// Adds a lineage answer; beyond PAGE neighbours of a node in one direction, the rest
// wait behind a "+K more" node that pages them in.
function merge(lineage) {
  const byId = new Map([[lineage.entity.id, lineage.entity], ...lineage.nodes.map((n) => [n.id, n])]);
  addRef(lineage.entity);
  const groups = new Map(); // key `${anchor}|up` -> [{ref, from, to, details}]
  for (const [list, dir] of [[lineage.upstreamEdges, 'up'], [lineage.downstreamEdges, 'down']]) {
    for (const e of list) {
      const anchor = dir === 'up' ? e.toEntity : e.fromEntity;
      const other = dir === 'up' ? e.fromEntity : e.toEntity;
      const key = `${anchor}|${dir}`;
      if (!groups.has(key)) groups.set(key, []);
      groups.get(key).push({ ref: byId.get(other), from: e.fromEntity, to: e.toEntity, details: e.lineageDetails });
    }
  }
  // Nearest first: walk anchors in BFS order from the root.
  const queue = [lineage.entity.id];
  const seen = new Set(queue);
  while (queue.length) {
    const anchor = queue.shift();
    for (const dir of ['up', 'down']) {
      const items = (groups.get(`${anchor}|${dir}`) || []).filter((i) => i.ref);
      for (const i of items.slice(0, PAGE)) {
        addRef(i.ref);
        addEdge(i.from, i.to, i.details);
        if (!seen.has(i.ref.id)) { seen.add(i.ref.id); queue.push(i.ref.id); }
      }
      const rest = items.slice(PAGE);
      if (rest.length) {
        const moreId = `more:${anchor}:${dir}`;
        state.hidden.set(moreId, { anchor, dir, items: rest });
        if (cy.getElementById(moreId).empty()) {
          cy.add({ group: 'nodes', classes: 'more', data: { id: moreId, label: `+${rest.length} more` } });
          cy.add({ group: 'edges', classes: 'tedge', data: dir === 'up' ? { id: `${moreId}-e`, source: moreId, target: anchor } : { id: `${moreId}-e`, source: anchor, target: moreId } });
        } else {
          cy.getElementById(moreId).data('label', `+${rest.length} more`);
        }
      }
    }
  }
  loadPipelines();
}

// Fetches the pipelines that drive the edges shown, once each, and puts their last
// run's status on the edges' labels.
async function loadPipelines() {
  const wanted = new Set();
  for (const e of state.edges.values()) {
    const p = e.details && e.details.pipeline;
    if (p && !state.pipelines.has(p.id)) wanted.add(p.id);
  }
  await Promise.all([...wanted].map(async (id) => {
    state.pipelines.set(id, null);
    try { state.pipelines.set(id, await api(`/api/v1/pipelines/${id}?fields=*`)); } catch { /* the edge keeps its name */ }
  }));
  if (!wanted.size) return;
  cy.batch(() => {
    for (const e of state.edges.values()) {
      const el = cy.getElementById(`${e.from}->${e.to}`);
      const { label, run } = edgeLabel(e.details);
      if (el.empty() || !label) continue;
      el.data('label', label);
      el.removeClass('run-Successful run-Failed run-Pending run-Skipped');
      if (run) el.addClass(`run-${run}`);
    }
  });
}

function pageMore(moreId) {
  const h = state.hidden.get(moreId);
  if (!h) return;
  const next = h.items.splice(0, PAGE);
  cy.batch(() => {
    for (const i of next) { addRef(i.ref); addEdge(i.from, i.to, i.details); }
    if (h.items.length) cy.getElementById(moreId).data('label', `+${h.items.length} more`);
    else { cy.getElementById(moreId).remove(); state.hidden.delete(moreId); }
  });
  refreshFilters();
  layout();
  counts();
}

function counts(extra) {
  const n = cy.nodes('.entity').length, e = cy.edges('.tedge').filter((x) => !x.source().hasClass('more') && !x.target().hasClass('more')).length;
  const waiting = [...state.hidden.values()].reduce((a, h) => a + h.items.length, 0);
  status(`${n} entities, ${e} edges${waiting ? `, ${waiting} more behind “+K more”` : ''}${extra || ''}`);
}

// ---- columns inside nodes ------------------------------------------------------

async function docOf(id) {
  if (!state.docs.has(id)) state.docs.set(id, await api(`${pathOf(state.refs.get(id))}?fields=*`));
  return state.docs.get(id);
}

// Lists an entity's columns inside its node (no-op for entities without columns). The
// caller adds the column edges once its batch of tables is open (addColumnEdges).
async function expandColumns(id) {
  if (state.expanded.has(id) || !state.refs.has(id)) return;
  const doc = await docOf(id);
  const cols = doc.columns || [];
  if (!cols.length || state.expanded.has(id)) return;
  state.expanded.add(id);
  const node = cy.getElementById(id);
  cy.batch(() => {
    node.addClass('expanded').data('h', HEADER_H + cols.length * ROW_H + 6);
    for (const c of cols) {
      const fqn = c.fullyQualifiedName || `${doc.fullyQualifiedName}.${c.name}`;
      if (cy.getElementById(colId(fqn)).empty()) {
        cy.add({ group: 'nodes', classes: 'col', grabbable: false,
          data: { id: colId(fqn), owner: id, fqn, name: c.name, label: `${c.name}  ${(c.dataType || '').toLowerCase()}` } });
      }
    }
  });
}

function collapseColumns(id) {
  if (!state.expanded.delete(id)) return;
  cy.nodes('.col').filter((n) => n.data('owner') === id).remove();
  cy.getElementById(id).removeClass('expanded').data('h', HEADER_H);
}

function colEdgeData(fromFqn, toFqn, m) {
  return { id: `c:${fromFqn}->${toFqn}`, source: colId(fromFqn), target: colId(toFqn),
    transformation: m.transformation || '', function: m.function || '' };
}

// Column-to-column edges for every table edge whose two ends list their columns.
function addColumnEdges() {
  cy.batch(() => {
    for (const e of state.edges.values()) {
      const maps = (e.details && e.details.columnsLineage) || [];
      if (!maps.length || !state.expanded.has(e.from) || !state.expanded.has(e.to)) continue;
      let drawn = 0;
      for (const m of maps) {
        for (const f of m.fromColumns) {
          const d = colEdgeData(f, m.toColumn, m);
          if (cy.getElementById(d.source).empty() || cy.getElementById(d.target).empty()) continue;
          drawn++;
          if (cy.getElementById(d.id).empty()) cy.add({ group: 'edges', classes: 'colEdge', data: d });
        }
      }
      if (drawn) cy.getElementById(`${e.from}->${e.to}`).addClass('bundled');
    }
  });
}

// Puts each listed column under its table's header (after a layout or a drag).
function placeColumns(nodes) {
  cy.batch(() => {
    for (const n of nodes) {
      if (!state.expanded.has(n.id())) continue;
      const p = n.position();
      const top = p.y - n.data('h') / 2 + HEADER_H;
      let i = 0;
      for (const c of cy.nodes('.col').filter((x) => x.data('owner') === n.id())) {
        c.position({ x: p.x, y: top + i * ROW_H + ROW_H / 2 });
        i++;
      }
    }
  });
}

// ---- layout, fit, overview -----------------------------------------------------

function layout() {
  applyFilters();
  const eles = cy.nodes('.entity, .more').union(cy.edges('.tedge'));
  eles.layout({ name: 'dagre', rankDir: 'LR', nodeSep: 22, rankSep: 110, animate: false }).run();
  placeColumns(cy.nodes('.entity'));
  fitReadable();
}

// Fits the graph, but never below MIN_ZOOM: past that the view centres on the focus
// and the overview (minimap) shows the rest.
function fitReadable() {
  cy.fit(undefined, 30);
  if (cy.zoom() < MIN_ZOOM) {
    const f = state.focus && cy.getElementById(state.focus.id);
    cy.zoom(MIN_ZOOM);
    if (f && f.nonempty()) cy.center(f); else cy.center();
  }
  drawMinimap();
}

const minimap = $('minimap');
let minimapQueued = false;
function drawMinimap() {
  if (minimapQueued) return;
  minimapQueued = true;
  requestAnimationFrame(() => { minimapQueued = false; paintMinimap(); });
}
function minimapTransform() {
  const bb = cy.nodes(':visible').boundingBox();
  const w = minimap.width, h = minimap.height, pad = 6;
  const s = Math.min((w - 2 * pad) / Math.max(bb.w, 1), (h - 2 * pad) / Math.max(bb.h, 1));
  return { bb, s, ox: pad + ((w - 2 * pad) - bb.w * s) / 2, oy: pad + ((h - 2 * pad) - bb.h * s) / 2 };
}
function paintMinimap() {
  const entities = cy.nodes('.entity');
  minimap.hidden = entities.length === 0;
  state.minimap = !minimap.hidden;
  if (minimap.hidden) return;
  const g = minimap.getContext('2d');
  const { bb, s, ox, oy } = minimapTransform();
  g.clearRect(0, 0, minimap.width, minimap.height);
  cy.nodes('.entity, .more').filter(':visible').forEach((n) => {
    const b = n.boundingBox({ includeLabels: false });
    g.fillStyle = n.hasClass('more') ? '#bbb' : n.data('color');
    g.fillRect(ox + (b.x1 - bb.x1) * s, oy + (b.y1 - bb.y1) * s, Math.max(b.w * s, 1.5), Math.max(b.h * s, 1.5));
  });
  const ext = cy.extent();
  g.strokeStyle = '#b00020';
  g.lineWidth = 1.5;
  g.strokeRect(ox + (ext.x1 - bb.x1) * s, oy + (ext.y1 - bb.y1) * s, ext.w * s, ext.h * s);
}
// Click or drag on the overview: centre the view there.
function minimapPan(ev) {
  const r = minimap.getBoundingClientRect();
  const { bb, s, ox, oy } = minimapTransform();
  const x = bb.x1 + ((ev.clientX - r.left) * (minimap.width / r.width) - ox) / s;
  const y = bb.y1 + ((ev.clientY - r.top) * (minimap.height / r.height) - oy) / s;
  const z = cy.zoom();
  cy.pan({ x: cy.width() / 2 - x * z, y: cy.height() / 2 - y * z });
}
minimap.onmousedown = (ev) => {
  minimapPan(ev);
  const move = (e) => minimapPan(e);
  const up = () => { window.removeEventListener('mousemove', move); window.removeEventListener('mouseup', up); };
  window.addEventListener('mousemove', move);
  window.addEventListener('mouseup', up);
};
cy.on('viewport add remove position', drawMinimap);

function legend() {
  const box = $('legend');
  const types = [...new Set(cy.nodes('.entity').map((n) => n.data('type')))].sort();
  if (!types.length) { box.hidden = true; return; }
  const runs = new Set(cy.edges('.tedge').map((e) => e.classes().find((c) => c.startsWith('run-'))).filter(Boolean));
  box.innerHTML = `<h4>Legend</h4>${types.map((t) => {
    const [color, icon] = TYPE_STYLE[t] || ['#555', '●'];
    return `<div class="row" data-type="${esc(t)}"><span class="sw" style="background:${color}"></span>${icon} ${esc(t)}</div>`;
  }).join('')}${EDGE_STYLES.map(([name, style, color]) =>
    `<div class="row" data-edge="${esc(name)}"><span class="ln" style="border-top-style:${style};border-top-color:${color}"></span>${esc(name)}</div>`).join('')}
    <div class="row" data-edge="pipeline">⚙ pipeline on its edges${runs.size ? ': ' + [...runs].map((r) => r.slice(4)).map((r) => `<span class="run-${r}">${RUN_GLYPH[r] || ''} ${r}</span>`).join(' ') : ''}</div>`;
  box.hidden = false;
}

// ---- focus, expand, collapse ---------------------------------------------------

function depth(dir) { return $(dir).value; }

// Loads `target` ({type, fullyQualifiedName}) as the focus. `push`: add a history entry.
async function focus(target, push = true) {
  state.refs.clear(); state.edges.clear(); state.hidden.clear(); state.expanded.clear(); state.docs.clear();
  state.trace = null; state.columnPath = new Set(); state.selected = null;
  cy.elements().remove();
  status(`loading ${target.fullyQualifiedName} …`);
  try {
    const l = await api(`/api/v1/lineage/${target.type}/name/${encodeURIComponent(target.fullyQualifiedName)}?upstreamDepth=${depth('up')}&downstreamDepth=${depth('down')}&includeTransformations=true`);
    state.focus = l.entity;
    state.view = { type: l.entity.type, fqn: l.entity.fullyQualifiedName, up: depth('up'), down: depth('down') };
    cy.batch(() => merge(l));
    cy.getElementById(l.entity.id).addClass('focus');
    if ($('columns').checked) await expandAll();
    refreshFilters();
    layout();
    legend();
    counts(l.truncated ? ' (truncated by the server’s node budget)' : '');
    writeUrl(push);
    await showEntity(l.entity);
  } catch (e) { fail(e); }
}

async function expand(ref, dir) {
  const q = dir === 'up' ? 'upstreamDepth=1&downstreamDepth=0' : 'upstreamDepth=0&downstreamDepth=1';
  status(`loading ${dir === 'up' ? 'upstream' : 'downstream'} of ${ref.fullyQualifiedName} …`);
  try {
    const l = await api(`/api/v1/lineage/${ref.type}/name/${encodeURIComponent(ref.fullyQualifiedName)}?${q}&includeTransformations=true`);
    cy.batch(() => merge(l));
    if ($('columns').checked) await expandAll();
    addColumnEdges();
    refreshFilters();
    layout();
    legend();
    counts();
  } catch (e) { fail(e); }
}

function removeEntities(nodes) {
  for (const n of nodes) { collapseColumns(n.id()); state.refs.delete(n.id()); }
  nodes.remove();
}

// Removes everything only reachable through `ref` in one direction.
function collapse(ref, dir) {
  const node = cy.getElementById(ref.id);
  const tables = (n) => n.filter('.entity, .more');
  const side = tables(dir === 'up' ? node.predecessors('node') : node.successors('node'));
  const focusId = state.focus && state.focus.id;
  const keep = cy.getElementById(focusId);
  const other = tables(dir === 'up' ? keep.successors('node') : keep.predecessors('node'));
  removeEntities(side.filter((n) => n.id() !== focusId && !other.contains(n)));
  layout();
  legend();
  counts();
}

async function expandAll() {
  const ids = cy.nodes('.entity').filter((n) => n.data('type') === 'table' || n.data('type') === 'dashboardDataModel').map((n) => n.id());
  const todo = ids.slice(0, EXPAND_ALL_MAX);
  for (let i = 0; i < todo.length; i += 8) await Promise.all(todo.slice(i, i + 8).map(expandColumns));
  addColumnEdges();
  if (ids.length > todo.length) status(`columns listed for the first ${todo.length} of ${ids.length} tables; double-click a table for its own`);
}

async function toggleColumns(id) {
  try {
    if (state.expanded.has(id)) collapseColumns(id); else { await expandColumns(id); addColumnEdges(); }
    layout();
  } catch (e) { fail(e); }
}

// ---- highlights ----------------------------------------------------------------

function clearPath() { cy.elements().removeClass('path'); }

function highlightPath(target) {
  clearPath();
  if (!state.focus || target.id() === state.focus.id) return;
  const source = cy.getElementById(state.focus.id);
  const graph = cy.nodes('.entity').union(cy.edges('.tedge'));
  let r = graph.aStar({ root: source, goal: target, directed: true });
  if (!r.found) r = graph.aStar({ root: target, goal: source, directed: true });
  if (r.found) r.path.addClass('path');
}

function clearTrace() {
  cy.elements().removeClass('trace traceRoot dim');
  state.trace = null;
  state.columnPath = new Set();
}

// Traces a column's whole path up and down: the tables on it are added and opened,
// its column edges drawn, everything else dimmed.
async function traceColumn(fqn, push = true) {
  status(`tracing ${fqn} …`);
  try {
    const r = await api(`/api/v1/lineage/column/name/${encodeURIComponent(fqn)}?upstreamDepth=10&downstreamDepth=10`);
    const tables = [r.table, ...r.columns.map((c) => c.table)];
    cy.batch(() => {
      for (const t of tables) addRef(t);
      for (const e of r.edges) addEdge(e.fromEntity, e.toEntity, null);
    });
    const ids = [...new Set(tables.map((t) => t.id))];
    for (let i = 0; i < ids.length; i += 8) await Promise.all(ids.slice(i, i + 8).map(expandColumns));
    addColumnEdges();
    cy.batch(() => {
      for (const e of r.edges) {
        const d = colEdgeData(e.fromColumn, e.toColumn, e);
        if (cy.getElementById(d.id).empty() && cy.getElementById(d.source).nonempty() && cy.getElementById(d.target).nonempty()) {
          cy.add({ group: 'edges', classes: 'colEdge', data: d });
        }
        cy.getElementById(`${e.fromEntity}->${e.toEntity}`).addClass('bundled');
      }
    });
    clearTrace();
    const columns = new Set([r.column, ...r.columns.map((c) => c.column)]);
    state.trace = { column: r.column, columns, tables: new Set(ids), answer: r };
    state.columnPath = state.trace.tables;
    cy.batch(() => {
      cy.nodes('.col').forEach((n) => n.addClass(columns.has(n.data('fqn')) ? 'trace' : 'dim'));
      cy.getElementById(colId(r.column)).addClass('traceRoot');
      cy.edges('.colEdge').forEach((e) => e.addClass(columns.has(e.source().data('fqn')) && columns.has(e.target().data('fqn')) ? 'trace' : 'dim'));
      cy.nodes('.entity').filter((n) => !state.trace.tables.has(n.id())).addClass('dim');
      cy.edges('.tedge').filter((e) => !(state.trace.tables.has(e.source().id()) && state.trace.tables.has(e.target().id()))).addClass('dim');
    });
    refreshFilters();
    layout();
    legend();
    counts(` · tracing ${r.column}: ${r.columns.length} columns`);
    writeUrl(push);
    showTrace(r);
  } catch (e) { fail(e); }
}

// ---- side panel ----------------------------------------------------------------

function owners(doc) {
  return (doc.owners || []).map((o) => `<span class="chip">${esc(o.displayName || o.name || o.fullyQualifiedName)}${o.type === 'team' ? ' (team)' : ''}</span>`).join('');
}
function tags(list) { return (list || []).map((t) => `<span class="chip tag">${esc(t.tagFQN || t.name)}</span>`).join(''); }
function when(ms) { return ms ? new Date(ms).toISOString().replace('T', ' ').slice(0, 16) + ' UTC' : ''; }
function runHtml(ps) {
  if (!ps || !ps.executionStatus) return '';
  return `<span class="run-${esc(ps.executionStatus)}">${RUN_GLYPH[ps.executionStatus] || ''} ${esc(ps.executionStatus)}</span> ${esc(when(ps.timestamp))}`;
}
function facts(type, doc) {
  const f = [];
  // Values are text unless `html` says they are markup built here.
  const add = (k, v, html = false) => { if (v !== undefined && v !== null && v !== '') f.push([k, html ? v : esc(v)]); };
  add('service', doc.service && (doc.service.fullyQualifiedName || doc.service.name));
  switch (type) {
    case 'table': add('table type', doc.tableType); add('columns', (doc.columns || []).length); break;
    case 'pipeline':
      add('last run', runHtml(doc.pipelineStatus) || 'unknown', true);
      add('tasks', (doc.tasks || []).map((t) => t.name).join(', '));
      add('schedule', doc.scheduleInterval);
      break;
    case 'dashboard': add('charts', (doc.charts || []).length || undefined); add('dashboard type', doc.dashboardType); break;
    case 'topic': add('partitions', doc.partitions); add('replication', doc.replicationFactor); add('retention ms', doc.retentionTime); break;
    case 'mlmodel': add('algorithm', doc.algorithm); add('target', doc.target); add('features', (doc.mlFeatures || []).length || undefined); break;
    case 'container': add('prefix', doc.prefix); add('objects', doc.numberOfObjects); add('size', doc.size); break;
    case 'dashboardDataModel': add('model type', doc.dataModelType); add('columns', (doc.columns || []).length); break;
    case 'apiEndpoint': add('method', doc.requestMethod); add('url', doc.endpointURL); break;
    default: break;
  }
  // Only web addresses become links (never `javascript:` or `data:`).
  const url = doc.sourceUrl && String(doc.sourceUrl);
  if (url && /^https?:\/\//i.test(url)) add('source', `<a href="${esc(url)}" rel="noreferrer noopener" target="_blank">${esc(url)}</a>`, true);
  else add('source', url);
  add('version', doc.version);
  add('updated', doc.updatedAt && `${when(doc.updatedAt)}${doc.updatedBy ? ' by ' + doc.updatedBy : ''}`);
  return `<dl class="facts">${f.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${v}</dd>`).join('')}</dl>`;
}

async function showEntity(ref) {
  const panel = $('panel');
  try {
    state.docs.delete(ref.id);
    if (!state.refs.has(ref.id)) state.refs.set(ref.id, ref);
    const doc = await docOf(ref.id);
    const cols = (doc.columns || []).map((c) => `<li><a data-col="${esc(c.fullyQualifiedName)}"><code>${esc(c.name)}</code></a> <span class="muted">${esc(c.dataType)}</span> ${tags(c.tags)}${c.description ? `<br><span class="muted">${esc(c.description)}</span>` : ''}</li>`).join('');
    const hasCols = (doc.columns || []).length > 0;
    panel.innerHTML = `<h2>${esc(doc.displayName || doc.name)}</h2>
      <p class="muted">${esc(ref.type)} · ${fqnHtml(doc.fullyQualifiedName)}</p>
      ${doc.description ? `<p class="description">${esc(doc.description)}</p>` : '<p class="muted description">No description.</p>'}
      ${(doc.owners || []).length ? `<h3>Owners</h3><div class="owners">${owners(doc)}</div>` : ''}
      ${(doc.tags || []).length ? `<h3>Tags</h3><div class="tags">${tags(doc.tags)}</div>` : ''}
      ${facts(ref.type, doc)}
      <div class="buttons">
        <button data-act="up+">+ upstream</button><button data-act="up-">− upstream</button>
        <button data-act="down+">+ downstream</button><button data-act="down-">− downstream</button>
        <button data-act="focus">Focus here</button>
        ${hasCols ? `<button data-act="cols">${state.expanded.has(ref.id) ? 'Hide columns' : 'Show columns'}</button>` : ''}
      </div>
      ${cols ? `<h3>Columns (click one to trace it)</h3><ul class="cols">${cols}</ul>` : ''}`;
    panel.querySelectorAll('button[data-act]').forEach((b) => b.onclick = async () => {
      const a = b.dataset.act;
      if (a === 'focus') focus(ref);
      else if (a === 'cols') { await toggleColumns(ref.id); showEntity(ref); }
      else if (a.endsWith('+')) expand(ref, a.startsWith('up') ? 'up' : 'down');
      else collapse(ref, a.startsWith('up') ? 'up' : 'down');
    });
    panel.querySelectorAll('a[data-col]').forEach((a) => a.onclick = () => traceColumn(a.dataset.col));
    state.selected = ref;
  } catch (e) { panel.textContent = e.message; }
}

function showEdge(edgeId) {
  const e = state.edges.get(edgeId);
  if (!e) return;
  const d = e.details || {};
  const from = state.refs.get(e.from), to = state.refs.get(e.to);
  const p = d.pipeline, pdoc = p && state.pipelines.get(p.id);
  const cols = (d.columnsLineage || []).map((c) => `<li><code>${esc(c.fromColumns.map((x) => x.split('.').pop()).join(', '))}</code> → <code>${esc(c.toColumn.split('.').pop())}</code>${c.transformation ? ` <span class="muted">${esc(c.transformation)}</span>` : ''}${c.function ? ` <code class="muted">${esc(c.function)}</code>` : ''}</li>`).join('');
  $('panel').innerHTML = `<h2>Edge</h2><p>${esc(from && from.name)} → ${esc(to && to.name)}</p>
    <p class="muted">source: ${esc(d.source)}</p>
    ${p ? `<h3>Pipeline</h3><p class="pipeline">⚙ ${fqnHtml(p.fullyQualifiedName)}${pdoc ? ` · last run ${runHtml(pdoc.pipelineStatus) || 'unknown'}` : ''}</p>` : ''}
    ${cols ? `<h3>Column lineage</h3><ul class="cols">${cols}</ul>` : ''}
    ${d.sqlQuery ? `<h3>SQL</h3><pre>${esc(d.sqlQuery)}</pre>` : ''}`;
}

function showTrace(r) {
  const row = (c) => `<li><a data-col="${esc(c.column)}"><code>${esc(c.column.split('.').slice(-2).join('.'))}</code></a> <span class="muted">${c.direction} ${c.depth}</span></li>`;
  const up = r.columns.filter((c) => c.direction === 'upstream').sort((a, b) => a.depth - b.depth);
  const down = r.columns.filter((c) => c.direction === 'downstream').sort((a, b) => a.depth - b.depth);
  const how = r.edges.map((e) => `<li><code>${esc(e.fromColumn.split('.').slice(-2).join('.'))}</code> → <code>${esc(e.toColumn.split('.').slice(-2).join('.'))}</code> <span class="muted">${esc(e.transformation || '')}</span>${e.function ? ` <code class="muted">${esc(e.function)}</code>` : ''}</li>`).join('');
  $('panel').innerHTML = `<h2>Column trace</h2><p>${fqnHtml(r.column)}</p>
    <h3>Upstream (${up.length})</h3><ul class="cols">${up.map(row).join('')}</ul>
    <h3>Downstream (${down.length})</h3><ul class="cols">${down.map(row).join('')}</ul>
    <h3>Edges</h3><ul class="cols">${how}</ul>`;
  $('panel').querySelectorAll('a[data-col]').forEach((a) => a.onclick = () => traceColumn(a.dataset.col));
}

// ---- hover ---------------------------------------------------------------------

const tip = $('tip');
function showTip(html, pos) {
  tip.innerHTML = html;
  tip.hidden = false;
  tip.style.left = `${Math.min(pos.x + 12, $('stage').clientWidth - 260)}px`;
  tip.style.top = `${pos.y + 12}px`;
}
cy.on('mouseover', 'node.entity', (ev) => {
  const n = ev.target;
  showTip(`<b>${esc(n.data('type'))}</b> ${esc(n.data('fqn'))}`, ev.renderedPosition || n.renderedPosition());
});
cy.on('mouseover', 'node.col', (ev) => {
  const n = ev.target;
  showTip(`<b>column</b> ${esc(n.data('fqn'))}<br>${esc(n.data('label'))}`, ev.renderedPosition || n.renderedPosition());
});
cy.on('mouseover', 'edge.colEdge', (ev) => {
  const e = ev.target;
  const t = e.data('transformation'), f = e.data('function');
  showTip(`${esc(e.source().data('name'))} → ${esc(e.target().data('name'))}<br><b>${esc(t || 'transformation unknown')}</b>${f ? `<br><code>${esc(f)}</code>` : ''}`,
    ev.renderedPosition || e.renderedMidpoint());
});
cy.on('mouseover', 'edge.tedge', (ev) => {
  const e = ev.target;
  const d = state.edges.get(e.id());
  const p = d && d.details && d.details.pipeline;
  if (!p) return;
  const doc = state.pipelines.get(p.id);
  showTip(`⚙ ${esc(p.fullyQualifiedName)}${doc ? `<br>last run: ${runHtml(doc.pipelineStatus) || 'unknown'}` : ''}`, ev.renderedPosition || e.renderedMidpoint());
});
cy.on('mouseout', () => { tip.hidden = true; });
cy.on('viewport', () => { tip.hidden = true; });

// ---- filters and export --------------------------------------------------------

function refreshFilters() {
  const types = new Set(), services = new Set();
  cy.nodes('.entity').forEach((n) => { types.add(n.data('type')); services.add(serviceOf(n.data('fqn'))); });
  const tbox = $('types');
  const was = new Map([...tbox.querySelectorAll('input')].map((i) => [i.value, i.checked]));
  tbox.innerHTML = '';
  for (const t of [...types].sort()) {
    const l = document.createElement('label');
    l.innerHTML = `<input type="checkbox" value="${esc(t)}" ${was.get(t) === false ? '' : 'checked'}> ${esc(t)}`;
    l.querySelector('input').onchange = applyFilters;
    tbox.appendChild(l);
  }
  const sel = $('service');
  const cur = sel.value;
  sel.innerHTML = '<option value="">all services</option>' + [...services].sort().map((s) => `<option ${s === cur ? 'selected' : ''}>${esc(s)}</option>`).join('');
}
function applyFilters() {
  const on = new Set([...$('types').querySelectorAll('input:checked')].map((i) => i.value));
  const svc = $('service').value;
  cy.batch(() => {
    cy.nodes('.entity').forEach((n) => {
      const keep = (on.size === 0 || on.has(n.data('type'))) && (!svc || serviceOf(n.data('fqn')) === svc) || n.hasClass('focus');
      n.toggleClass('filtered', !keep);
    });
    cy.nodes('.col').forEach((c) => c.toggleClass('filtered', cy.getElementById(c.data('owner')).hasClass('filtered')));
  });
  drawMinimap();
}

function download(name, blob) {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = name;
  document.body.appendChild(a); a.click(); a.remove();
}
function exportCsv() {
  const q = (s) => `"${String(s ?? '').replace(/"/g, '""')}"`;
  const rows = [['from', 'fromType', 'to', 'toType', 'source', 'pipeline', 'columnLineage', 'sqlQuery'].join(',')];
  for (const e of state.edges.values()) {
    const f = state.refs.get(e.from), t = state.refs.get(e.to), d = e.details || {};
    const cols = (d.columnsLineage || []).flatMap((c) => c.fromColumns.map((x) => `${x}:${c.toColumn}`)).join(';');
    rows.push([q(f && f.fullyQualifiedName), q(f && f.type), q(t && t.fullyQualifiedName), q(t && t.type), q(d.source), q(d.pipeline && d.pipeline.fullyQualifiedName), q(cols), q(d.sqlQuery)].join(','));
  }
  download('lineage.csv', new Blob([rows.join('\n') + '\n'], { type: 'text/csv' }));
}

// ---- the address bar -----------------------------------------------------------

function urlState() {
  const p = new URLSearchParams();
  if (!state.focus) return p;
  p.set('type', state.focus.type);
  p.set('fqn', state.focus.fullyQualifiedName);
  p.set('up', depth('up'));
  p.set('down', depth('down'));
  if (state.trace) p.set('column', state.trace.column);
  return p;
}
function writeUrl(push) {
  const q = '?' + urlState().toString();
  if (q === location.search) return;
  if (push) history.pushState(null, '', q); else history.replaceState(null, '', q);
}
function setDepth(id, v) {
  const sel = $(id);
  if (v === null || v === undefined) return;
  if (![...sel.options].some((o) => o.value === v)) sel.add(new Option(v, v));
  sel.value = v;
}
// Shows what the address bar says (on load, back and forward).
async function readUrl() {
  const p = new URLSearchParams(location.search);
  const fqn = p.get('fqn');
  if (!fqn) return;
  setDepth('up', p.get('up'));
  setDepth('down', p.get('down'));
  const type = p.get('type') || 'table';
  const v = state.view;
  const same = v && v.fqn === fqn && v.type === type && v.up === depth('up') && v.down === depth('down');
  if (!same) await focus({ type, fullyQualifiedName: fqn }, false);
  const column = p.get('column');
  if (column && (!state.trace || state.trace.column !== column)) await traceColumn(column, false);
  else if (!column && state.trace) { clearTrace(); layout(); counts(); if (state.focus) showEntity(state.focus); }
}
window.addEventListener('popstate', () => { readUrl(); });

// ---- search --------------------------------------------------------------------

let searchTimer = null;
let searchSeq = 0;
async function search() {
  const q = $('q').value.trim();
  const box = $('results');
  const seq = ++searchSeq;
  if (!q) { box.hidden = true; return; }
  try {
    const r = await api(`/api/v1/search/query?q=${encodeURIComponent(q)}&size=12`);
    if (seq !== searchSeq) return; // a newer search (or a choice) came first
    box.innerHTML = '';
    const word = q.toLowerCase();
    const item = (html, cls, onclick) => {
      const li = document.createElement('li');
      li.innerHTML = html;
      if (cls) li.className = cls;
      li.onclick = () => { closeResults(); onclick(); };
      box.appendChild(li);
    };
    let columnHits = 0;
    for (const h of r.hits.hits) {
      const s = h._source;
      const ref = { type: s.entityType, fullyQualifiedName: s.fullyQualifiedName };
      item(`<span class="badge" style="background:${(TYPE_STYLE[ref.type] || ['#555'])[0]}">${esc(ref.type)}</span> ${esc(ref.fullyQualifiedName)}`, '',
        () => { $('q').value = ref.fullyQualifiedName; focus(ref); });
      // Columns whose name matches: open the table and trace the column.
      for (const c of (s.columns || []).filter((c) => c.name.toLowerCase().includes(word)).slice(0, 4)) {
        const fqn = c.fullyQualifiedName || `${s.fullyQualifiedName}.${c.name}`;
        columnHits++;
        item(`<span class="badge" style="background:#5b6b7a">column</span> ${esc(s.name)}.<b>${esc(c.name)}</b> <span class="muted">${esc(c.dataType || '')}</span>`, 'column',
          async () => { $('q').value = fqn; await focus(ref); await traceColumn(fqn); });
      }
    }
    box.hidden = r.hits.hits.length === 0;
    const total = r.hits.total.value ?? r.hits.total;
    status(total ? `${total} matching entities${columnHits ? `, ${columnHits} columns shown` : ''}` : `nothing matches “${q}”`);
  } catch (e) { if (seq === searchSeq) fail(e); }
}
function closeResults() { searchSeq++; clearTimeout(searchTimer); $('results').hidden = true; }

// ---- wiring --------------------------------------------------------------------

$('token').value = token();
$('token').onchange = () => {
  localStorage.setItem(TOKEN_KEY, $('token').value.trim());
  status('token saved');
  if ($('q').value.trim()) search();
  else if (new URLSearchParams(location.search).get('fqn') && !state.focus) readUrl();
};
$('q').oninput = () => { clearTimeout(searchTimer); searchTimer = setTimeout(search, 150); };
$('q').onkeydown = (e) => {
  if (e.key === 'Enter') { clearTimeout(searchTimer); search(); }
  if (e.key === 'Escape') closeResults();
};
document.addEventListener('mousedown', (e) => { if (!e.target.closest('#results, #q')) closeResults(); });
$('up').onchange = $('down').onchange = () => { if (state.focus) focus(state.focus); };
$('columns').onchange = async () => {
  try {
    if ($('columns').checked) await expandAll();
    else for (const id of [...state.expanded]) collapseColumns(id);
    layout();
  } catch (e) { fail(e); }
};
$('service').onchange = applyFilters;
$('fit').onclick = () => { cy.fit(undefined, 20); drawMinimap(); };
$('png').onclick = () => download('lineage.png', cy.png({ full: true, bg: '#ffffff', output: 'blob', scale: 2 }));
$('csv').onclick = exportCsv;
cy.on('position', 'node.entity', (ev) => { if (state.expanded.has(ev.target.id())) placeColumns([ev.target]); });
cy.on('tap', 'node', (ev) => {
  const n = ev.target;
  if (n.hasClass('more')) { pageMore(n.id()); return; }
  if (n.hasClass('col')) { traceColumn(n.data('fqn')); return; }
  const ref = state.refs.get(n.id());
  highlightPath(n);
  if (ref) showEntity(ref);
});
cy.on('dbltap', 'node.entity', (ev) => toggleColumns(ev.target.id()));
cy.on('tap', 'edge.tedge', (ev) => showEdge(ev.target.id()));
if (new URLSearchParams(location.search).get('fqn') && token()) {
  readUrl();
} else {
  status(token() ? 'search for a table, a column, a dashboard or a pipeline' : 'paste a token (headwaters token create) to start, then search');
}
