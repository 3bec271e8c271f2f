// Manual check (not in CI: it needs the 1M-node benchmark store): the viewer on a hub
// with ~20k downstreams, opened from its URL. Prints load, click and paging times.
// Usage: HW_URL=... HW_TOKEN=... HUB=<table fqn> node tests/hub.mjs
import { chromium } from 'playwright-core';

const { HW_URL, HW_TOKEN, HUB } = process.env;
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'] });
// waitForFunction evaluates strings in the page: bypass the page's CSP (no eval) here.
const page = await browser.newPage({ viewport: { width: 1400, height: 860 }, bypassCSP: true });
await page.goto(`${HW_URL}/`);
await page.evaluate((t) => localStorage.setItem('headwaters.token', t), HW_TOKEN);
const t0 = Date.now();
await page.goto(`${HW_URL}/?type=table&fqn=${encodeURIComponent(HUB)}&up=1&down=1`);
await page.waitForFunction(() => window.hwViewer.cy.nodes('.more').length > 0, null, { timeout: 60000 });
const loaded = Date.now() - t0;
const info = await page.evaluate(() => ({ nodes: window.hwViewer.cy.nodes('.entity').length, more: window.hwViewer.cy.nodes('.more').map((n) => n.data('label')) }));
const t1 = Date.now();
await page.evaluate(() => { window.hwViewer.cy.nodes('.entity').last().emit('tap'); });
await page.waitForFunction(() => document.querySelector('#panel h2'));
const clickMs = Date.now() - t1;
const t2 = Date.now();
await page.evaluate(() => { window.hwViewer.cy.nodes('.more').first().emit('tap'); });
await page.waitForFunction((n) => window.hwViewer.cy.nodes('.entity').length > n, info.nodes);
console.log(JSON.stringify({ hub: HUB, loadedMs: loaded, clickMs, pageMoreMs: Date.now() - t2, ...info }));
await browser.close();
