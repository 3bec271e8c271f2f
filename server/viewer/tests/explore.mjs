import { chromium } from 'playwright-core';
const { HW_URL, HW_TOKEN } = process.env;
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
const page = await browser.newPage({ viewport: { width: 1400, height: 860 } });
page.on('pageerror', (e) => console.log('PAGEERROR', String(e)));
await page.goto(`${HW_URL}/`);
await page.evaluate((t) => localStorage.setItem('headwaters.token', t), HW_TOKEN);
await page.goto(`${HW_URL}/?type=table&fqn=warehouse.analytics.marts.big_hub&up=0&down=2`);
await page.waitForFunction(() => window.hwViewer.cy && window.hwViewer.cy.nodes('.entity').length === 521, null, { timeout: 60000 });
await page.waitForTimeout(500);
const box = await page.locator('#minimap').boundingBox();
let c0 = Date.now();
await page.mouse.click(box.x + 10, box.y + box.height - 10);
console.log('minimap click', Date.now() - c0); c0 = Date.now();
await page.click('#fit');
console.log('fit click', Date.now() - c0); c0 = Date.now();
await page.evaluate(() => { window.hwViewer.cy.nodes('.entity').filter((x) => x.data('fqn').endsWith('big_leaf_7')).emit('mouseover'); });
console.log('hover', Date.now() - c0); c0 = Date.now();
await page.evaluate(() => 1);
console.log('noop', Date.now() - c0); c0 = Date.now();
for (const what of ['path', 'entity', 'tapdirect', 'fit', 'tap2']) {
  const t = await page.evaluate(async (w) => {
    const v = window.hwViewer, cy = v.cy;
    const n = cy.nodes('.entity').filter((n) => n.data('fqn').endsWith('big_kid_3'));
    const t0 = performance.now();
    if (w === 'path') { const r = cy.nodes('.entity').union(cy.edges('.tedge')).aStar({ root: cy.getElementById(v.focus.id), goal: n, directed: true }); }
    if (w === 'entity') { await fetch(n.data('id')); }
    if (w === 'tapdirect' || w === 'tap2') { n.emit('tap'); }
    if (w === 'fit') { cy.fit(); }
    return performance.now() - t0;
  }, what);
  console.log(what, t.toFixed(1));
}
const t0 = Date.now();
await page.waitForFunction(() => document.querySelector('#panel h2')?.textContent === 'big_kid_3');
console.log('panel', Date.now() - t0);
await browser.close();
