// Headwaters lineage viewer: search -> an entity -> its lineage, laid out left to right.
// Talks only to the server that served it (REST API under /api/v1).
import cytoscape from 'cytoscape';
import dagre from 'cytoscape-dagre';

cytoscape.use(dagre);

const TOKEN_KEY = 'headwaters.token';
const PAGE = 25; // neighbours shown per node and direction before a "+K more" node
const TYPE_STYLE = {
  table: ['#2b7bb9', '▦'], dashboard: ['#d9822b', '◧'], pipeline: ['#7a4fbf', '⚙'],
  topic: ['#2e9d6e', '✉'], mlmodel: ['#c2417a', '◆'], container: ['#6b7785', '▣'],
  storedProcedure: ['#8a6d3b', 'ƒ'], dashboardDataModel: ['#b8860b', '◩'], searchIndex: ['#3a8fa3', '⌕'],
  apiEndpoint: ['#4a6fa5', '⇄'], metric: ['#a0522d', '∑'], chart: ['#e07b39', '◔'],
};
const $ = (id) => document.getElementById(id);
const state = { focus: null, refs: new Map(), edges: new Map(), hidden: new Map(), columnPath: new Set() };
window.hwViewer = state; // for tests and the console

function token() { return localStorage.getItem(TOKEN_KEY) || ''; }
async function api(path) {
  const t = token();
  const r = await fetch(path, { headers: t ? { Authorization: 'Bearer ' + t } : {} });
  const body = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error(body.message || r.statusText);
  return body;
}
function collectionOf(ref) { return new URL(ref.href, location.href).pathname.replace(/\/[^/]+$/, ''); }
function status(msg, isError) { const s = $('status'); s.textContent = msg; s.className = isError ? 'error' : ''; }
function serviceOf(fqn) { const m = fqn.match(/^("[^"]*"|[^.]*)/); return m ? m[1].replace(/"/g, '') : ''; }

const cy = cytoscape({
  container: $('graph'),
  wheelSensitivity: 0.3,
  style: [
    { selector: 'node', style: {
      'shape': 'round-rectangle', 'width': 190, 'height': 38, 'background-color': 'data(color)',
      'label': 'data(label)', 'color': '#fff', 'font-size': 11, 'text-valign': 'center', 'text-halign': 'center',
      'text-wrap': 'ellipsis', 'text-max-width': 180 } },
    { selector: 'node.focus', style: { 'border-width': 4, 'border-color': '#111' } },
    { selector: 'node.more', style: { 'background-color': '#eee', 'color': '#333', 'border-width': 1, 'border-color': '#999', 'shape': 'round-tag' } },
    { selector: 'node.path, node.colpath', style: { 'border-width': 4, 'border-color': '#f5c400' } },
    { selector: 'node.filtered', style: { 'display': 'none' } },
    { selector: 'edge', style: { 'width': 2, 'line-color': '#9aa5b1', 'target-arrow-color': '#9aa5b1',
      'target-arrow-shape': 'triangle', 'curve-style': 'bezier' } },
    { selector: 'edge.path, edge.colpath', style: { 'width': 4, 'line-color': '#f5c400', 'target-arrow-color': '#f5c400' } },
    { selector: ':selected', style: { 'overlay-opacity': 0.15 } },
  ],
});
state.cy = cy;

function addRef(ref) {
  state.refs.set(ref.id, ref);
  if (cy.getElementById(ref.id).nonempty()) return;
  const [color, icon] = TYPE_STYLE[ref.type] || ['#555', '●'];
  cy.add({ group: 'nodes', data: { id: ref.id, label: `${icon} ${ref.name}`, color, type: ref.type, fqn: ref.fullyQualifiedName } });
}
function addEdge(from, to, details) {
  const id = `${from}->${to}`;
  // Column lineage adds edges without details; never let it erase known ones.
  if (details || !state.edges.has(id)) state.edges.set(id, { from, to, details });
  if (cy.getElementById(id).empty() && cy.getElementById(from).nonempty() && cy.getElementById(to).nonempty()) {
    cy.add({ group: 'edges', data: { id, source: from, target: to } });
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
      const shown = items.slice(0, PAGE);
      for (const i of shown) {
        addRef(i.ref);
        addEdge(i.from, i.to, i.details);
        if (!seen.has(i.ref.id)) { seen.add(i.ref.id); queue.push(i.ref.id); }
      }
      const rest = items.slice(PAGE);
      if (rest.length) {
        const moreId = `more:${anchor}:${dir}`;
        state.hidden.set(moreId, { anchor, dir, items: rest });
        if (cy.getElementById(moreId).empty()) {
          cy.add({ group: 'nodes', classes: 'more', data: { id: moreId, label: `+${rest.length} more`, color: '#eee' } });
          cy.add({ group: 'edges', data: dir === 'up' ? { id: `${moreId}-e`, source: moreId, target: anchor } : { id: `${moreId}-e`, source: anchor, target: moreId } });
        } else {
          cy.getElementById(moreId).data('label', `+${rest.length} more`);
        }
      }
    }
  }
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
  layout();
}

function layout() {
  applyFilters();
  cy.layout({ name: 'dagre', rankDir: 'LR', nodeSep: 18, rankSep: 90, animate: false }).run();
  cy.fit(undefined, 30);
}

async function focus(ref) {
  state.focus = ref;
  state.refs.clear(); state.edges.clear(); state.hidden.clear(); state.columnPath.clear();
  cy.elements().remove();
  const up = $('up').value, down = $('down').value;
  status(`loading ${ref.fullyQualifiedName} …`);
  try {
    const l = await api(`/api/v1/lineage/${ref.type}/name/${encodeURIComponent(ref.fullyQualifiedName)}?upstreamDepth=${up}&downstreamDepth=${down}`);
    cy.batch(() => merge(l));
    cy.getElementById(l.entity.id).addClass('focus');
    refreshFilters();
    layout();
    status(`${cy.nodes().not('.more').length} entities, ${cy.edges().length} edges${l.truncated ? ' (truncated by the server’s node budget)' : ''}`);
    await showEntity(l.entity);
    if ($('columns').checked) await showColumns();
  } catch (e) { status(e.message, true); }
}

async function expand(ref, dir) {
  const q = dir === 'up' ? 'upstreamDepth=1&downstreamDepth=0' : 'upstreamDepth=0&downstreamDepth=1';
  try {
    const l = await api(`/api/v1/lineage/${ref.type}/name/${encodeURIComponent(ref.fullyQualifiedName)}?${q}`);
    cy.batch(() => merge(l));
    refreshFilters();
    layout();
    status(`${cy.nodes().not('.more').length} entities, ${cy.edges().length} edges`);
  } catch (e) { status(e.message, true); }
}

// Removes everything only reachable through `ref` in one direction.
function collapse(ref, dir) {
  const node = cy.getElementById(ref.id);
  const side = dir === 'up' ? node.predecessors('node') : node.successors('node');
  const focusId = state.focus && state.focus.id;
  const keep = cy.getElementById(focusId);
  const other = dir === 'up' ? keep.successors('node') : keep.predecessors('node');
  side.filter((n) => n.id() !== focusId && !other.contains(n)).remove();
  layout();
}

function highlightPath(target) {
  cy.elements().removeClass('path');
  if (!state.focus || target.id() === state.focus.id) return;
  const source = cy.getElementById(state.focus.id);
  for (const directed of [true]) {
    let r = cy.elements().aStar({ root: source, goal: target, directed });
    if (!r.found) r = cy.elements().aStar({ root: target, goal: source, directed });
    if (r.found) r.path.addClass('path');
  }
}

function esc(s) { return String(s ?? '').replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' }[c])); }

async function showEntity(ref) {
  const panel = $('panel');
  try {
    const doc = await api(new URL(ref.href, location.href).pathname);
    const cols = (doc.columns || []).map((c) => `<li><code>${esc(c.name)}</code> ${esc(c.dataType)}</li>`).join('');
    panel.innerHTML = `<h2>${esc(doc.displayName || doc.name)}</h2>
      <p class="muted">${esc(ref.type)} · ${esc(doc.fullyQualifiedName)}</p>
      ${doc.description ? `<p>${esc(doc.description)}</p>` : ''}
      <div class="buttons">
        <button data-act="up+">+ upstream</button><button data-act="up-">− upstream</button>
        <button data-act="down+">+ downstream</button><button data-act="down-">− downstream</button>
        <button data-act="focus">Focus here</button>
      </div>
      ${cols ? `<h3>Columns</h3><ul class="cols">${cols}</ul>` : ''}`;
    panel.querySelectorAll('button[data-act]').forEach((b) => b.onclick = () => {
      const a = b.dataset.act;
      if (a === 'focus') focus(ref);
      else if (a.endsWith('+')) expand(ref, a.startsWith('up') ? 'up' : 'down');
      else collapse(ref, a.startsWith('up') ? 'up' : 'down');
    });
    state.selected = ref;
  } catch (e) { panel.textContent = e.message; }
}

function showEdge(edgeId) {
  const e = state.edges.get(edgeId);
  if (!e) return;
  const d = e.details || {};
  const from = state.refs.get(e.from), to = state.refs.get(e.to);
  const cols = (d.columnsLineage || []).map((c) => `<li><code>${esc(c.fromColumns.join(', '))}</code> → <code>${esc(c.toColumn)}</code>${c.function ? ` <span class="muted">${esc(c.function)}</span>` : ''}</li>`).join('');
  $('panel').innerHTML = `<h2>Edge</h2><p>${esc(from && from.name)} → ${esc(to && to.name)}</p>
    <p class="muted">source: ${esc(d.source)}${d.pipeline ? ` · pipeline: ${esc(d.pipeline.fullyQualifiedName)}` : ''}</p>
    ${cols ? `<h3>Column lineage</h3><ul class="cols">${cols}</ul>` : ''}
    ${d.sqlQuery ? `<h3>SQL</h3><pre>${esc(d.sqlQuery)}</pre>` : ''}`;
}

// Column mode: the focus entity's columns; clicking one highlights its lineage path.
async function showColumns() {
  const list = $('columnList');
  list.innerHTML = '';
  if (!$('columns').checked || !state.focus) { list.hidden = true; cy.elements().removeClass('colpath'); return; }
  list.hidden = false;
  const doc = await api(new URL(state.focus.href, location.href).pathname);
  for (const c of doc.columns || []) {
    const b = document.createElement('button');
    b.textContent = c.name;
    b.className = 'column';
    b.onclick = () => highlightColumn(c.fullyQualifiedName, b);
    list.appendChild(b);
  }
}

async function highlightColumn(columnFqn, button) {
  document.querySelectorAll('button.column').forEach((b) => b.classList.remove('on'));
  button.classList.add('on');
  cy.elements().removeClass('colpath');
  const r = await api(`/api/v1/lineage/column/name/${encodeURIComponent(columnFqn)}?upstreamDepth=10&downstreamDepth=10`);
  const tables = new Set([r.table.id, ...r.columns.map((c) => c.table.id)]);
  for (const c of r.columns) addRef(c.table);
  for (const e of r.edges) addEdge(e.fromEntity, e.toEntity, null);
  state.columnPath = tables;
  cy.nodes().filter((n) => tables.has(n.id())).addClass('colpath');
  cy.edges().filter((e) => tables.has(e.source().id()) && tables.has(e.target().id())).addClass('colpath');
  layout();
  const cols = r.columns.map((c) => `<li><code>${esc(c.column)}</code> <span class="muted">${c.direction} ${c.depth}</span></li>`).join('');
  $('panel').innerHTML = `<h2>${esc(columnFqn)}</h2><h3>Column lineage (${r.columns.length})</h3><ul class="cols">${cols}</ul>`;
}

// Filters by entity type and service.
function refreshFilters() {
  const types = new Set(), services = new Set();
  cy.nodes().not('.more').forEach((n) => { types.add(n.data('type')); services.add(serviceOf(n.data('fqn'))); });
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
  cy.nodes().not('.more').forEach((n) => {
    const keep = (on.size === 0 || on.has(n.data('type'))) && (!svc || serviceOf(n.data('fqn')) === svc) || n.hasClass('focus');
    n.toggleClass('filtered', !keep);
  });
}

function download(name, blob) {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = name;
  document.body.appendChild(a); a.click(); a.remove();
}
function exportCsv() {
  const q = (s) => `"${String(s ?? '').replace(/"/g, '""')}"`;
  const rows = [['from', 'fromType', 'to', 'toType', 'source', 'columnLineage', 'sqlQuery'].join(',')];
  for (const e of state.edges.values()) {
    const f = state.refs.get(e.from), t = state.refs.get(e.to), d = e.details || {};
    const cols = (d.columnsLineage || []).flatMap((c) => c.fromColumns.map((x) => `${x}:${c.toColumn}`)).join(';');
    rows.push([q(f && f.fullyQualifiedName), q(f && f.type), q(t && t.fullyQualifiedName), q(t && t.type), q(d.source), q(cols), q(d.sqlQuery)].join(','));
  }
  download('lineage.csv', new Blob([rows.join('\n') + '\n'], { type: 'text/csv' }));
}

// Search box.
let searchTimer = null;
async function search() {
  const q = $('q').value.trim();
  const box = $('results');
  if (!q) { box.hidden = true; return; }
  try {
    const r = await api(`/api/v1/search/query?q=${encodeURIComponent(q)}&size=12`);
    box.innerHTML = '';
    for (const h of r.hits.hits) {
      const s = h._source;
      const ref = { id: s.id, type: s.entityType, name: s.name, fullyQualifiedName: s.fullyQualifiedName, href: s.href };
      const li = document.createElement('li');
      li.innerHTML = `<span class="badge" style="background:${(TYPE_STYLE[ref.type] || ['#555'])[0]}">${esc(ref.type)}</span> ${esc(ref.fullyQualifiedName)}`;
      li.onclick = () => { box.hidden = true; $('q').value = ref.fullyQualifiedName; focus(ref); };
      box.appendChild(li);
    }
    box.hidden = r.hits.hits.length === 0;
    if (!r.hits.hits.length) status(`nothing matches “${q}”`);
  } catch (e) { status(e.message, true); }
}

$('token').value = token();
$('token').onchange = () => localStorage.setItem(TOKEN_KEY, $('token').value.trim());
$('q').oninput = () => { clearTimeout(searchTimer); searchTimer = setTimeout(search, 150); };
$('q').onkeydown = (e) => { if (e.key === 'Enter') { clearTimeout(searchTimer); search(); } };
$('up').onchange = $('down').onchange = () => state.focus && focus(state.focus);
$('columns').onchange = showColumns;
$('service').onchange = applyFilters;
$('png').onclick = () => download('lineage.png', cy.png({ full: true, bg: '#ffffff', output: 'blob', scale: 2 }));
$('csv').onclick = exportCsv;
cy.on('tap', 'node', (ev) => {
  const n = ev.target;
  if (n.hasClass('more')) { pageMore(n.id()); return; }
  const ref = state.refs.get(n.id());
  highlightPath(n);
  if (ref) showEntity(ref);
});
cy.on('tap', 'edge', (ev) => showEdge(ev.target.id()));
status(token() ? 'search for a table, dashboard or pipeline' : 'paste a token (headwaters token create) to start, then search');
