// Drives the whole Teams flow in the real Microsoft 365 Agents Playground, in headless
// Chromium, and saves the screenshots that docs/walkthrough.md shows:
//
//   npm run playground:screenshots      # = tsx scripts/screenshot-playground.ts; ~1 min on 2 cores
//
// It starts and stops everything itself, on loopback ports the OS hands out, so it runs next
// to a bot or playground you already have open:
//   1. the bot (`tsx src/main.ts`: embedded simulator + PGlite) with DATA_DIR in a fresh temp
//      folder; waits for /healthz;
//   2. the playground exactly as `npm run playground` starts it (scripts/playground.ts), with a
//      page each for Alex Requester, Riley Approver and Sam Security;
//   3. in every page opens the group chat; in Alex's: "@cmk-chatops new fluid-relay", fills the
//      form (fr-walkthrough, East US, id-fluid-cmk, kv-cmk-rbac / fluid-cmk, latest), submits,
//      waits for the checks card, clicks Approve and expects the refusal (Alex requested it);
//   4. Riley, then Sam if the policy wants a second approval, click Approve; waits for
//      "Created and verified" and "This request is done.";
//   5. in Alex's page: "@cmk-chatops status <id>" answers with the finished card;
//   6. stops the browser, playground and bot and deletes the temp folder.
// Output, in docs/screenshots/: form.png, checks-card.png, self-approval-refused.png,
// final-card.png (the finished request card), approver-page.png.
// The browser may load nothing but loopback (the playground asks a CDN for fonts: refused).
//
// Needs Debian's chromium at /usr/bin/chromium (or CHROMIUM_PATH) — `apt-get install -y chromium
// fonts-noto-color-emoji` (the emoji font draws the card icons) — and the devDependency
// playwright-core. Not part of the jest suite. On failure it exits 1 naming the step, and keeps
// the temp folder (bot.log, m365agentsplayground.log, a screenshot of each page).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { botIsUp, DEFAULT_PEOPLE, freePort, portIsFree, ROOT, startPlayground, type RunningPlayground } from './playground';

const OUT_DIR = join(ROOT, 'docs', 'screenshots');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SERVER_NAME = 'fr-walkthrough';

function log(msg: string) {
  process.stdout.write(`[screenshot] ${msg}\n`);
}

async function startBot(dataDir: string, port: number): Promise<ChildProcess> {
  const out = openSync(join(dataDir, 'bot.log'), 'a');
  const child = spawn(process.execPath, [require.resolve('tsx/cli'), 'src/main.ts'], {
    cwd: ROOT,
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dataDir, SIMULATOR_PORT: '0', LOG_LEVEL: 'info', AZURE_MODE: 'simulator' },
    stdio: ['ignore', out, out],
  });
  const deadline = Date.now() + 120_000;
  while (!(await botIsUp(port, 1000))) {
    if (child.exitCode !== null) throw new Error(`the bot exited during start-up (code ${child.exitCode}); see ${join(dataDir, 'bot.log')}`);
    if (Date.now() > deadline) throw new Error(`the bot did not answer /healthz within 120 s; see ${join(dataDir, 'bot.log')}`);
    await new Promise((r) => setTimeout(r, 300));
  }
  return child;
}

async function stopChild(child: ChildProcess | undefined) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const done = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await done;
  clearTimeout(t);
}

/** `n` free consecutive loopback ports: the playground, then one page per approver. */
async function playgroundPort(n: number): Promise<number> {
  for (let i = 0; i < 20; i++) {
    const p = await freePort();
    let ok = p + n - 1 <= 65535;
    for (let k = 1; ok && k < n; k++) ok = await portIsFree(p + k);
    if (ok) return p;
  }
  throw new Error(`no ${n} free consecutive ports on 127.0.0.1`);
}

function isLoopback(url: string): boolean {
  try {
    const u = new URL(url);
    if (u.protocol === 'data:' || u.protocol === 'blob:') return true;
    return ['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname);
  } catch {
    return false;
  }
}

/** The outermost Adaptive Card of the last bot message (ShowCard bodies are cards too). */
function lastCard(page: Page): Locator {
  return page.locator('.ac-adaptiveCard:not(.ac-adaptiveCard .ac-adaptiveCard)').last();
}

async function openGroupChat(page: Page, groupChatName: string) {
  await page.getByText(groupChatName, { exact: true }).first().click();
  await page.locator('[contenteditable=true][role=textbox]').waitFor();
}

async function closeLogPanel(page: Page) {
  const panel = page.getByText('Log Panel', { exact: true });
  if (await panel.isVisible().catch(() => false))
    await page
      .getByRole('button', { name: /toggle log panel/i })
      .first()
      .click()
      .catch(() => undefined);
}

/** Types "@bot text" with a real mention (the playground forwards group messages only when the bot is mentioned). */
async function sayToBot(page: Page, botName: string, text: string) {
  const box = page.locator('[contenteditable=true][role=textbox]');
  await box.click();
  await box.pressSequentially(`@${botName.slice(0, 3)}`);
  await page.locator('#typeahead-menu').getByRole('menuitem', { name: botName }).click();
  await box.pressSequentially(` ${text}`);
  await page.keyboard.press('Enter');
}

async function pick(card: Locator, page: Page, label: RegExp, option: RegExp) {
  const combo = card.getByRole('combobox', { name: label });
  await combo.click();
  await page.getByRole('option', { name: option }).first().click();
  await page.keyboard.press('Escape').catch(() => undefined);
}

async function shot(locator: Locator | Page, name: string) {
  const path = join(OUT_DIR, name);
  await locator.screenshot({ path, animations: 'disabled' });
  log(`saved docs/screenshots/${name}`);
}

/** A whole card: the chat pane scrolls inside the page, so make the page tall enough to hold it. */
async function shotCard(page: Page, card: Locator, name: string) {
  const size = page.viewportSize() ?? { width: 1280, height: 1000 };
  const box = await card.boundingBox();
  await page.setViewportSize({ width: size.width, height: Math.max(size.height, Math.ceil((box?.height ?? 0) + 600)) });
  await page.waitForTimeout(300);
  await card.scrollIntoViewIfNeeded();
  await shot(card, name);
  await page.setViewportSize(size);
}

async function main() {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (or set CHROMIUM_PATH)`);
  mkdirSync(OUT_DIR, { recursive: true });
  const tmp = mkdtempSync(join(tmpdir(), 'cmk-playground-'));
  let bot: ChildProcess | undefined;
  let pg: RunningPlayground | undefined;
  let ctx: BrowserContext | undefined;
  let step = 'start the bot';
  const pages: Array<[string, Page]> = [];
  let failed = false;
  try {
    const botPort = await freePort();
    log(`bot on 127.0.0.1:${botPort}, DATA_DIR ${tmp}`);
    bot = await startBot(tmp, botPort);

    step = 'start the playground';
    pg = await startPlayground({ botPort, port: await playgroundPort(1 + DEFAULT_PEOPLE.length), people: DEFAULT_PEOPLE, dataDir: tmp, quiet: true });
    log(`playground: ${pg.pages.map((p) => `${p.user.name} ${p.url}`).join(', ')}`);
    const botName = pg.config.bot.name;
    const group = pg.config.groupChat.name;

    step = 'launch Chromium';
    ctx = await chromium.launchPersistentContext(join(tmp, 'chromium-profile'), {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1280, height: 1000 },
      deviceScaleFactor: 1,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    await ctx.route('**/*', (route) => (isLoopback(route.request().url()) ? route.continue() : route.abort()));
    ctx.setDefaultTimeout(30_000);

    // Approvers' pages first: a page shows only what arrives while it is open.
    for (const [i, p] of [...pg.pages.entries()].reverse()) {
      step = `open ${p.user.name}'s page (group chat)`;
      const page = i === pg.pages.length - 1 ? (ctx.pages()[0] ?? (await ctx.newPage())) : await ctx.newPage();
      await page.goto(p.url);
      await openGroupChat(page, group);
      await closeLogPanel(page);
      pages.unshift([p.user.name, page]);
    }
    const [alexName, alex] = pages[0]!;
    const approvers = pages.slice(1);

    step = `${alexName}: @bot new fluid-relay`;
    await sayToBot(alex, botName, 'new fluid-relay');
    const form = lastCard(alex);
    await form.getByText('New Azure Fluid Relay server with a customer-managed key').waitFor();

    step = `${alexName}: fill the form`;
    await form.getByRole('textbox', { name: /server name/i }).fill(SERVER_NAME);
    await pick(form, alex, /^Region/, /\(eastus\)|^eastus$/i);
    await pick(form, alex, /^Identity/, /^id-fluid-cmk\b/);
    await pick(form, alex, /^Key(?! version)/, /^kv-cmk-rbac \/ fluid-cmk\b/);
    await pick(form, alex, /^Key version/, /^latest\b/);
    await shotCard(alex, form, 'form.png');

    step = `${alexName}: submit the form`;
    await form.getByRole('button', { name: 'Run checks and request approval' }).click();
    const card = lastCard(alex);
    await card
      .getByText(/Waiting for \d+ more approvals?|approval is requested|Blocked/)
      .first()
      .waitFor({ timeout: 60_000 });
    const idText =
      (
        await card
          .getByText(/^CR-[0-9A-Z]+$/)
          .first()
          .textContent()
      )?.trim() ?? '';
    if (!/^CR-/.test(idText)) throw new Error(`no request id on the checks card (got "${idText}")`);
    const waiting =
      (await card
        .getByText(/Waiting for \d+ more approvals?|approval is requested|Blocked/)
        .first()
        .textContent()) ?? '';
    if (/Blocked/.test(waiting)) throw new Error(`the checks blocked the request: ${waiting}`);
    log(`request ${idText}: ${waiting}`);
    await shotCard(alex, card, 'checks-card.png');

    step = `${alexName}: Approve (must be refused)`;
    await card.getByRole('button', { name: 'Approve' }).click();
    await alex
      .getByText(/so you cannot approve it/)
      .first()
      .waitFor();
    await shot(alex, 'self-approval-refused.png');

    let last: [string, Page] | undefined;
    for (const [name, page] of approvers) {
      step = `${name}: Approve`;
      const c = lastCard(page);
      await c.getByText(idText, { exact: true }).waitFor();
      await c.getByRole('button', { name: 'Approve' }).click();
      last = [name, page];
      // The card (the invoke's answer) lists the approval and counts them: "Approvals: 1 of 2 …".
      await c
        .getByText(new RegExp(`${name} approved`))
        .first()
        .waitFor({ timeout: 60_000 });
      await page.waitForTimeout(300);
      const count = /Approvals: (\d+) of (\d+)/.exec(
        (await c
          .getByText(/^Approvals: \d+ of \d+/)
          .first()
          .textContent()) ?? '',
      );
      const outcome = count && Number(count[1]) < Number(count[2]) ? 'more' : 'done';
      log(`${name} approved${outcome === 'more' ? '; more approvals needed' : ''}`);
      if (outcome === 'done') break;
    }
    if (!last) throw new Error('no approver page');
    const [lastName, lastPage] = last;
    step = `${lastName}: wait for "Created and verified"`;
    await lastPage
      .getByText(/Created and verified/)
      .first()
      .waitFor({ timeout: 90_000 });
    await lastCard(lastPage).getByText('This request is done.').waitFor();
    await lastPage.waitForTimeout(500);
    await shotCard(lastPage, lastCard(lastPage), 'final-card.png');
    await shot(lastPage, 'approver-page.png');

    step = `${alexName}: the card is done in the requester's page too`;
    await alex
      .getByText(/Created and verified/)
      .first()
      .waitFor({ timeout: 30_000 });

    step = `${alexName}: @bot status <id>`;
    const before = await alex.locator('.ac-adaptiveCard').count();
    await sayToBot(alex, botName, `status ${idText}`);
    await alex.waitForFunction(`document.querySelectorAll('.ac-adaptiveCard').length > ${before}`, undefined, { timeout: 30_000 });
    await lastCard(alex).getByText('This request is done.').waitFor();
    log(`done: ${idText} created and verified, approved by ${approvers.map(([n]) => n).join(', ')}`);
  } catch (e) {
    failed = true;
    process.stderr.write(`[screenshot] FAILED at "${step}": ${(e as Error).message}\n`);
    for (const [name, p] of pages) await p.screenshot({ path: join(tmp, `failed-${name.replace(/\W+/g, '-')}.png`), fullPage: true }).catch(() => undefined);
    process.stderr.write(`[screenshot] logs and failure screenshots are in ${tmp}\n`);
  } finally {
    await ctx?.close().catch(() => undefined);
    await pg?.close().catch(() => undefined);
    await stopChild(bot);
    if (!failed && !process.env.KEEP_TEMP) rmSync(tmp, { recursive: true, force: true });
  }
  process.exit(failed ? 1 : 0);
}

main().catch((e) => {
  process.stderr.write(`playground:screenshots failed: ${(e as Error).stack ?? e}\n`);
  process.exit(1);
});
