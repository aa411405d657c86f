// report.html in Debian's headless Chromium (docs/html-report.md): the demo image with hostile
// file names, with JavaScript on and off, and a 4,000-file image for size and load time.
// Usage: node report_html_test.mjs --clearbox BIN --source REPO --work DIR
// Exit codes: 0 passed, 1 failed, 77 skipped (no chromium).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const kChromium = process.env.CLEARBOX_CHROMIUM || '/usr/bin/chromium';
const kMaxBytes = 5 * 1024 * 1024;
const kMaxLoadMs = 2000;
const kLargeFiles = 4000;

function Args() {
  const args = {};
  for (let i = 2; i + 1 < process.argv.length; i += 2) {
    args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
  }
  for (const key of ['clearbox', 'source', 'work']) {
    if (!args[key]) throw new Error(`missing --${key}`);
  }
  return args;
}

let failures = 0;
function Check(condition, message) {
  if (condition) return;
  failures += 1;
  console.error(`FAIL: ${message}`);
}

function Run(command, args, env = {}) {
  const run = spawnSync(command, args, {
    env: { ...process.env, SOURCE_DATE_EPOCH: '1700000000', ...env },
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (run.error) throw run.error;
  return run;
}

// Scans `image` into `out` (exit 0 or 3: complete, or complete with unpack problems).
function Scan(clearbox, image, out, extra = []) {
  const run = Run(clearbox, ['scan', image, '-o', out, '-q', ...extra]);
  if (run.status !== 0 && run.status !== 3) {
    throw new Error(`clearbox scan ${image} exited ${run.status}:\n${run.stdout}\n${run.stderr}`);
  }
}

// Opens `file` in a fresh context; returns the page and what it did that it must not do.
async function Open(browser, file, javaScriptEnabled) {
  const context = await browser.newContext({ javaScriptEnabled, viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const url = pathToFileURL(file).href;
  const seen = { console: [], errors: [], requests: [], dialogs: [] };
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') seen.console.push(`${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => seen.errors.push(String(e)));
  page.on('request', (r) => {
    if (r.url() !== url) seen.requests.push(r.url());
  });
  page.on('dialog', async (d) => {
    seen.dialogs.push(d.message());
    await d.dismiss();
  });
  const start = performance.now();
  await page.goto(url, { waitUntil: 'load' });
  const wall_ms = performance.now() - start;
  const load_ms = await page.evaluate(() => {
    const nav = performance.getEntriesByType('navigation')[0];
    return nav ? nav.loadEventEnd - nav.startTime : -1;
  });
  return { context, page, seen, wall_ms, load_ms };
}

function CheckClean(seen, label) {
  Check(seen.console.length === 0, `${label}: console messages: ${seen.console.join(' | ')}`);
  Check(seen.errors.length === 0, `${label}: page errors: ${seen.errors.join(' | ')}`);
  Check(seen.requests.length === 0, `${label}: requests other than the page: ${seen.requests.join(' ')}`);
  Check(seen.dialogs.length === 0, `${label}: dialogs fired: ${seen.dialogs.join(' | ')}`);
}

async function SectionCount(page, id) {
  return page.evaluate((sectionId) => {
    const section = document.getElementById(sectionId);
    if (!section) return null;
    return section.hasAttribute('data-count') ? Number(section.getAttribute('data-count')) : -1;
  }, id);
}

async function CheckDemoPage(browser, file, report, compliance, javaScriptEnabled, artefacts) {
  const label = `demo, JavaScript ${javaScriptEnabled ? 'on' : 'off'}`;
  const { context, page, seen, wall_ms } = await Open(browser, file, javaScriptEnabled);
  const contradicted = compliance.standards
    .flatMap((s) => s.clauses)
    .filter((c) => c.verdict === 'CONTRADICTED').length;
  const expected = {
    vulnerabilities: report.vulnerabilities.length,
    components: report.components.length,
    hardening: report.binaries.length,
    findings: report.findings.length,
    compliance: contradicted,
    unpack: report.files.length,
  };
  for (const [id, count] of Object.entries(expected)) {
    Check((await SectionCount(page, id)) === count, `${label}: section #${id} count != ${count}`);
  }
  for (const id of ['verdict', 'attestation']) {
    Check((await SectionCount(page, id)) !== null, `${label}: section #${id} missing`);
  }
  const rows = async (id) => page.locator(`#${id} tbody tr`).count();
  Check((await rows('vulnerability-table')) === report.vulnerabilities.length, `${label}: vulnerability rows`);
  Check((await rows('component-table')) === report.components.length, `${label}: component rows`);
  Check((await rows('hardening-table')) === report.binaries.length, `${label}: hardening rows`);
  Check((await rows('finding-table')) === report.findings.length, `${label}: finding rows`);
  Check((await rows('file-table')) === report.files.length, `${label}: file rows`);
  Check((await rows('compliance-summary')) === compliance.standards.length, `${label}: compliance rows`);
  for (const [key, value] of Object.entries(report.summary)) {
    if (typeof value !== 'number') continue;
    const card = page.locator(`#verdict .card[data-key="${key}"] .n`);
    if ((await card.count()) === 0) continue;
    Check(Number(await card.innerText()) === value, `${label}: summary card ${key} != ${value}`);
  }
  // Hostile names are text: visible as written, no element made from them.
  const files = await page.locator('#file-table').innerText();
  Check(files.includes('<script>alert(1)</script>'), `${label}: <script> file name not shown as text`);
  Check(files.includes('"><img src=x onerror=alert(2)>\''), `${label}: quoted file name not shown as text`);
  // A name that is not UTF-8: report.json carries U+FFFD for the byte, and so does the page.
  Check(files.includes('not-utf8-\uFFFD-name'), `${label}: non-UTF-8 file name not shown with U+FFFD`);
  Check((await page.locator('script').count()) === 1, `${label}: more than the page's own script`);
  Check((await page.locator('img').count()) === 0, `${label}: an <img> element exists`);
  const sortable = await page.locator('#hardening-table th.sort').count();
  if (javaScriptEnabled) {
    Check(sortable > 0, `${label}: hardening table not sortable`);
    await page.locator('#hardening-table th', { hasText: 'canary' }).click();
    const sorted = await page.locator('#hardening-table th[aria-sort]').count();
    Check(sorted === 1, `${label}: clicking a heading did not sort`);
  } else {
    Check(sortable === 0, `${label}: the sorting script ran with JavaScript off`);
  }
  const shot = join(artefacts, `report-demo-${javaScriptEnabled ? 'js' : 'nojs'}.png`);
  await page.screenshot({ path: shot, fullPage: true });
  if (javaScriptEnabled) await page.pdf({ path: join(artefacts, 'report-demo.pdf'), format: 'A4' });
  CheckClean(seen, label);
  console.log(`${label}: load ${wall_ms.toFixed(0)} ms, screenshot ${shot}`);
  await context.close();
}

async function CheckLargePage(browser, file, report) {
  const bytes = statSync(file).size;
  Check(bytes < kMaxBytes, `large: report.html is ${bytes} bytes (limit ${kMaxBytes})`);
  Check(report.files.length >= kLargeFiles, `large: only ${report.files.length} files in report.json`);
  for (const javaScriptEnabled of [true, false]) {
    // The first navigation warms Chromium's process; the figure is the fastest of the next
    // three (the machine is shared with other test processes), each checked in full.
    const warm = await Open(browser, file, javaScriptEnabled);
    await warm.context.close();
    const label = `large (${report.files.length} files), JavaScript ${javaScriptEnabled ? 'on' : 'off'}`;
    const walls = [];
    const loads = [];
    for (let run = 0; run < 3; run += 1) {
      const { context, page, seen, wall_ms, load_ms } = await Open(browser, file, javaScriptEnabled);
      Check((await SectionCount(page, 'unpack')) === report.files.length, `${label}: unpack count`);
      CheckClean(seen, label);
      walls.push(wall_ms);
      loads.push(load_ms);
      await context.close();
    }
    const best = Math.min(...walls);
    Check(best < kMaxLoadMs, `${label}: load took ${best.toFixed(0)} ms (limit ${kMaxLoadMs})`);
    console.log(`${label}: report.html ${bytes} bytes, goto→load ${walls.map((t) => t.toFixed(0)).join('/')} ms, ` +
                `navigation→loadEventEnd ${loads.map((t) => t.toFixed(0)).join('/')} ms (best ${best.toFixed(0)} ms)`);
  }
}

async function Main() {
  const args = Args();
  if (!existsSync(kChromium)) {
    console.log(`SKIP: ${kChromium} is missing (scripts/install-deps.sh installs chromium)`);
    return 77;
  }
  let chromium;
  try {
    ({ chromium } = await import('playwright-core'));
  } catch (e) {
    console.error('tests/browser/node_modules lacks playwright-core: run scripts/install-node-deps.sh');
    return 1;
  }
  rmSync(args.work, { recursive: true, force: true });
  mkdirSync(args.work, { recursive: true });

  const demo = join(args.work, 'demo');
  const made = Run('bash', [join(args.source, 'scripts/make-demo-image.sh'), demo], { DEMO_HOSTILE_NAMES: '1' });
  if (made.status !== 0) throw new Error(`make-demo-image.sh failed:\n${made.stderr}`);
  Scan(args.clearbox, join(demo, 'router.bin'), join(demo, 'out'), ['--standard', 'all']);
  const large = join(args.work, 'large');
  const made_large = Run('bash', [join(args.source, 'tests/browser/make-large-image.sh'), large, String(kLargeFiles)]);
  if (made_large.status !== 0) throw new Error(`make-large-image.sh failed:\n${made_large.stderr}`);
  Scan(args.clearbox, join(large, 'large.bin'), join(large, 'out'));

  const read = (file) => JSON.parse(readFileSync(file, 'utf8'));
  const browser = await chromium.launch({ executablePath: kChromium, args: ['--no-sandbox'] });
  try {
    const report = read(join(demo, 'out', 'report.json'));
    const compliance = read(join(demo, 'out', 'compliance.json'));
    for (const javaScriptEnabled of [true, false]) {
      await CheckDemoPage(browser, join(demo, 'out', 'report.html'), report, compliance,
                          javaScriptEnabled, args.work);
    }
    await CheckLargePage(browser, join(large, 'out', 'report.html'), read(join(large, 'out', 'report.json')));
  } finally {
    await browser.close();
  }
  console.log(failures === 0 ? 'PASS' : `${failures} check(s) failed`);
  return failures === 0 ? 0 : 1;
}

Main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
