// Opens a sluice HTML report in Debian's Chromium (headless, through puppeteer-core) and says
// what the page did: console errors, page errors, every network request it tried, and what
// each chart drew (window.sluiceCharts plus the SVG paths in the page).
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

const requirePeer = createRequire(new URL('../../peers/package.json', import.meta.url));

export const chromiumPath = () => process.env.SLUICE_CHROMIUM ?? '/usr/bin/chromium';

/// Resolves to { errors: [...], requests: [...], charts: {id: {title, series}}, drawn: {id: [{series, points}]},
/// text: the page's visible text }. `screenshot`: a PNG path for the whole page.
export async function openReport(file, { screenshot } = {}) {
  let puppeteer;
  try {
    puppeteer = requirePeer('puppeteer-core');
  } catch (e) {
    throw new Error(`cannot load puppeteer-core from tests/peers/node_modules (${e.message}); run scripts/setup.sh`);
  }
  const browser = await puppeteer.launch({
    executablePath: chromiumPath(), headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-dev-shm-usage'],
  });
  try {
    const page = await browser.newPage();
    await page.setViewport({ width: 1280, height: 900 });
    const url = pathToFileURL(file).href;
    const errors = [], requests = [];
    page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') errors.push(`console ${m.type()}: ${m.text()}`); });
    page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
    page.on('requestfailed', (r) => { if (r.url() !== url) errors.push(`request failed: ${r.url()}`); });
    page.on('request', (r) => { if (r.url() !== url) requests.push(r.url()); });
    await page.goto(url, { waitUntil: 'load', timeout: 30_000 });
    await page.waitForSelector('body[data-rendered="true"]', { timeout: 10_000 }).catch(() => errors.push('the page never finished drawing'));
    const facts = await page.evaluate(() => {
      const drawn = {};
      for (const box of document.querySelectorAll('[data-chart]')) {
        drawn[box.dataset.chart] = [...box.querySelectorAll('path.series')].map((p) => ({
          series: p.dataset.series, points: Number(p.dataset.points), commands: (p.getAttribute('d').match(/[ML]/g) || []).length,
        }));
      }
      return { charts: window.sluiceCharts ?? {}, drawn, text: document.body.innerText };
    });
    if (screenshot) await page.screenshot({ path: screenshot, fullPage: true });
    return { errors, requests, ...facts };
  } finally {
    await browser.close();
  }
}
