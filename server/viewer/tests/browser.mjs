// Browser test: Debian's chromium, driven by playwright-core, against a running
// `headwaters serve --demo`. Every host but loopback is blocked, so a CDN dependency
// fails the test. Run by server/tests/browser.rs with HW_URL, HW_TOKEN and OUT_DIR.
import { chromium } from 'playwright-core';
import { readFileSync } from 'node:fs';
import assert from 'node:assert/strict';

const { HW_URL, HW_TOKEN, OUT_DIR } = process.env;
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

try {
  await page.goto(`${HW_URL}/`);
  await page.fill('#token', HW_TOKEN);
  await page.dispatchEvent('#token', 'change');
  await page.fill('#q', 'fct_orders');
  await page.waitForSelector('#results li');
  const hit = page.locator('#results li', { hasText: 'warehouse.analytics.marts.fct_orders' });
  await hit.first().click();
  await page.waitForFunction(() => window.hwViewer.cy.nodes().not('.more').length > 3);
  const first = await page.evaluate(() => window.hwViewer.cy.nodes().not('.more').map((n) => n.data('fqn')));
  assert.ok(first.includes('warehouse.analytics.staging.stg_orders'), first.join(' '));
  assert.ok(!first.includes('warehouse.analytics.raw.orders'), 'depth 1 first: raw.orders is two hops up');
  await page.waitForSelector('#panel h2');
  assert.equal(await page.textContent('#status').then((s) => /entities/.test(s)), true);
  ok('search, choose fct_orders: its one-hop lineage is drawn');

  // Expand stg_orders upstream from its side panel.
  await page.evaluate(() => {
    const n = window.hwViewer.cy.nodes().filter((x) => x.data('fqn') === 'warehouse.analytics.staging.stg_orders');
    n.emit('tap');
  });
  await page.waitForFunction(() => document.querySelector('#panel h2')?.textContent === 'stg_orders');
  await page.click('#panel button[data-act="up+"]');
  await page.waitForFunction(() => window.hwViewer.cy.nodes().some((n) => n.data('fqn') === 'warehouse.analytics.raw.orders'));
  const pathLen = await page.evaluate(() => window.hwViewer.cy.elements('.path').length);
  assert.ok(pathLen >= 3, `the path from the focus to the clicked node is highlighted (${pathLen})`);
  ok('+ upstream on stg_orders adds raw.orders; the path to it is highlighted');

  // Column mode: follow fct_orders.amount.
  await page.check('#columns');
  await page.waitForSelector('button.column');
  await page.click('button.column:text-is("amount")');
  await page.waitForFunction(() => window.hwViewer.columnPath.size >= 3);
  const colpath = await page.evaluate(() => window.hwViewer.cy.nodes('.colpath').map((n) => n.data('fqn')));
  for (const t of ['warehouse.analytics.marts.fct_orders', 'warehouse.analytics.staging.stg_orders', 'warehouse.analytics.raw.orders']) {
    assert.ok(colpath.includes(t), `${t} on the column path: ${colpath.join(' ')}`);
  }
  assert.match(await page.textContent('#panel'), /mart_daily_revenue\.revenue/);
  ok('column mode: fct_orders.amount highlights its path across tables');

  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#csv')]);
  const csv = readFileSync(await download.path(), 'utf8');
  assert.ok(csv.startsWith('from,fromType,to,toType,source,columnLineage,sqlQuery'), csv.slice(0, 80));
  assert.ok(csv.includes('"warehouse.analytics.raw.orders"'), 'the expanded edge is exported');
  ok('CSV export');
  await page.screenshot({ path: `${OUT_DIR}/viewer.png` });

  // Edge details, PNG export, type filter.
  await page.evaluate(() => {
    const cy = window.hwViewer.cy;
    cy.edges().filter((e) => e.target().data('fqn') === 'warehouse.analytics.marts.fct_orders' && e.source().data('fqn') === 'warehouse.analytics.staging.stg_orders').emit('tap');
  });
  await page.waitForFunction(() => /source: QueryLineage/.test(document.querySelector('#panel').textContent));
  assert.match(await page.textContent('#panel'), /CREATE TABLE marts\.fct_orders/);
  const [png] = await Promise.all([page.waitForEvent('download'), page.click('#png')]);
  assert.equal(png.suggestedFilename(), 'lineage.png');
  assert.ok(readFileSync(await png.path()).subarray(1, 4).toString() === 'PNG');
  await page.uncheck('#types input[value="dashboard"]');
  const hidden = await page.evaluate(() => window.hwViewer.cy.nodes('.filtered').map((n) => n.data('type')));
  assert.ok(hidden.length > 0 && hidden.every((t) => t === 'dashboard'), hidden.join(' '));
  ok('edge details (SQL, source), PNG export, type filter');

  // A hub: past 25 neighbours the rest wait behind a "+K more" node that pages.
  const headers = { Authorization: `Bearer ${HW_TOKEN}`, 'Content-Type': 'application/json' };
  const get = async (p) => (await fetch(`${HW_URL}${p}`, { headers })).json();
  const put = async (p, b) => {
    const r = await fetch(`${HW_URL}${p}`, { method: 'PUT', headers, body: JSON.stringify(b) });
    const text = await r.text();
    assert.ok(r.ok, text);
    return JSON.parse(text);
  };
  const hub = await get('/api/v1/tables/name/warehouse.analytics.raw.customers');
  for (let i = 0; i < 60; i++) {
    const t = await put('/api/v1/tables', { name: `fanout_${i}`, databaseSchema: 'warehouse.analytics.marts', columns: [{ name: 'id', dataType: 'INT' }] });
    await put('/api/v1/lineage', { edge: { fromEntity: { id: hub.id, type: 'table' }, toEntity: { id: t.id, type: 'table' } } });
  }
  await page.uncheck('#columns');
  await page.fill('#q', 'customers');
  await page.locator('#results li', { hasText: 'warehouse.analytics.raw.customers' }).first().click();
  await page.waitForFunction(() => window.hwViewer.cy.nodes('.more').length === 1);
  const label = await page.evaluate(() => window.hwViewer.cy.nodes('.more').data('label'));
  const shown = await page.evaluate(() => window.hwViewer.cy.nodes().not('.more').length);
  assert.equal(label, '+36 more', '61 downstreams: 25 shown, 36 behind the "+K more" node');
  await page.evaluate(() => { window.hwViewer.cy.nodes('.more').emit('tap'); });
  await page.waitForFunction((n) => window.hwViewer.cy.nodes().not('.more').length === n + 25, shown);
  assert.equal(await page.evaluate(() => window.hwViewer.cy.nodes('.more').data('label')), '+11 more');
  ok('a hub shows 25 neighbours and a "+K more" node that pages');

  // GraphiQL: the token is shared through local storage; run the default query.
  await page.goto(`${HW_URL}/graphiql`);
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

  // The pages under their own Content-Security-Policy: they load, the explorer runs a
  // query, and the browser reports no violation.
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
