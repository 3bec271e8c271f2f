// Browser test: Debian's chromium, driven by playwright-core, against a running
// `headwaters serve --demo`. Every host but loopback is blocked, so a CDN dependency
// fails the test. Run by server/tests/browser.rs with HW_URL, HW_TOKEN and OUT_DIR.
import { chromium } from 'playwright-core';
import { readFileSync } from 'node:fs';
import assert from 'node:assert/strict';

const { HW_URL, HW_TOKEN, OUT_DIR } = process.env;
const FCT = 'warehouse.analytics.marts.fct_orders';
const STG = 'warehouse.analytics.staging.stg_orders';
const RAW = 'warehouse.analytics.raw.orders';
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
    '--no-first-run', '--disable-quic', '--disable-sync'],
});
// The test drives the pages with page.waitForFunction, which evaluates strings in the
// page: the pages' Content-Security-Policy (no eval) is bypassed for this context and
// checked on its own at the end, in a context that keeps it.
const context = await browser.newContext({ viewport: { width: 1400, height: 860 }, acceptDownloads: true, bypassCSP: true });
const blocked = [];
const loopbackOnly = (route) => {
  const u = new URL(route.request().url());
  if (u.hostname === '127.0.0.1' || u.hostname === 'localhost') return route.continue();
  blocked.push(u.href);
  return route.abort();
};
await context.route('**/*', loopbackOnly);
const page = await context.newPage();
const errors = [];
page.on('pageerror', (e) => errors.push(String(e)));
let step = 0;
const ok = (what) => console.log(`ok ${++step} - ${what}`);

// REST calls from the test itself (to build bigger graphs).
const headers = { Authorization: `Bearer ${HW_TOKEN}`, 'Content-Type': 'application/json' };
const get = async (p) => (await fetch(`${HW_URL}${p}`, { headers })).json();
const put = async (p, b) => {
  const r = await fetch(`${HW_URL}${p}`, { method: 'PUT', headers, body: JSON.stringify(b) });
  const text = await r.text();
  assert.ok(r.ok, `${p}: ${text}`);
  return JSON.parse(text);
};
async function table(name) {
  return put('/api/v1/tables', { name, databaseSchema: 'warehouse.analytics.marts', columns: [{ name: 'id', dataType: 'INT' }] });
}
async function edge(from, to) {
  await put('/api/v1/lineage', { edge: { fromEntity: { id: from.id, type: 'table' }, toEntity: { id: to.id, type: 'table' } } });
}
async function inBatches(items, n, f) {
  for (let i = 0; i < items.length; i += n) await Promise.all(items.slice(i, i + n).map(f));
}

// In-page helpers.
const nodeFqns = () => page.evaluate(() => window.hwViewer.cy.nodes('.entity').map((n) => n.data('fqn')));
// Emits a cytoscape event on the elements of `sel` whose id or FQN is `key` (nothing is
// returned: a collection would drag the whole graph through serialization).
const emitOn = (sel, key, event) => page.evaluate(([s, k, ev]) => {
  window.hwViewer.cy.elements(s).filter((x) => x.id() === k || x.data('fqn') === k).emit(ev);
}, [sel, key, event]);
const tapEntity = (fqn) => emitOn('node.entity', fqn, 'tap');
const idle = () => page.waitForFunction(() => !/^(loading|tracing)/.test(document.querySelector('#status').textContent));
const edgeBetween = (from, to) => page.evaluate(([f, t]) => {
  const e = window.hwViewer.cy.edges('.tedge').filter((x) => x.source().data('fqn') === f && x.target().data('fqn') === t);
  return e.nonempty() ? { label: e.data('label'), classes: e.classes() } : null;
}, [from, to]);
const hover = (selector, fqnOrId) => page.evaluate(([sel, key]) => {
  const el = window.hwViewer.cy.elements(sel).filter((x) => x.id() === key || x.data('fqn') === key);
  el.emit('mouseover');
  return document.querySelector('#tip').hidden ? '' : document.querySelector('#tip').textContent;
}, [selector, fqnOrId]);
const params = () => Object.fromEntries(new URL(page.url()).searchParams);

try {
  // ---- start: titles, a wrong token's error, and that it clears once the token works
  await page.goto(`${HW_URL}/`);
  assert.match(await page.title(), /Headwaters/);
  assert.equal(await page.textContent('header h1'), 'Headwaters');
  await page.fill('#token', 'not-a-token');
  await page.dispatchEvent('#token', 'change');
  await page.fill('#q', 'fct_orders');
  await page.waitForSelector('#status.error');
  await page.fill('#token', HW_TOKEN);
  await page.dispatchEvent('#token', 'change');
  await page.waitForSelector('#results li');
  assert.equal(await page.getAttribute('#status', 'class'), '', 'the error is cleared once the token works');
  assert.match(await page.textContent('#status'), /matching entities/);
  ok('titles say Headwaters; a bad token shows an error that clears once a good one works');

  // ---- search, focus: one hop, the URL holds the view
  await page.locator('#results li', { hasText: FCT }).first().click();
  await page.waitForFunction(() => window.hwViewer.cy.nodes('.entity').length > 3);
  await idle();
  const first = await nodeFqns();
  assert.ok(first.includes(STG), first.join(' '));
  assert.ok(!first.includes(RAW), 'depth 1 first: raw.orders is two hops up');
  assert.match(await page.textContent('#status'), /^\d+ entities, \d+ edges/);
  assert.deepEqual(params(), { type: 'table', fqn: FCT, up: '1', down: '1' });
  ok('search, choose fct_orders: its one-hop lineage is drawn and the URL holds the view');

  // ---- entity panel: description, owners, tags, facts; FQNs break only at dots
  await page.waitForSelector('#panel h2');
  assert.equal(await page.textContent('#panel h2'), 'fct_orders');
  assert.match(await page.textContent('#panel .description'), /built by transform_marts/);
  assert.match(await page.textContent('#panel .owners'), /Alice Analyst/);
  assert.match(await page.textContent('#panel .tags'), /Tier\.Tier1/);
  const facts = await page.textContent('#panel dl.facts');
  assert.match(facts, /table type\s*Regular/);
  assert.match(facts, /columns\s*10/);
  const wbr = await page.evaluate(() => document.querySelectorAll('#panel p.muted .fqn wbr').length);
  assert.equal(wbr, FCT.split('.').length - 1, 'break opportunities after each dot only');
  assert.equal(await page.evaluate(() => getComputedStyle(document.querySelector('#panel .fqn')).wordBreak), 'normal');
  ok('entity panel: description, owners, tags, type facts; FQNs break only at dots');

  // ---- the pipeline that drives an edge, with its last run
  const marts = await edgeBetween(STG, FCT);
  assert.match(marts.label, /⚙ transform_marts ✓/);
  assert.ok(marts.classes.includes('run-Successful'), marts.classes.join(' '));
  const finance = await edgeBetween(FCT, 'warehouse.analytics.finance.revenue_recognition');
  assert.match(finance.label, /⚙ transform_finance …/);
  assert.ok(finance.classes.includes('run-Pending'));
  const tipText = await page.evaluate(([f, t]) => {
    const e = window.hwViewer.cy.edges('.tedge').filter((x) => x.source().data('fqn') === f && x.target().data('fqn') === t);
    e.emit('mouseover');
    return document.querySelector('#tip').textContent;
  }, [STG, FCT]);
  assert.match(tipText, /airflow\.transform_marts.*Successful/s);
  await page.evaluate(([f, t]) => {
    window.hwViewer.cy.edges('.tedge').filter((x) => x.source().data('fqn') === f && x.target().data('fqn') === t).emit('tap');
  }, [STG, FCT]);
  await page.waitForFunction(() => /source: QueryLineage/.test(document.querySelector('#panel').textContent));
  assert.match(await page.textContent('#panel .pipeline'), /airflow\.transform_marts · last run ✓ Successful/);
  assert.match(await page.textContent('#panel'), /CREATE TABLE marts\.fct_orders/);
  assert.match(await page.textContent('#panel ul.cols'), /amount → amount DIRECT\/IDENTITY/);
  ok('pipelines are drawn on the edges they drive, with their last run (label, hover, edge panel)');

  // ---- columns inside the nodes, column-to-column edges, transformation on hover
  await emitOn('node.entity', FCT, 'dbltap');
  await emitOn('node.entity', STG, 'dbltap');
  await page.waitForFunction(([a, b]) => window.hwViewer.cy.getElementById(`c:${a}.amount->${b}.amount`).nonempty(), [STG, FCT]);
  const inside = await page.evaluate((f) => {
    const cy = window.hwViewer.cy;
    const t = cy.nodes('.entity').filter((n) => n.data('fqn') === f);
    const bb = t.boundingBox({ includeLabels: false });
    const cols = cy.nodes('.col').filter((c) => c.data('owner') === t.id());
    return { n: cols.length, all: cols.every((c) => { const p = c.position(); return p.y > bb.y1 && p.y < bb.y2 && p.x > bb.x1 && p.x < bb.x2; }) };
  }, FCT);
  assert.deepEqual(inside, { n: 10, all: true }, 'fct_orders lists its 10 columns inside its node');
  const identity = await hover('edge.colEdge', `c:${STG}.amount->${FCT}.amount`);
  assert.match(identity, /amount → amount.*DIRECT\/IDENTITY/s);
  await page.check('#columns');
  await page.waitForFunction(() => {
    const v = window.hwViewer;
    return v.cy.nodes('.entity').filter((n) => n.data('type') === 'table').every((n) => v.expanded.has(n.id()));
  });
  const agg = await hover('edge.colEdge', `c:${FCT}.amount->warehouse.analytics.marts.mart_daily_revenue.revenue`);
  assert.match(agg, /DIRECT\/AGGREGATION.*SUM\(amount\)/s);
  ok('tables list their columns in the node; column edges join the rows; transformation and function on hover');

  // ---- expand upstream from the panel; the path to the focus is highlighted
  await tapEntity(STG);
  await page.waitForFunction(() => document.querySelector('#panel h2')?.textContent === 'stg_orders');
  await page.click('#panel button[data-act="up+"]');
  await page.waitForFunction((r) => window.hwViewer.cy.nodes('.entity').some((n) => n.data('fqn') === r), RAW);
  await idle();
  // With "columns" on, new tables list theirs.
  await page.waitForFunction((r) => window.hwViewer.cy.nodes('.col').some((c) => c.data('fqn') === `${r}.amount`), RAW);
  await tapEntity(RAW);
  const pathLen = await page.evaluate(() => window.hwViewer.cy.elements('.path').length);
  assert.equal(pathLen, 5, 'raw.orders -> stg_orders -> fct_orders: 3 nodes, 2 edges');
  ok('+ upstream on stg_orders adds raw.orders; the path to the focus is highlighted');

  // ---- a column's whole path: traced across tables, the rest dimmed, in the URL
  await emitOn('node.col', `${FCT}.amount`, 'tap');
  await page.waitForFunction(() => window.hwViewer.trace && window.hwViewer.columnPath.size >= 4);
  await idle();
  const trace = await page.evaluate(() => {
    const cy = window.hwViewer.cy;
    return {
      cols: cy.nodes('.col.trace').map((c) => c.data('fqn')).sort(),
      dimCols: cy.nodes('.col.dim').length,
      edges: cy.edges('.colEdge.trace').length,
      traceColor: cy.edges('.colEdge.trace').first().style('line-color'),
      pathColor: cy.edges('.tedge.path').first().style('line-color'),
      pathStyle: cy.edges('.tedge.path').first().style('line-style'),
    };
  });
  assert.deepEqual(trace.cols, [
    `${FCT}.amount`, 'warehouse.analytics.marts.mart_daily_revenue.revenue',
    'warehouse.analytics.marts.mart_marketing_roi.attributed_revenue', 'warehouse.analytics.marts.mart_marketing_roi.roi',
    `${RAW}.amount`, `${STG}.amount`,
  ].sort());
  assert.ok(trace.dimCols > 20, `other columns are dimmed (${trace.dimCols})`);
  assert.equal(trace.edges, 5);
  assert.notEqual(trace.traceColor, trace.pathColor, 'a column trace and the path to the focus look different');
  assert.equal(trace.pathStyle, 'dashed');
  assert.equal(params().column, `${FCT}.amount`);
  assert.match(await page.textContent('#panel'), /Upstream \(2\)[\s\S]*Downstream \(3\)/);
  ok('clicking a column traces it up and down across tables, other columns dimmed; the URL holds it');
  await page.screenshot({ path: `${OUT_DIR}/viewer.png` });

  // ---- legend, CSV and PNG export, type filter
  const legend = await page.evaluate(() => [...document.querySelectorAll('#legend .row')].map((r) => r.dataset.type || r.dataset.edge));
  for (const l of ['dashboard', 'table', 'lineage', 'path to the focus', 'column mapping', 'column trace', 'pipeline']) {
    assert.ok(legend.includes(l), `legend lists ${l}: ${legend.join(', ')}`);
  }
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#csv')]);
  const csv = readFileSync(await download.path(), 'utf8');
  assert.ok(csv.startsWith('from,fromType,to,toType,source,pipeline,columnLineage,sqlQuery'), csv.slice(0, 80));
  assert.ok(csv.includes(`"${RAW}","table","${STG}","table","QueryLineage","airflow.transform_staging"`), 'the expanded edge is exported with its pipeline');
  const [png] = await Promise.all([page.waitForEvent('download'), page.click('#png')]);
  assert.equal(png.suggestedFilename(), 'lineage.png');
  assert.ok(readFileSync(await png.path()).subarray(1, 4).toString() === 'PNG');
  await page.uncheck('#types input[value="dashboard"]');
  const hidden = await page.evaluate(() => window.hwViewer.cy.nodes('.filtered').map((n) => n.data('type')));
  assert.ok(hidden.length > 0 && hidden.every((t) => t === 'dashboard'), hidden.join(' '));
  await page.check('#types input[value="dashboard"]');
  ok('legend of entity types and edge styles; CSV (with pipelines) and PNG export; type filter');

  // ---- a new focus clears the highlights; back and forward restore views; links open them
  await page.fill('#q', 'mart_daily_revenue');
  await page.locator('#results li', { hasText: 'warehouse.analytics.marts.mart_daily_revenue' }).first().click();
  await page.waitForFunction(() => window.hwViewer.focus.name === 'mart_daily_revenue');
  await idle();
  assert.deepEqual(await page.evaluate(() => [window.hwViewer.trace, window.hwViewer.cy.elements('.path, .trace, .dim').length]), [null, 0]);
  assert.equal(params().fqn, 'warehouse.analytics.marts.mart_daily_revenue');
  assert.equal(params().column, undefined);
  await page.goBack();
  await page.waitForFunction((f) => window.hwViewer.focus.fullyQualifiedName === f && window.hwViewer.trace?.column === `${f}.amount`, FCT);
  await idle();
  await page.goBack();
  await page.waitForFunction(() => window.hwViewer.trace === null);
  assert.equal(params().column, undefined);
  assert.equal(await page.evaluate(() => window.hwViewer.focus.fullyQualifiedName), FCT);
  await page.goForward();
  await page.waitForFunction((f) => window.hwViewer.trace?.column === `${f}.amount`, FCT);
  const link = page.url();
  const other = await context.newPage();
  other.on('pageerror', (e) => errors.push(String(e)));
  await other.goto(link);
  await other.waitForFunction((f) => window.hwViewer.trace?.column === `${f}.amount`, FCT);
  assert.deepEqual(await other.evaluate(() => [...window.hwViewer.trace.columns].sort()), trace.cols);
  await other.goto(`${HW_URL}/?type=table&fqn=${encodeURIComponent(FCT)}&up=2&down=0`);
  await other.waitForFunction((r) => window.hwViewer.cy.nodes('.entity').some((n) => n.data('fqn') === r), RAW);
  assert.deepEqual(await other.evaluate(() => [document.querySelector('#up').value, document.querySelector('#down').value]), ['2', '0']);
  await other.close();
  ok('a new focus clears path and trace; back/forward restore each view; a link opens the same view');

  // ---- search finds columns: open the table and trace the column
  await page.fill('#q', 'amount');
  await page.waitForSelector('#results li.column');
  const colHits = await page.locator('#results li.column').allTextContents();
  assert.ok(colHits.some((t) => /fct_orders\.amount/.test(t)), colHits.join(' | '));
  await page.locator('#results li.column', { hasText: 'fct_orders.amount' }).first().click();
  await page.waitForFunction((f) => window.hwViewer.focus.fullyQualifiedName === f && window.hwViewer.trace?.column === `${f}.amount`, FCT);
  ok('search finds columns; choosing one opens its table and traces it');

  // ---- a pipeline as an entity: its last run in the panel, a failed run on its edge
  await page.fill('#q', 'ingest_web_events');
  await page.locator('#results li', { hasText: 'airflow.ingest_web_events' }).first().click();
  await page.waitForFunction(() => window.hwViewer.focus.name === 'ingest_web_events' && document.querySelector('#panel h2')?.textContent === 'ingest_web_events');
  assert.match(await page.textContent('#panel dl.facts'), /last run\s*✗ Failed/);
  assert.match(await page.textContent('#panel .owners'), /Data Platform \(team\)/);
  ok('a pipeline entity shows its last run (Failed) and owners');

  // ---- source links: web addresses only
  for (const [name, url] of [['linked_web', 'https://git.example.test/models/linked.sql'], ['linked_script', 'javascript:alert(1)']]) {
    await put('/api/v1/tables', { name, databaseSchema: 'warehouse.analytics.marts', sourceUrl: url, columns: [{ name: 'id', dataType: 'INT' }] });
  }
  await page.goto(`${HW_URL}/?type=table&fqn=warehouse.analytics.marts.linked_web&up=1&down=1`);
  await page.waitForSelector('#panel dl.facts dd a');
  assert.equal(await page.getAttribute('#panel dl.facts dd a', 'href'), 'https://git.example.test/models/linked.sql');
  await page.goto(`${HW_URL}/?type=table&fqn=warehouse.analytics.marts.linked_script&up=1&down=1`);
  await page.waitForFunction(() => document.querySelector('#panel h2')?.textContent === 'linked_script');
  assert.equal(await page.locator('#panel dl.facts a').count(), 0, 'a javascript: address is shown as text, not a link');
  assert.match(await page.textContent('#panel dl.facts'), /source\s*javascript:alert\(1\)/);
  ok('an entity\'s source address is a link only when it is a web address');

  // ---- a hub: 25 neighbours and a "+K more" node that pages; counts stay right
  const hub = await get('/api/v1/tables/name/warehouse.analytics.raw.customers');
  const fan = [];
  for (let i = 0; i < 60; i++) fan.push(await table(`fanout_${i}`));
  await inBatches(fan, 10, (t) => edge(hub, t));
  await page.uncheck('#columns');
  await page.fill('#q', 'customers');
  await page.locator('#results li', { hasText: 'warehouse.analytics.raw.customers' }).first().click();
  await page.waitForFunction(() => window.hwViewer.cy.nodes('.more').length === 1);
  await idle();
  const label = await page.evaluate(() => window.hwViewer.cy.nodes('.more').data('label'));
  const shown = await page.evaluate(() => window.hwViewer.cy.nodes('.entity').length);
  assert.equal(label, '+36 more', '61 downstreams: 25 shown, 36 behind the "+K more" node');
  assert.match(await page.textContent('#status'), new RegExp(`^${shown} entities, .* 36 more`));
  await page.evaluate(() => { window.hwViewer.cy.nodes('.more').emit('tap'); });
  await page.waitForFunction((n) => window.hwViewer.cy.nodes('.entity').length === n + 25, shown);
  assert.equal(await page.evaluate(() => window.hwViewer.cy.nodes('.more').data('label')), '+11 more');
  assert.match(await page.textContent('#status'), new RegExp(`^${shown + 25} entities, .* 11 more`));
  ok('a hub shows 25 neighbours and a "+K more" node that pages; the counts follow');

  // ---- 500+ nodes stay legible: a minimum zoom, an overview, names on hover when far
  const big = await table('big_hub');
  const kids = [];
  for (let i = 0; i < 20; i++) kids.push(await table(`big_kid_${i}`));
  await inBatches(kids, 10, (k) => edge(big, k));
  const grand = [];
  await put('/api/v1/tables/bulk', Array.from({ length: 500 }, (_, i) => ({ name: `big_leaf_${i}`, databaseSchema: 'warehouse.analytics.marts', columns: [{ name: 'id', dataType: 'INT' }] })));
  for (let i = 0; i < 500; i++) grand.push(await get(`/api/v1/tables/name/warehouse.analytics.marts.big_leaf_${i}`));
  await inBatches(grand.map((g, i) => [kids[i % 20], g]), 20, ([k, g]) => edge(k, g));
  const t0 = Date.now();
  await page.goto(`${HW_URL}/?type=table&fqn=warehouse.analytics.marts.big_hub&up=0&down=2`);
  await page.waitForFunction(() => window.hwViewer.cy && window.hwViewer.cy.nodes('.entity').length === 521, null, { timeout: 60000 });
  await idle();
  const loadMs = Date.now() - t0;
  const view = await page.evaluate(() => ({ zoom: window.hwViewer.cy.zoom(), minimap: window.hwViewer.minimap, pan: window.hwViewer.cy.pan() }));
  assert.ok(view.zoom >= 0.8 - 1e-9, `labels stay at least 0.8 x 12 px (zoom ${view.zoom})`);
  assert.equal(view.minimap, true, 'the overview is shown');
  await page.screenshot({ path: `${OUT_DIR}/viewer-500.png` });
  const box = await page.locator('#minimap').boundingBox();
  await page.mouse.click(box.x + 10, box.y + box.height - 10);
  const panned = await page.evaluate(() => window.hwViewer.cy.pan());
  assert.ok(Math.abs(panned.y - view.pan.y) > 100 || Math.abs(panned.x - view.pan.x) > 100, 'clicking the overview moves the view');
  await page.click('#fit');
  const far = await page.evaluate(() => window.hwViewer.cy.zoom());
  assert.ok(far * 12 < 7, `fit shows all 521 nodes, labels hidden (${(far * 12).toFixed(1)} px)`);
  const name = await hover('node.entity', 'warehouse.analytics.marts.big_leaf_7');
  assert.match(name, /big_leaf_7/, 'hover names a node whose label is hidden');
  const t1 = Date.now();
  await tapEntity('warehouse.analytics.marts.big_kid_3');
  await page.waitForFunction(() => document.querySelector('#panel h2')?.textContent === 'big_kid_3');
  console.log(`# 521-node neighbourhood: loaded and laid out in ${loadMs} ms; a click answered in ${Date.now() - t1} ms`);
  ok('a 521-node neighbourhood: readable zoom, an overview that pans, names on hover when zoomed out');

  // ---- the API docs page says Headwaters and starts with lineage
  await page.goto(`${HW_URL}/api/docs/`);
  assert.equal(await page.title(), 'Headwaters API');
  await page.waitForSelector('.opblock-tag-section');
  const firstTag = await page.locator('.opblock-tag-section h3').first().textContent();
  assert.match(firstTag, /^lineage/);
  ok('/api/docs is titled Headwaters API and lists lineage first');

  // ---- GraphiQL: the token is shared through local storage; run the default query.
  await page.goto(`${HW_URL}/graphiql`);
  assert.match(await page.title(), /Headwaters/);
  await page.waitForSelector('.graphiql-container');
  await page.click('.graphiql-execute-button');
  await page.waitForFunction(() => /totalNodes/.test(document.querySelector('.result-window')?.textContent || ''));
  const result = await page.textContent('.result-window');
  assert.match(result, /"totalNodes": \d+/);
  assert.match(result, /warehouse\.analytics\.raw\.orders/);
  ok('GraphiQL runs the example query against /api/graphql');

  // The schema loads (the standard introspection query is answered): the Docs panel
  // lists the query type's fields, and the editor completes field names.
  await page.click('.graphiql-sidebar button[aria-label$="Documentation Explorer"]');
  await page.waitForSelector('.graphiql-doc-explorer');
  await page.click('.graphiql-doc-explorer a.graphiql-doc-explorer-type-name:text-is("QueryRoot")');
  await page.waitForSelector('.graphiql-doc-explorer-field-name:text-is("lineage")');
  const docFields = await page.locator('.graphiql-doc-explorer-field-name').allTextContents();
  for (const f of ['lineage', 'columnLineage', 'impact', 'paths', 'search', 'entity']) {
    assert.ok(docFields.includes(f), `Docs lists QueryRoot.${f}: ${docFields.join(' ')}`);
  }
  ok('the Docs panel shows the schema: QueryRoot and its fields');
  await page.evaluate(() => document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror.setValue(''));
  await page.click('.graphiql-query-editor .CodeMirror');
  await page.keyboard.type('{ imp');
  await page.waitForSelector('.CodeMirror-hints .CodeMirror-hint:text-is("impact")');
  await page.keyboard.press('Enter');
  const typed = await page.evaluate(() => document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror.getValue());
  assert.match(typed, /\{ impact/, typed);
  ok('autocomplete offers impact for "imp" and completes it');
  await page.screenshot({ path: `${OUT_DIR}/graphiql.png` });

  // The pages under their own Content-Security-Policy: they load, the viewer draws a
  // view from its URL, the explorer runs a query, and the browser reports no violation.
  const strict = await browser.newContext({ viewport: { width: 1400, height: 860 } });
  await strict.route('**/*', loopbackOnly);
  const sp = await strict.newPage();
  const violations = [];
  sp.on('console', (m) => { if (/Content.Security.Policy/i.test(m.text())) violations.push(m.text()); });
  sp.on('pageerror', (e) => violations.push(String(e)));
  const csp = (await sp.goto(`${HW_URL}/`)).headers()['content-security-policy'] || '';
  assert.match(csp, /frame-ancestors 'none'/);
  await sp.fill('#token', HW_TOKEN);
  await sp.dispatchEvent('#token', 'change');
  await sp.fill('#q', 'fct_orders');
  await sp.waitForSelector('#results li');
  await sp.goto(`${HW_URL}/?type=table&fqn=${encodeURIComponent(FCT)}&up=1&down=1&column=${encodeURIComponent(FCT + '.amount')}`);
  await sp.waitForSelector('#panel h2:text-is("Column trace")');
  await sp.goto(`${HW_URL}/graphiql`);
  await sp.waitForSelector('.graphiql-container');
  await sp.click('.graphiql-execute-button');
  await sp.waitForSelector('.result-window >> text=totalNodes');
  assert.deepEqual(violations, [], 'no Content-Security-Policy violation');
  ok('the viewer and the explorer work under their Content-Security-Policy');
  await strict.close();

  assert.deepEqual(blocked, [], 'no request to another host');
  assert.deepEqual(errors, [], 'no page errors');
  ok('nothing but loopback was requested; no page errors');
  console.log(`all ${step} browser checks passed`);
} finally {
  await browser.close();
}
