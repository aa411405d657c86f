// The lab portal's whole dialogue in Debian's headless Chromium (docs/portal.md, issue 18): a
// real `clearbox serve` on 127.0.0.1 with a fresh data directory; the admin sets up the lab,
// a vendor, a customer and their users through the admin page; the vendor creates a project,
// shares it with the customer and uploads a firmware image; the in-process worker scans it;
// the vendor answers a vulnerability as not affected, the analyst accepts, the analyst
// publishes a verdict; the customer sees it; the public page's files, downloaded without a
// login, verify offline with `clearbox verify`. JavaScript is off in every context (the portal has none). Screenshots of
// every step are kept in the work directory.
// Usage: node portal_dialogue_test.mjs --clearbox BIN --source REPO --work DIR
// Exit codes: 0 passed, 1 failed, 77 skipped (no chromium).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const kChromium = process.env.CLEARBOX_CHROMIUM || '/usr/bin/chromium';
const kPassword = 'correct horse battery staple';
const kScanTimeoutMs = 300_000;

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

function Run(command, args, options = {}) {
  const run = spawnSync(command, args, {
    env: { ...process.env, SOURCE_DATE_EPOCH: '1700000000' },
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    ...options,
  });
  if (run.error) throw run.error;
  return run;
}

// Starts `clearbox serve` on a free port; resolves with the process and its base URL.
function StartPortal(clearbox, data) {
  return new Promise((resolve, reject) => {
    const child = spawn(clearbox, ['serve', '--data', data, '--listen', '127.0.0.1:0'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`clearbox serve did not start:\n${out}\n${err}`)), 60_000);
    child.stderr.on('data', (d) => { err += d; });
    child.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/portal on (http:\/\/127\.0\.0\.1:\d+)\//);
      if (m) {
        clearTimeout(timer);
        resolve({ child, base: m[1], log: () => out + err });
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`clearbox serve exited ${code}:\n${out}\n${err}`));
    });
  });
}

// One browser context per person, JavaScript off, every failed request and console error kept.
async function Person(browser, base, name, shots) {
  const context = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const seen = [];
  page.on('console', (m) => {
    // report.html is served sandboxed without script on purpose (it works without): Chromium
    // reports the blocked sorting script, which is the policy working, not a fault.
    if (m.type() === 'error' && !/Blocked script execution in .*\/files\/report\.html/.test(m.text())) {
      seen.push(`${name}: console ${m.text()}`);
    }
  });
  page.on('requestfailed', (r) => seen.push(`${name}: request failed ${r.url()}`));
  let step = 0;
  const person = {
    name,
    page,
    context,
    seen,
    async shot(label) {
      step += 1;
      await page.screenshot({ path: join(shots, `${name}-${String(step).padStart(2, '0')}-${label}.png`), fullPage: true });
    },
    async go(path) {
      const response = await page.goto(base + path);
      return response.status();
    },
    async login() {
      await page.goto(`${base}/login`);
      await page.fill('input[name=name]', name);
      await page.fill('input[name=password]', kPassword);
      await Promise.all([page.waitForNavigation(), page.click('form.login button[type=submit]')]);
      Check(page.url().endsWith('/projects'), `${name}: login did not land on /projects (${page.url()})`);
      await person.shot('logged-in');
    },
  };
  return person;
}

// Submits the form whose action is `action` (the first one) after filling `fields`
// (name → value; a <select> option is chosen by its value or its label).
async function SubmitForm(page, action, fields) {
  const form = page.locator(`form[action="${action}"]`).first();
  Check((await form.count()) === 1, `no form with action ${action} on ${page.url()}`);
  for (const [name, value] of Object.entries(fields)) {
    const input = form.locator(`[name="${name}"]`);
    const tag = await input.evaluate((e) => e.tagName.toLowerCase()).catch(() => '');
    if (tag === 'select') {
      await input.selectOption(value);  // by value or by label
    } else if ((await input.getAttribute('type')) === 'file') {
      await input.setInputFiles(value);
    } else {
      await input.fill(value);
    }
  }
  const [response] = await Promise.all([
    page.waitForNavigation(),
    form.locator('button[type=submit]').first().click(),
  ]);
  return response ? response.status() : 0;
}

async function SetUpOrganisations(admin) {
  Check((await admin.go('/admin')) === 200, 'admin page');
  for (const [name, kind] of [['Acme Networks', 'vendor'], ['Telco AG', 'customer']]) {
    Check((await SubmitForm(admin.page, '/admin/organisations', { name, kind })) < 400, `organisation ${name}`);
  }
  for (const user of ['vera', 'lara', 'carl']) {
    Check((await SubmitForm(admin.page, '/admin/users', { name: user, password: kPassword })) < 400, `user ${user}`);
  }
  const memberships = [['vera', 'Acme Networks (vendor)', 'vendor'], ['lara', 'Lab (lab)', 'lab_analyst'],
                       ['carl', 'Telco AG (customer)', 'customer']];
  for (const [user, organisation, role] of memberships) {
    Check((await SubmitForm(admin.page, '/admin/memberships', { user, organisation, role })) < 400,
          `membership ${user} ${role}`);
  }
  await admin.shot('organisations-and-users');
}

// Reloads the release page until its scan is done (or failed); returns the state text.
async function WaitForScan(person, path) {
  const deadline = Date.now() + kScanTimeoutMs;
  for (;;) {
    await person.go(path);
    const state = (await person.page.locator('#scan-state').innerText()).trim();
    if (state.startsWith('done') || state.startsWith('failed') || Date.now() > deadline) return state;
    await person.page.waitForTimeout(500);
  }
}

async function Count(page, key) {
  return Number(await page.locator(`#scan-summary dd[data-key="${key}"]`).innerText());
}

// The dialogue as far as the portal has it: project, share, upload, scan, results for the
// vendor, the lab and the customer; refusals on the way.
async function Dialogue({ vera, lara, carl, demo, clearbox, work }) {
  // The vendor creates its project and shares it with its customer.
  Check((await vera.go('/projects')) === 200, 'vendor: projects page');
  Check((await SubmitForm(vera.page, '/projects', { organisation: 'Acme Networks', name: 'Router X1',
                                                     description: 'Home router <b>not bold</b>' })) === 200,
        'vendor: project created');
  const project = vera.page.url().replace(/^.*\/projects\//, '');
  Check(/^\d+$/.test(project), `vendor: landed on the project page (${vera.page.url()})`);
  Check((await vera.page.locator('.description b').count()) === 0, 'vendor: description markup escaped');
  Check((await SubmitForm(vera.page, `/projects/${project}/shares`, { organisation: 'Telco AG (customer)' })) < 400,
        'vendor: project shared');
  await vera.shot('project');
  // The customer sees the project but may not upload into it.
  Check((await carl.go(`/projects/${project}`)) === 200, 'customer: sees the shared project');
  Check((await carl.page.locator(`form[action="/projects/${project}/releases"]`).count()) === 0,
        'customer: has no upload form');
  // The vendor uploads the demo firmware through the browser form; the worker scans it.
  Check((await SubmitForm(vera.page, `/projects/${project}/releases`,
                          { version: '1.0', kind: 'image', file: join(demo, 'router.bin') })) === 200,
        'vendor: upload accepted');
  const release = vera.page.url().replace(/^.*\/releases\//, '');
  Check(/^\d+$/.test(release), `vendor: landed on the release page (${vera.page.url()})`);
  await vera.shot('release-queued');
  const state = await WaitForScan(vera, `/releases/${release}`);
  Check(state.startsWith('done'), `vendor: scan finished as "${state}"`);
  await vera.shot('release-scanned');
  const vulnerabilities = await Count(vera.page, 'vulnerabilities');
  Check(vulnerabilities > 0, `vendor: ${vulnerabilities} vulnerabilities shown`);
  // The lab and the customer see the same results; the customer opens the report page.
  for (const person of [lara, carl]) {
    Check((await person.go(`/releases/${release}`)) === 200, `${person.name}: release page`);
    Check((await Count(person.page, 'vulnerabilities')) === vulnerabilities, `${person.name}: same counts`);
    await person.shot('release');
  }
  const report = await carl.page.goto(`${carl.page.url().replace(/\/releases\/.*$/, '')}/releases/${release}/files/report.html`);
  Check(report.status() === 200, 'customer: report.html served');
  Check((report.headers()['content-security-policy'] || '').startsWith('sandbox'), 'customer: report.html sandboxed');
  await carl.shot('report');

  // Triage: the vendor answers the first vulnerability as not affected, the lab accepts, and
  // the customer reads it in the VEX of the triage state.
  Check((await vera.go(`/releases/${release}/triage`)) === 200, 'vendor: triage page');
  const row = vera.page.locator('#triage tbody tr', { hasText: 'CVE-' }).first();
  const key = await row.getAttribute('data-key');
  await Promise.all([vera.page.waitForNavigation(), row.locator('a').click()]);
  const item = vera.page.url().replace(/^.*\/items\//, '');
  await vera.shot('item');
  Check((await SubmitForm(vera.page, `/items/${item}/answer`,
                          { status: 'not_affected', justification: 'code_not_reachable',
                            detail: 'The vulnerable applet is not built <i>into</i> this image.' })) === 200,
        'vendor: answer recorded');
  Check((await vera.page.locator('dd.answer').innerText()).startsWith('not_affected'), 'vendor: answer shown');
  Check((await vera.page.locator(`form[action="/items/${item}/decision"]`).count()) === 0,
        'vendor: has no decision form');
  await vera.shot('answered');
  Check((await lara.go(`/items/${item}`)) === 200, 'lab: item page');
  Check((await lara.page.locator(`form[action="/items/${item}/answer"]`).count()) === 0, 'lab: has no answer form');
  Check((await SubmitForm(lara.page, `/items/${item}/decision`, { decision: 'accepted', reason: 'Checked the config.' })) === 200,
        'lab: decision recorded');
  Check((await lara.page.locator('dd.decision').innerText()).startsWith('accepted'), 'lab: decision shown');
  Check((await SubmitForm(lara.page, `/items/${item}/comments`, { body: 'Accepted <b>after</b> review.' })) === 200,
        'lab: comment added');
  Check((await lara.page.locator('#comments b').count()) === 0, 'lab: comment markup escaped');
  await lara.shot('accepted');
  const vex = await carl.page.goto(`${new URL(carl.page.url()).origin}/releases/${release}/vex.json`);
  Check(vex.status() === 200, 'customer: VEX served');
  const document = JSON.parse(await vex.text());
  const entry = (document.vulnerabilities || []).find((v) => v['bom-ref'] === key);
  Check(entry && entry.analysis && entry.analysis.state === 'not_affected' &&
        entry.analysis.justification === 'code_not_reachable',
        `customer: VEX says not_affected for ${key}: ${JSON.stringify(entry && entry.analysis)}`);
  Check((await carl.go(`/items/${item}`)) === 200, 'customer: item page');
  Check((await carl.page.locator(`form[action="/items/${item}/answer"]`).count()) === 0, 'customer: no answer form');
  await carl.shot('item');

  // The lab publishes a verdict; the customer sees it; anyone verifies it offline.
  Check((await lara.go(`/releases/${release}`)) === 200, 'lab: release page');
  Check((await SubmitForm(lara.page, `/releases/${release}/verdict`,
                          { outcome: 'conditional', summary: 'Acceptable once the open CVEs are answered.' })) === 200,
        'lab: verdict published');
  const verdictUrl = lara.page.url();
  Check(/\/public\/verdicts\/\d+$/.test(verdictUrl), `lab: landed on the public page (${verdictUrl})`);
  await lara.shot('verdict-published');
  Check((await carl.go(`/releases/${release}`)) === 200, 'customer: release page with verdict');
  Check((await carl.page.locator('#verdict').innerText()).includes('conditional'), 'customer: sees the verdict');
  Check((await carl.page.locator(`form[action="/releases/${release}/verdict"]`).count()) === 0,
        'customer: has no publish form');
  await Promise.all([carl.page.waitForNavigation(), carl.page.locator('#public-verdict').click()]);
  await carl.shot('public-verdict');
  const command = (await carl.page.locator('#verify-command').innerText()).trim().split(/\s+/);
  // Downloaded without any cookie: the page and its files are public.
  const files = join(work, 'verify');
  mkdirSync(files, { recursive: true });
  for (const name of ['envelope.json', 'proof', 'log-key.vkey', 'attester-key.vkey']) {
    const response = await fetch(`${verdictUrl}/${name}`);
    Check(response.status === 200, `public: ${name} served without login`);
    writeFileSync(join(files, name), Buffer.from(await response.arrayBuffer()));
  }
  Check(command[0] === 'clearbox' && command[1] === 'verify', `public: the command is ${command.join(' ')}`);
  const verified = Run(resolve(clearbox), command.slice(1), { cwd: files });
  Check(verified.status === 0, `public: clearbox verify failed (${verified.status}):\n${verified.stdout}${verified.stderr}`);
  console.log(`clearbox verify on the public verdict:\n${verified.stdout.trim()}`);
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
  const shots = join(args.work, 'screenshots');
  mkdirSync(shots, { recursive: true });
  const data = join(args.work, 'portal-data');
  const admin_made = Run(args.clearbox, ['serve', '--data', data, '--init-admin', 'root'], { input: `${kPassword}\n` });
  if (admin_made.status !== 0) throw new Error(`--init-admin failed:\n${admin_made.stderr}`);
  const demo = join(args.work, 'demo');
  const made = Run('bash', [join(args.source, 'scripts/make-demo-image.sh'), demo]);
  if (made.status !== 0) throw new Error(`make-demo-image.sh failed:\n${made.stderr}`);

  const portal = await StartPortal(args.clearbox, data);
  const browser = await chromium.launch({ executablePath: kChromium, args: ['--no-sandbox'] });
  try {
    const root = await Person(browser, portal.base, 'root', shots);
    await root.login();
    await SetUpOrganisations(root);
    const vera = await Person(browser, portal.base, 'vera', shots);
    const lara = await Person(browser, portal.base, 'lara', shots);
    const carl = await Person(browser, portal.base, 'carl', shots);
    for (const person of [vera, lara, carl]) await person.login();
    await Dialogue({ vera, lara, carl, demo, clearbox: args.clearbox, work: args.work });
    // Every step above is in the portal's audit log, which agrees with the database.
    const audit = Run(args.clearbox, ['serve', '--data', data, '--check-audit']);
    Check(audit.status === 0, `--check-audit exited ${audit.status}:\n${audit.stdout}${audit.stderr}`);
    console.log(audit.stdout.trim());
    for (const person of [root, vera, lara, carl]) {
      for (const problem of person.seen) Check(false, problem);
    }
  } finally {
    await browser.close();
    portal.child.kill('SIGTERM');
  }
  console.log(failures === 0 ? `PASS (screenshots in ${shots})` : `${failures} check(s) failed`);
  return failures === 0 ? 0 : 1;
}

Main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
