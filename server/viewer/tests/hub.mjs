// Manual check (not in CI: it needs the 1M-node benchmark store): the viewer on a hub
// with ~20k downstreams. Usage: HW_URL=... HW_TOKEN=... HUB=<fqn> node tests/hub.mjs
import { chromium } from 'playwright-core';

const { HW_URL, HW_TOKEN, HUB } = process.env;
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'] });
const page = await browser.newPage({ viewport: { width: 1400, height: 860 } });
await page.goto(`${HW_URL}/`);
await page.evaluate((t) => localStorage.setItem('headwaters.token', t), HW_TOKEN);
await page.reload();
const t0 = Date.now();
await page.evaluate(async (fqn) => {
  const r = await fetch(`/api/v1/search/fieldQuery?fieldName=fullyQualifiedName&fieldValue=${encodeURIComponent(fqn)}`, { headers: { Authorization: 'Bearer ' + localStorage.getItem('headwaters.token') } });
  const h = (await r.json()).hits.hits[0]._source;
  document.getElementById('q').value = fqn;
  window.hwViewer.focusRef = { id: h.id, type: h.entityType, name: h.name, fullyQualifiedName: h.fullyQualifiedName, href: h.href };
}, HUB);
await page.fill('#q', HUB.split('.').pop());
await page.waitForSelector('#results li');
await page.locator('#results li', { hasText: HUB }).first().click();
await page.waitForFunction(() => window.hwViewer.cy.nodes('.more').length > 0, null, { timeout: 60000 });
const loaded = Date.now() - t0;
const t1 = Date.now();
await page.evaluate(() => 1 + 1); // the page answers
const responsive = Date.now() - t1;
const info = await page.evaluate(() => ({ nodes: window.hwViewer.cy.nodes().length, more: window.hwViewer.cy.nodes('.more').map((n) => n.data('label')) }));
const t2 = Date.now();
await page.evaluate(() => { window.hwViewer.cy.nodes('.more').first().emit('tap'); });
await page.waitForFunction((n) => window.hwViewer.cy.nodes().length > n, info.nodes);
console.log(JSON.stringify({ hub: HUB, loadedMs: loaded, evalMs: responsive, pageMoreMs: Date.now() - t2, ...info }));
await browser.close();
