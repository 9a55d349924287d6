// End-to-end test of the web UI: starts the real `parley serve --web web/dist` on a free loopback
// port with a temporary data directory, drives Debian's Chromium through playwright-core (never a
// downloaded browser), and checks every role's main screen. Waits are on selectors and events
// with bounded timeouts, never sleeps. Screenshots go to ARTIFACTS (default: ../build/web-e2e).
//
//   PARLEY_BINARY=build/parley node e2e/run.mjs
//
// Exit status 0 when every check passed; 1 with the failing check on stderr otherwise (including
// when the server does not start or stops answering).
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { parse as parseYaml, parseDocument } from "yaml";

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, "../..");
const binary = path.resolve(process.env.PARLEY_BINARY ?? path.join(repo, "build/parley"));
const dist = path.resolve(process.env.WEB_DIST ?? path.join(repo, "web/dist"));
const artifacts = path.resolve(process.env.ARTIFACTS ?? path.join(repo, "build/web-e2e"));
const browserPath = process.env.CHROMIUM ?? "/usr/bin/chromium";
const password = "e2e-password-42";
const timeout = 15_000;  // every single wait
// Offline flags (shared/notes/platform-facts.md): no background traffic, no updates, no sync.
const browserArgs = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

const cleanups = [];
let step = "start";
const log = (msg) => console.log(`[web-e2e] ${msg}`);

/** Starts the server; resolves with its URL once it prints "listening on", rejects if it exits. */
function startServer(dataDir) {
  if (!existsSync(path.join(dist, "index.html"))) {
    throw new Error(`${dist}/index.html is missing: build the web UI first (make build)`);
  }
  const args = ["serve", "--http", "127.0.0.1:0", "--data", dataDir, "--config", path.join(repo, "config/demo.yaml"),
    "--weak-password-hashing", "--initial-password", password, "--web", dist];
  const child = spawn(binary, args, { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  cleanups.push(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(timer);
  });
  return new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`server did not start in ${timeout} ms: ${out}${stderr}`)), timeout);
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${binary}: ${e.message}`));
    });
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${code ?? signal}) before listening: ${stderr.trim()}`));
    });
    let listening = false;
    child.stdout.on("data", (d) => {
      if (listening) return;
      out += d;
      const m = out.match(/listening on (http:\/\/\S+)/);
      if (m) {
        listening = true;
        clearTimeout(timer);
        child.removeAllListeners("exit");
        child.on("exit", (code, signal) => log(`server exited (${code ?? signal})`));
        resolve(m[1]);
      }
    });
  });
}

/** A REST session for set-up through the API (the administrator creates the contact). */
async function restLogin(base, login) {
  const res = await fetch(`${base}/api/v1/auth/login`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ login, password }),
  });
  if (!res.ok) throw new Error(`REST login of ${login}: HTTP ${res.status} ${await res.text()}`);
  const cookie = res.headers.get("set-cookie").split(";")[0];
  return async (method, target, body) => {
    const r = await fetch(`${base}/api/v1${target}`, {
      method,
      headers: { Cookie: cookie, "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    if (!r.ok) throw new Error(`${method} ${target}: HTTP ${r.status} ${text}`);
    return text ? JSON.parse(text) : undefined;
  };
}

/** A browser of its own (fresh profile, own cookies) for one user, collecting console errors. */
async function browserSession(name, viewport = { width: 1366, height: 860 }) {
  const profile = mkdtempSync(path.join(tmpdir(), `parley-e2e-${name}-`));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: browserPath,
    headless: true,
    args: browserArgs,
    viewport,
    timeout,
  });
  cleanups.push(async () => {
    await context.close().catch(() => undefined);
    rmSync(profile, { recursive: true, force: true });
  });
  context.setDefaultTimeout(timeout);
  const page = context.pages()[0] ?? (await context.newPage());
  const errors = [];
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(`${name}: console error: ${m.text()}`);
  });
  page.on("pageerror", (e) => errors.push(`${name}: page error: ${e.message}`));
  return { page, errors, name };
}

async function login(s, base, login) {
  await s.page.goto(base);
  await s.page.fill("input[name=login]", login);
  await s.page.fill("input[name=password]", password);
  await s.page.click("button[type=submit]");
}

async function shot(s, file) {
  await s.page.screenshot({ path: path.join(artifacts, file), fullPage: true });
  log(`screenshot ${file}`);
}

/** Waits until the text of `selector` equals `want` (the UI updates from the event stream). */
async function waitText(page, selector, want) {
  await page.waitForFunction(
    ([sel, text]) => document.querySelector(sel)?.textContent?.trim() === text,
    [selector, want],
    { timeout },
  );
}

function check(cond, what) {
  if (!cond) throw new Error(`check failed: ${what}`);
}

/** Waits until `probe()` resolves truthy, asking again after each answer, up to `timeout`. */
async function waitUntil(probe, what) {
  const deadline = Date.now() + timeout;
  let last;
  while (Date.now() < deadline) {
    last = await probe();
    if (last) return last;
    await new Promise((r) => setImmediate(r));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function main() {
  mkdirSync(artifacts, { recursive: true });
  const dataDir = mkdtempSync(path.join(tmpdir(), "parley-e2e-data-"));
  cleanups.push(async () => rmSync(dataDir, { recursive: true, force: true }));

  step = "server";
  const base = await startServer(dataDir);
  log(`server at ${base}`);
  const admin = await restLogin(base, "admin");

  step = "supervisor opens the wallboard";
  const sam = await browserSession("supervisor");
  await login(sam, base, "sam");
  await sam.page.waitForSelector("[data-testid=wallboard] [data-testid=queue-sales]");
  await waitText(sam.page, "[data-testid=queue-sales] [data-testid=answered]", "0");
  await sam.page.waitForSelector("[data-testid=stream]:has-text('live')");

  step = "agent logs in and goes Available";
  const alice = await browserSession("agent");
  await login(alice, base, "alice");
  await alice.page.waitForSelector("[data-testid=presence]");
  await alice.page.click("form[aria-label=Presence] >> text=Available");
  await waitText(alice.page, "[data-testid=presence]", "Available");
  await alice.page.waitForSelector("[data-testid=stream]:has-text('live')");
  // The configured Not Ready reasons are offered as choices (GET /api/v1/me), not free text.
  const reasons = await alice.page.locator("form[aria-label=Presence] select[name=reason] option").allTextContents();
  check(reasons.join(",") === "Break,Lunch,Meeting,Training,Missed offers", `reason choices: ${reasons}`);
  await shot(alice, "agent-desktop-available.png");

  step = "a contact created through the API is offered";
  const customer = await admin("POST", "/customers", {
    name: "Jeanne Dupont",
    identities: [{ channel: "voice", address: "+33 6 12 34 56 78" }],
    fields: { tier: "gold" },
    tags: ["vip"],
  });
  await admin("POST", `/customers/${customer.id}/notes`, { text: "Prefers to be called after 6 pm." });
  const contact = await admin("POST", "/contacts", {
    queue: "sales",
    channel: "chat",
    attributes: { subject: "Upgrade to fibre", order: "A-17" },
    from: { channel: "voice", address: "+33612345678" },
  });
  check(contact.customer === customer.id, `contact attached to customer ${customer.id}: ${JSON.stringify(contact)}`);
  const offer = await alice.page.waitForSelector("[data-testid=offer]");
  await alice.page.waitForSelector("[data-testid=offer] >> text=Upgrade to fibre");
  await alice.page.waitForSelector("[data-testid=offer] >> text=Jeanne Dupont");
  await alice.page.waitForSelector("[data-testid=offer] [data-testid=countdown]");
  const offerText = await offer.textContent();
  check(/chat/i.test(offerText) && offerText.includes("sales"), `offer shows channel and queue: ${offerText}`);
  await shot(alice, "agent-desktop-offer.png");

  step = "agent accepts: the customer pops";
  await alice.page.click("[data-testid=offer] >> text=Accept");
  await alice.page.waitForSelector("[data-testid=active-contact] [data-testid=customer] >> text=Jeanne Dupont");
  await alice.page.waitForSelector("[data-testid=customer] >> text=Prefers to be called after 6 pm.");
  await alice.page.waitForSelector("[data-testid=timeline] li");
  await waitText(alice.page, "[data-testid=presence]", "Busy");
  await shot(alice, "agent-desktop-active.png");

  step = "supervisor explains the routing of the contact alice handles";
  await sam.page.goto(`${base}/#/agents`);
  const why = sam.page.locator("tr[data-agent=alice] button", { hasText: "why?" });
  await why.click();
  await sam.page.waitForSelector("[data-testid=explanation]");
  const explanation = await sam.page.textContent("[data-testid=explanation]");
  check(explanation.includes("alice"), `explanation names alice: ${explanation}`);
  // Who may listen gets the contact's recordings beside it.
  const recLink = sam.page.locator(`tr[data-agent=alice] a[aria-label='Recordings of contact ${contact.id}']`);
  check((await recLink.getAttribute("href")) === `#/recordings?contact=${contact.id}`, "the grid links to the contact's recordings");
  await shot(sam, "supervisor-agents.png");

  step = "agent ends and wraps up with a disposition";
  await alice.page.click("[data-testid=active-contact] >> text=End");
  await alice.page.waitForSelector("[data-testid=wrap-up]");
  const disposition = alice.page.locator("[data-testid=wrap-up] select[name=disposition]");
  const dispositions = await disposition.locator("option").allTextContents();
  check(dispositions.includes("Sale made") && dispositions.length === 5, `disposition choices: ${dispositions}`);
  await disposition.selectOption("sale");
  await alice.page.fill("[data-testid=wrap-up] textarea[name=notes]", "Upgraded to fibre 1 Gb/s");
  await shot(alice, "agent-desktop-wrap-up.png");
  await alice.page.click("[data-testid=wrap-up] >> text=Finish wrap-up");
  await waitText(alice.page, "[data-testid=handled-today]", "1");
  await alice.page.waitForSelector("[data-testid=idle]");
  // "Today" comes from alice's own agent report (GET /api/v1/reports/agents).
  await waitText(alice.page, "[data-testid=today-handled]", "1");
  const closed = await admin("GET", `/contacts/${contact.id}`);
  check(closed.state === "closed" && closed.disposition === "sale", `contact closed with the disposition: ${JSON.stringify(closed)}`);

  step = "supervisor sees the queue counts change";
  await sam.page.goto(`${base}/#/wallboard`);
  await waitText(sam.page, "[data-testid=queue-sales] [data-testid=answered]", "1");
  await waitText(sam.page, "[data-testid=queue-sales] [data-testid=offered]", "1");
  await waitText(sam.page, "[data-testid=queue-sales] [data-testid=waiting]", "0");
  await sam.page.waitForSelector(".chart canvas");
  await shot(sam, "supervisor-wallboard.png");
  for (const [w, h] of [[1280, 720], [2560, 1440]]) {
    await sam.page.setViewportSize({ width: w, height: h });
    await sam.page.waitForSelector("[data-testid=queue-sales]");
    await shot(sam, `supervisor-wallboard-${w}x${h}.png`);
  }
  await sam.page.setViewportSize({ width: 1366, height: 860 });

  step = "supervisor opens Reports: the table counts the contact, the CSV downloads";
  await sam.page.click("nav >> text=Reports");
  await sam.page.waitForSelector("[data-testid=report-table]");
  await sam.page.selectOption("form[aria-label=Report] select[name=name]", "sales");
  await sam.page.selectOption("form[aria-label=Report] select[name=interval]", "1d");
  // Today in the site's days (Europe/Paris): one or two 1d rows; their sums count the contact.
  const sums = () =>
    sam.page.evaluate(() => {
      const rows = [...document.querySelectorAll("[data-testid=report-table] tbody tr")];
      const sum = (c) => rows.reduce((t, r) => t + Number(r.querySelector(`td[data-column=${c}]`)?.textContent ?? "NaN"), 0);
      return { names: [...new Set(rows.map((r) => r.dataset.name))], offered: sum("offered"), answered: sum("answered"), handled: sum("handled"), abandoned: sum("abandoned") };
    });
  await sam.page.waitForFunction(() => {
    const rows = [...document.querySelectorAll("[data-testid=report-table] tbody tr")];
    return rows.length > 0 && rows.every((r) => r.dataset.name === "sales" && r.dataset.start.length > 0) &&
      rows.some((r) => r.querySelector("td[data-column=answered]")?.textContent === "1");
  }, undefined, { timeout });
  const counted = await sums();
  check(JSON.stringify(counted) === JSON.stringify({ names: ["sales"], offered: 1, answered: 1, handled: 1, abandoned: 0 }),
    `report table counts: ${JSON.stringify(counted)}`);
  await sam.page.waitForSelector("[data-testid=chart-volume] canvas");
  await sam.page.waitForSelector("[data-testid=chart-aht] canvas");
  // Jeanne's contact was answered and she has not come back: resolved so far, its window open.
  const fcr = await sam.page.evaluate(() => {
    const row = [...document.querySelectorAll("[data-testid=report-table] tbody tr")]
      .find((r) => r.querySelector("td[data-column=answered]")?.textContent === "1");
    const cell = (c) => row?.querySelector(`td[data-column=${c}]`)?.textContent;
    return { judged: cell("fcr_contacts"), fcr: cell("fcr"), open: cell("fcr_open") };
  });
  check(JSON.stringify(fcr) === JSON.stringify({ judged: "1", fcr: "100%", open: "1" }), `report table FCR: ${JSON.stringify(fcr)}`);
  await sam.page.waitForSelector("[data-testid=chart-fcr] canvas");
  await shot(sam, "supervisor-reports.png");
  const [download] = await Promise.all([sam.page.waitForEvent("download"), sam.page.click("[data-testid=download-csv]")]);
  check(/^parley-queues-\d{4}-\d{2}-\d{2}-1d\.csv$/.test(download.suggestedFilename()), `CSV file name: ${download.suggestedFilename()}`);
  const csv = readFileSync(await download.path(), "utf8").split("\r\n").filter((l) => l.length > 0);
  check(csv[0].startsWith("queue,interval_start,interval_end,offered,answered,answered_within_target,abandoned"), `CSV header: ${csv[0]}`);
  const csvRows = csv.slice(1).map((l) => l.split(","));
  check(csvRows.length > 0 && csvRows.every((r) => r[0] === "sales"), `CSV rows are the sales queue's: ${csv.join(" | ")}`);
  check(csvRows.some((r) => r[3] === "1" && r[4] === "1"), `a CSV row counts the offered and answered contact: ${csv.join(" | ")}`);
  await supervisorSearchesRecordings(sam, base, contact.id);
  await supervisorPlansStaffing(sam);
  await sam.page.click("nav >> text=Wallboard");
  await sam.page.waitForSelector("[data-testid=wallboard] [data-testid=queue-sales]");

  step = "the wallboard login opens TV mode";
  const tv = await browserSession("wallboard", { width: 1920, height: 1080 });
  await login(tv, base, "wallboard");
  await tv.page.waitForSelector("[data-testid=tv] [data-testid=queue-sales]");
  await waitText(tv.page, "[data-testid=queue-sales] [data-testid=answered]", "1");
  check((await tv.page.locator("nav").count()) === 0, "TV mode shows no navigation");
  await tv.page.waitForSelector(".chart canvas");
  await shot(tv, "wallboard-tv.png");

  step = "the supervisor opens TV mode from the wallboard";
  await sam.page.click("button:has-text('TV mode')");
  await sam.page.waitForSelector("[data-testid=tv] [data-testid=queue-sales]");
  await sam.page.keyboard.press("Escape");
  await sam.page.waitForSelector("[data-testid=wallboard]");

  step = "a plain agent sees only the desktop";
  const bob = await browserSession("plain-agent");
  await login(bob, base, "bob");
  await waitText(bob.page, "[data-testid=presence]", "Offline");
  const nav = (await bob.page.locator("nav a").allTextContents()).join(",");
  check(nav === "Desktop", `bob's navigation is only the desktop: ${nav}`);
  await bob.page.selectOption("form[aria-label=Presence] select[name=reason]", "training");
  await bob.page.click("form[aria-label=Presence] >> text=Not Ready");
  await waitText(bob.page, "[data-testid=presence]", "Not Ready (training)");
  check(!(await bob.page.locator("nav >> text=Recordings").count()), "no Recordings for a plain agent");

  await agentUsesCallControls(alice, sam, admin, customer.id);

  step = "the QA analyst's main screen";
  const qa = await browserSession("qa");
  await login(qa, base, "quinn");
  await qa.page.waitForSelector("[data-testid=agent-table] tr[data-agent=alice]");
  await shot(qa, "qa-agents.png");
  // A live change reaches a user without queue statistics (and asks nothing it may not read).
  await admin("PUT", "/agents/alice/presence", { presence: "not-ready", reason: "lunch" });
  await waitText(qa.page, "tr[data-agent=alice] td:nth-of-type(2)", "Not Ready (lunch)");

  step = "the QA analyst reads reports but gets no CSV download (no reports.export)";
  await qa.page.click("nav >> text=Reports");
  await qa.page.waitForSelector("[data-testid=report-table]");
  check(!(await qa.page.locator("[data-testid=download-csv]").count()), "no Download CSV without reports.export");
  // Without queues.read the queue choices come from the report itself (GET /queues would be 403).
  await qa.page.waitForSelector("form[aria-label=Report] select[name=name] option[value=sales]", { state: "attached" });

  step = "the administrator's main screen";
  const adm = await browserSession("administrator");
  await login(adm, base, "admin");
  await adm.page.waitForSelector("[data-testid=wallboard] [data-testid=queue-support]");
  await shot(adm, "administrator-wallboard.png");
  await adminEditsAQueue(adm, base, admin);
  await adminEditsConfigurationItems(adm, sam, admin);
  await agentCallsBack(alice, admin);

  step = "logging out returns to the login screen";
  await adm.page.click("header >> text=Log out");
  await adm.page.waitForSelector("input[name=login]");

  step = "a session ended elsewhere returns to the login screen";
  const before = bob.errors.length;
  await bob.page.evaluate(() => fetch("/api/v1/auth/logout", { method: "POST" }));
  await bob.page.click("form[aria-label=Presence] >> text=Available");
  await bob.page.waitForSelector("input[name=login]");
  // The refused request is logged by the browser: expected here, and only here.
  bob.errors.splice(before).filter((e) => !e.includes("status of 401")).forEach((e) => bob.errors.push(e));

  step = "no console errors";
  const errors = [alice, sam, tv, bob, adm, qa].flatMap((s) => s.errors);
  check(errors.length === 0, `console errors:\n${errors.join("\n")}`);
}

/**
 * A callback contact on the desktop offers "Call back" with its number. The configuration gets a
 * callback capacity for alice and the callback channel on sales (through the API), the contact is
 * created through the API and accepted on screen (no SIP: nobody dials it), and "Call back"
 * places the call: the request reaches POST /api/v1/calls and the server's 503 (no voice channel)
 * appears beside the dial form.
 */
async function agentCallsBack(alice, admin) {
  step = "the agent accepts a callback contact and calls the number back";
  const p = alice.page;
  const before = alice.errors.length;
  const current = await admin("GET", "/config");
  const doc = parseDocument(current.yaml);
  const agents = doc.get("agents");
  agents.items.find((a) => a.get("id") === "alice").setIn(["capacity", "callback"], 1);
  const sales = doc.get("queues").items.find((q) => q.get("name") === "sales");
  sales.get("channels").add("callback");
  await admin("PUT", "/config", { yaml: doc.toString(), version: current.version });
  await waitUntil(async () => (await admin("GET", "/queues/sales")).channels.includes("callback"), "sales to take callbacks");
  await admin("PUT", "/agents/alice/presence", { presence: "available" });
  const callback = await admin("POST", "/contacts", {
    queue: "sales",
    channel: "callback",
    attributes: { "callback.number": "+33 6 98 76 54 32", subject: "Call me back" },
  });
  await p.click("[data-testid=offer] >> text=Accept");
  const dialer = "[data-testid=dialer]";
  const placed = await clickAndAnswer(p, `${dialer} button:text-is('Call back +33698765432')`, (r) =>
    r.url().endsWith("/api/v1/calls") && r.method() === "POST");
  check(
    JSON.stringify(placed.request.postDataJSON()) === '{"number":"+33698765432","queue":"sales"}',
    `call back body: ${placed.request.postData()}`,
  );
  check(placed.status === 503 && /no voice channel is attached/.test(placed.body.error.message),
    `the server's answer to a call back without SIP: ${placed.status} ${JSON.stringify(placed.body)}`);
  await waitText(p, `${dialer} [data-testid=dial-answer]`, placed.body.error.message);
  await shot(alice, "agent-desktop-call-back.png");
  await admin("POST", `/contacts/${callback.id}/end`);
  await p.waitForSelector("[data-testid=wrap-up]");
  alice.errors.splice(before).filter((e) => !/status of 503/.test(e)).forEach((e) => alice.errors.push(e));
}

/** The supervisor's Recordings screen: the empty state, a filtered search, a refused filter, a contact's recordings. */
async function supervisorSearchesRecordings(sam, base, chatContact) {
  step = "the supervisor searches recordings";
  const p = sam.page;
  await p.click("nav >> text=Recordings");
  await p.waitForSelector("[data-testid=recordings-empty] >> text=No recordings match these filters.");
  await shot(sam, "supervisor-recordings-empty.png");
  const form = "form[aria-label='Recording search']";
  const today = await p.evaluate(() => new Date().toLocaleDateString("en-CA"));  // YYYY-MM-DD
  await p.fill(`${form} input[name=from]`, today);
  await p.fill(`${form} input[name=to]`, today);
  await p.fill(`${form} input[name=queue]`, "sales");
  await p.fill(`${form} input[name=agent]`, "alice");
  const [answer] = await Promise.all([
    p.waitForResponse((r) => r.url().includes("/api/v1/recordings?") && r.url().includes("queue=sales")),
    p.click(`${form} button[type=submit]`),
  ]);
  const url = new URL(answer.url());
  check(answer.status() === 200 && url.searchParams.get("agent") === "alice" && url.searchParams.has("from") && url.searchParams.has("to"),
    `filtered search: ${answer.status()} ${answer.url()}`);
  check((await answer.json()).recordings.length === 0, "no recordings without a voice channel");
  await p.waitForSelector("[data-testid=recordings-empty]");
  await shot(sam, "supervisor-recordings-search.png");
  // What the browser can tell is wrong is said before asking.
  await p.fill(`${form} input[name=customer]`, "Dupont");
  await p.waitForSelector("[data-testid=recording-filter-problems] >> text=Customer is a customer number");
  check(await p.locator(`${form} button[type=submit]`).isDisabled(), "Search is disabled while a filter is wrong");
  await tableAndPlayerOnAStubbedAnswer(sam);
  // One contact's recordings (where the agent grid's link leads).
  await p.goto(`${base}/#/recordings?contact=${chatContact}`);
  await p.waitForSelector(`[data-testid=recordings-of-contact] >> text=contact #${chatContact}`);
  await p.waitForSelector("[data-testid=recordings-empty] >> text=This contact has no recordings.");
}

/** A WAV file of `seconds` of stereo 8 kHz 16-bit silence (a recording's format). */
function silentWav(seconds) {
  const data = 8000 * 2 * 2 * seconds;
  const b = Buffer.alloc(44 + data);
  b.write("RIFF", 0);
  b.writeUInt32LE(36 + data, 4);
  b.write("WAVEfmt ", 8);
  b.writeUInt32LE(16, 16);
  b.writeUInt16LE(1, 20);  // PCM
  b.writeUInt16LE(2, 22);  // stereo: customer left, agent right
  b.writeUInt32LE(8000, 24);
  b.writeUInt32LE(8000 * 4, 28);
  b.writeUInt16LE(4, 32);
  b.writeUInt16LE(16, 34);
  b.write("data", 36);
  b.writeUInt32LE(data, 40);
  return b;
}

/**
 * The table, paging and player over a stubbed answer: the web e2e's server records nothing (no
 * SIP channel), so the browser's requests for recordings are answered by the test with two pages
 * shaped as docs/openapi.yaml's Recording, and the audio with a 2 s WAV. This checks what the
 * screen does with an answer; the server's own answers are checked in voice_e2e_test.
 */
async function tableAndPlayerOnAStubbedAnswer(sam) {
  step = "recordings table, paging and player (stubbed answer)";
  const p = sam.page;
  const rec = (id, extra = {}) => ({
    id, contact: "77", kind: "call", bytes: 64044, duration_ms: 2000, sha256: "ab".repeat(32),
    started_at: "2026-12-03T09:15:00Z", completed_at: "2026-12-03T09:15:02Z", queue: "sales", agent: "alice", customer: "1", ...extra,
  });
  const asked = [];
  const list = async (route) => {
    const url = new URL(route.request().url());
    asked.push(url.search);
    const second = url.searchParams.get("after") === "900";
    await route.fulfill({
      contentType: "application/json",
      body: JSON.stringify(second ? { recordings: [rec("901", { agent: "bob", bytes: 3 * 1024 * 1024 })], next_after: null } : { recordings: [rec("900")], next_after: "900" }),
    });
  };
  const wav = silentWav(2);
  const audio = (route) => route.fulfill({ contentType: "audio/wav", body: wav });
  await p.route("**/api/v1/recordings?*", list);
  await p.route("**/api/v1/recordings/*/audio", audio);
  try {
    await p.fill("form[aria-label='Recording search'] input[name=customer]", "1");
    await p.click("form[aria-label='Recording search'] button[type=submit]");
    const row = "[data-testid=recordings-table] tr[data-recording='900']";
    await p.waitForSelector(row);
    const cells = await p.locator(`${row} td`).allTextContents();
    check(cells[1] === "0:02" && cells[2] === "sales" && cells[3] === "alice" && cells[4] === "1" && cells[5] === "62.5 KiB",
      `row cells: ${cells}`);
    check(new URLSearchParams(asked.at(-1)).get("customer") === "1", `customer filter asked: ${asked.at(-1)}`);
    await p.click("button:has-text('Next page')");
    await p.waitForSelector("[data-testid=recordings-table] tr[data-recording='901'] >> text=3.0 MiB");
    check(new URLSearchParams(asked.at(-1)).get("after") === "900", `next page asks after the last id: ${asked.at(-1)}`);
    check(await p.locator("button:has-text('Next page')").isDisabled(), "no page after the last");
    await p.click("button:has-text('Previous page')");
    await p.click(`${row} button:has-text('Play')`);
    await p.waitForSelector("[data-testid=player] >> text=Recording 900");
    await p.waitForSelector(`[data-testid=player] >> text=${"ab".repeat(32)}`);
    // The browser loads the WAV from the audio URL and knows its length.
    await p.waitForFunction(() => {
      const a = document.querySelector("[data-testid=player-audio]");
      return a && a.src.endsWith("/api/v1/recordings/900/audio") && Math.abs(a.duration - 2) < 0.05;
    }, undefined, { timeout });
    await shot(sam, "supervisor-recordings-player.png");
  } finally {
    await p.unroute("**/api/v1/recordings?*", list);
    await p.unroute("**/api/v1/recordings/*/audio", audio);
  }
}

/**
 * Call control on the agent desktop. The web e2e's server has no SIP channel (no `--sip`), so a
 * voice contact created through the API has no call legs: the buttons are shown and each command
 * reaches the server, whose 409 ("no voice channel is attached") appears next to the buttons. The
 * commands on live calls are tested with real SIP legs in voice_e2e_test (docs/voice.md).
 */
async function agentUsesCallControls(alice, sam, admin, customerId) {
  step = "the agent accepts a voice contact and sees call controls";
  const p = alice.page;
  const before = alice.errors.length;
  const call = await admin("POST", "/contacts", {
    queue: "sales",
    channel: "voice",
    attributes: { subject: "Billing question" },
    from: { channel: "voice", address: "+33612345678" },
  });
  check(call.customer === customerId, `voice contact attached to the customer: ${JSON.stringify(call)}`);
  await p.waitForSelector("[data-testid=offer] >> text=Billing question");
  await p.click("[data-testid=offer] >> text=Accept");
  const controls = "[data-testid=active-contact] [data-testid=call-controls]";
  await p.waitForSelector(controls);
  await waitText(p, `${controls} [data-testid=recording-state]`, "Not recording");
  await waitText(p, `${controls} [data-testid=call-state]`, "Talking");
  const targets = await p.locator(`${controls} select[name=transfer-queue] option`).allTextContents();
  check(targets.join(",") === "support,billing", `transfer targets are the other voice queues: ${targets}`);

  step = "call-control commands show the server's answer next to the buttons";
  await p.click(`${controls} button:has-text('Hold')`);
  await p.waitForSelector(`${controls} [data-testid=call-error] >> text=cannot be put on hold: no voice channel is attached`);
  await shot(alice, "agent-desktop-call-control.png");
  await p.click(`${controls} button[aria-label='Send digit 5']`);
  await p.waitForSelector(`${controls} [data-testid=call-error] >> text=cannot send digits: no voice channel is attached`);
  await p.fill(`${controls} input[name=digits]`, "12x");
  await p.click(`${controls} button:has-text('Send digits')`);
  await p.waitForSelector(`${controls} [data-testid=call-error] >> text=Digits are 0-9, *, # and A-D`);
  // The demo's queues are never recorded (GET /api/v1/queues says "recording": "never"): no Start.
  const sales = await admin("GET", "/queues/sales");
  check(sales.recording === "never", `the sales queue's recording policy: ${JSON.stringify(sales)}`);
  await p.waitForSelector(`${controls} [data-testid=recording-policy] >> text=This queue is never recorded.`);
  check(!(await p.locator(`${controls} button:has-text('Start recording')`).count()), "no Start recording on a never queue");
  const held = await admin("GET", `/contacts/${call.id}`);
  check(held.on_hold === false && held.recording_state === "off", `nothing changed: ${JSON.stringify(held)}`);
  await supervisorMonitorsTheCall(sam, admin, call.id);
  await agentConsultsAnotherAgent(alice, admin, call.id);
  await agentTransfersToAnAgentOrANumber(alice, call.id);
  await agentDials(alice);

  step = "the agent ends the voice contact and wraps up";
  await p.click("[data-testid=active-contact] button:text-is('End')");
  await p.click("[data-testid=wrap-up] >> text=Finish wrap-up");
  await waitText(p, "[data-testid=handled-today]", "2");
  // The refused commands were answered 409, which the browser logs: expected, and only those.
  alice.errors.splice(before).filter((e) => !/status of (409|400)/.test(e)).forEach((e) => alice.errors.push(e));
}

/** Clicks `button` and returns the request matching `pred` and its answer's status and JSON. */
async function clickAndAnswer(p, button, pred) {
  const [response] = await Promise.all([p.waitForResponse((r) => pred(r.request())), p.click(button)]);
  return { request: response.request(), status: response.status(), body: await response.json() };
}

/**
 * The blind transfer to an agent (picked from the directory) or an external number. The server of
 * this test has no SIP: a server that takes these targets answers 409 (no voice channel), one
 * that does not yet refuses the body (400: queue missing, or agent/number unknown); either way
 * its message is shown.
 */
async function agentTransfersToAnAgentOrANumber(alice, contactId) {
  step = "the agent transfers the call to an agent picked from the directory";
  const p = alice.page;
  const controls = "[data-testid=active-contact] [data-testid=call-controls]";
  const form = `${controls} form[aria-label=Transfer]`;
  const isTransfer = (r) => r.url().endsWith(`/api/v1/contacts/${contactId}/transfer`) && r.method() === "POST";
  const refused = (a) =>
    (a.status === 409 && /no voice channel is attached/.test(a.body.error.message)) ||
    (a.status === 400 && /^(missing required field body\.queue|unknown field body\.(agent|number))/.test(a.body.error.message));
  const entry = (id, available) => ({ id, name: id.toUpperCase(), team: "north", presence: "available", available_for_voice: available });
  await p.route("**/api/v1/directory", (r) =>
    r.fulfill({
      status: 200,
      contentType: "application/json",
      body: JSON.stringify({ agents: [entry("carol", false), entry("bob", true), entry("alice", true)] }),
    }),
  );
  await p.selectOption(`${form} select[name=transfer-kind]`, "agent");
  await p.waitForSelector(`datalist#transfer-agents-${contactId} option[value=bob]`, { state: "attached" });
  const listed = await p.locator(`datalist#transfer-agents-${contactId} option`).evaluateAll((os) => os.map((o) => o.value));
  check(JSON.stringify(listed) === '["bob"]', `the transfer picker lists who a call reaches: ${listed}`);
  check((await p.inputValue(`${form} input[name=transfer-agent]`)) === "bob", "the first candidate is chosen");
  await p.unroute("**/api/v1/directory");
  const toAgent = await clickAndAnswer(p, `${form} button[type=submit]`, isTransfer);
  check(JSON.stringify(toAgent.request.postDataJSON()) === '{"agent":"bob"}', `transfer body: ${toAgent.request.postData()}`);
  check(refused(toAgent), `the server's answer to a transfer to bob: ${toAgent.status} ${JSON.stringify(toAgent.body)}`);
  await waitText(p, `${controls} [data-testid=call-error]`, toAgent.body.error.message);

  step = "the agent transfers the call to a number; a malformed number is refused in the browser";
  await p.selectOption(`${form} select[name=transfer-kind]`, "number");
  let sent = 0;
  const count = (r) => (sent += isTransfer(r) ? 1 : 0);
  p.on("request", count);
  await p.fill(`${form} input[name=transfer-number]`, "555-CALL");
  await p.click(`${form} button[type=submit]`);
  await waitText(p, `${controls} [data-testid=call-error]`, "A number is 3 to 20 digits with an optional leading +.");
  p.off("request", count);
  check(sent === 0, "a malformed number is not sent");
  await p.fill(`${form} input[name=transfer-number]`, "+1 555 123 4567");
  const toNumber = await clickAndAnswer(p, `${form} button[type=submit]`, isTransfer);
  check(JSON.stringify(toNumber.request.postDataJSON()) === '{"number":"+15551234567"}', `transfer body: ${toNumber.request.postData()}`);
  check(refused(toNumber), `the server's answer to a transfer to a number: ${toNumber.status} ${JSON.stringify(toNumber.body)}`);
  await waitText(p, `${controls} [data-testid=call-error]`, toNumber.body.error.message);
  await shot(alice, "agent-desktop-transfer.png");
  await p.selectOption(`${form} select[name=transfer-kind]`, "queue");
}

/**
 * Click-to-dial: a malformed number is refused in the browser; a good one, keyed on the dial pad,
 * reaches POST /api/v1/calls, whose answer (the agent is on a call: 409) appears beside the form.
 */
async function agentDials(alice) {
  step = "the agent dials a number from the desktop";
  const p = alice.page;
  const dialer = "[data-testid=dialer]";
  const isCall = (r) => r.url().endsWith("/api/v1/calls") && r.method() === "POST";
  let sent = 0;
  const count = (r) => (sent += isCall(r) ? 1 : 0);
  p.on("request", count);
  await p.fill(`${dialer} input[name=dial-number]`, "12ab");
  await p.click(`${dialer} button:text-is('Call')`);
  await waitText(p, `${dialer} [data-testid=dial-answer]`, "A number is 3 to 20 digits with an optional leading +.");
  p.off("request", count);
  check(sent === 0, "a malformed number is not dialled");
  await p.fill(`${dialer} input[name=dial-number]`, "");
  for (const k of "+15551234567") await p.click(`${dialer} button[aria-label='Dial ${k}']`);
  check((await p.inputValue(`${dialer} input[name=dial-number]`)) === "+15551234567", "the dial pad types the number");
  await p.selectOption(`${dialer} select[name=dial-queue]`, "support");
  const placed = await clickAndAnswer(p, `${dialer} button:text-is('Call')`, isCall);
  check(
    JSON.stringify(placed.request.postDataJSON()) === '{"number":"+15551234567","queue":"support"}',
    `dial body: ${placed.request.postData()}`,
  );
  check(
    placed.status === 409 && /^agent 'alice' is not Available with a free voice slot/.test(placed.body.error.message),
    `the server's answer to a call from an agent on a call: ${placed.status} ${JSON.stringify(placed.body)}`,
  );
  await waitText(p, `${dialer} [data-testid=dial-answer]`, placed.body.error.message);
  await shot(alice, "agent-desktop-dial.png");
}

/**
 * Consultation transfer and conference on the agent desktop. Without SIP the server refuses the
 * consultation (409, no voice channel), shown next to the buttons; the answers of a SIP server (a
 * consultation, a 409 before the consulted phone answered, a conference, a cancel, a consultation
 * of a queue waiting for a free member) are stubbed in the browser to check which buttons each
 * state offers and what the panel says (voice_e2e_test drives the real ones).
 */
async function agentConsultsAnotherAgent(alice, admin, contactId) {
  step = "the agent opens the consultation picker, filled from the directory";
  const p = alice.page;
  const controls = "[data-testid=active-contact] [data-testid=call-controls]";
  const group = `${controls} [data-testid=consult]`;
  // The directory gives an agent every colleague (GET /api/v1/agents gives a plain agent itself),
  // with names and availability only.
  const dir = await p.evaluate(() =>
    fetch("/api/v1/directory").then(async (r) => ({ status: r.status, body: await r.json() })),
  );
  check(
    dir.status === 200 && dir.body.agents.some((a) => a.id === "bob") && dir.body.agents.every((a) => !("skills" in a)),
    `the directory an agent reads: ${JSON.stringify(dir)}`,
  );
  // Who is Available varies along the run: the picker's list is checked on a directory answered here.
  const entry = (id, available) => ({ id, name: id.toUpperCase(), team: "north", presence: "available", available_for_voice: available });
  await p.route("**/api/v1/directory", (r) =>
    r.fulfill({
      status: 200,
      contentType: "application/json",
      body: JSON.stringify({ agents: [entry("carol", false), entry("bob", true), entry("alice", true)] }),
    }),
  );
  await p.click(`${group} button:text-is('Consult…')`);
  await p.waitForSelector(`datalist#consult-agents-${contactId} option[value=bob]`, { state: "attached" });
  const listed = await p.locator(`datalist#consult-agents-${contactId} option`).evaluateAll((os) => os.map((o) => o.value));
  check(JSON.stringify(listed) === '["bob"]', `the picker lists who a call reaches, not alice herself: ${listed}`);
  check((await p.inputValue(`${group} input[name=consult-agent]`)) === "bob", "the first candidate is chosen");
  await p.unroute("**/api/v1/directory");

  step = "the agent consults bob and sees the server's refusal";
  await p.fill(`${group} input[name=consult-agent]`, "bob");
  const [request] = await Promise.all([
    p.waitForRequest((r) => r.url().endsWith(`/api/v1/contacts/${contactId}/consult`) && r.method() === "POST"),
    p.click(`${group} button:text-is('Consult')`),
  ]);
  check(JSON.stringify(request.postDataJSON()) === '{"agent":"bob"}', `consult request body: ${request.postData()}`);
  await p.waitForSelector(
    `${controls} [data-testid=call-error] >> text=contact ${contactId} cannot consult another agent: no voice channel is attached`,
  );

  step = "the consultation buttons on stubbed SIP answers (consulting, 409, conference, cancel)";
  const contact = await admin("GET", `/contacts/${contactId}`);
  check(contact.consult === null, `no consultation runs: ${JSON.stringify(contact.consult)}`);
  const route = `**/api/v1/contacts/${contactId}/consult**`;
  await p.route(route, (r) => {
    const url = r.request().url();
    const json = (status, body) => r.fulfill({ status, contentType: "application/json", body: JSON.stringify(body) });
    if (url.endsWith("/consult")) return json(200, { ...contact, on_hold: true, consult: { target: "bob", conference: false } });
    if (url.endsWith("/consult/complete")) {
      return json(409, { error: { code: "conflict", message: "bob's phone has not answered the consultation yet" } });
    }
    if (url.endsWith("/consult/conference")) return json(200, { ...contact, consult: { target: "bob", conference: true } });
    return json(200, { ...contact, consult: null });
  });
  await p.click(`${group} button:text-is('Consult')`);
  await waitText(p, `${group} [data-testid=consult-state]`, "Consulting bob (customer on hold)");
  await waitText(p, `${controls} [data-testid=call-state]`, "On hold (consultation)");
  for (const b of ["Complete transfer", "Conference", "Cancel"]) {
    check(await p.locator(`${group} button:text-is('${b}')`).isEnabled(), `${b} is offered while consulting`);
  }
  check(!(await p.locator(`${group} button:text-is('Consult…')`).count()), "no second consultation while one runs");
  check(await p.locator(`${controls} button:text-is('Resume')`).isDisabled(), "no Resume while the customer holds for a consultation");
  check(await p.locator(`${controls} form[aria-label=Transfer] button[type=submit]`).isDisabled(), "no blind transfer while consulting");
  await shot(alice, "agent-desktop-consulting.png");
  await p.click(`${group} button:text-is('Complete transfer')`);
  await p.waitForSelector(`${controls} [data-testid=call-error] >> text=bob's phone has not answered the consultation yet`);
  await p.click(`${group} button:text-is('Conference')`);
  await waitText(p, `${group} [data-testid=consult-state]`, "Conference with bob");
  check(!(await p.locator(`${group} button:text-is('Conference')`).count()), "no Conference button in a conference");
  check(await p.locator(`${group} button:text-is('Complete transfer')`).isEnabled(), "Complete transfer stays in a conference");
  await p.click(`${group} button:text-is('Cancel')`);
  await p.waitForSelector(`${group} button:text-is('Consult…')`);
  check(!(await p.locator(`${group} [data-testid=consult-state]`).count()), "the consultation state is gone after Cancel");
  await p.unroute(route);

  step = "the agent consults a queue with nobody free (stubbed): the request names the queue alone";
  await p.route(route, (r) => {
    const json = (body) => r.fulfill({ status: 200, contentType: "application/json", body: JSON.stringify(body) });
    if (!r.request().url().endsWith("/consult")) return json({ ...contact, consult: null });
    return json({ ...contact, on_hold: true, consult: { target: "", queue: "support", state: "waiting", conference: false } });
  });
  await p.click(`${group} button:text-is('Consult…')`);
  await p.selectOption(`${group} select[name=consult-kind]`, "queue");
  const consultQueues = await p.locator(`${group} select[name=consult-queue] option`).allTextContents();
  check(["sales", "support", "billing"].every((q) => consultQueues.includes(q)), `the voice queues may be consulted: ${consultQueues}`);
  await p.selectOption(`${group} select[name=consult-queue]`, "support");
  const [queueRequest] = await Promise.all([
    p.waitForRequest((r) => r.url().endsWith(`/api/v1/contacts/${contactId}/consult`) && r.method() === "POST"),
    p.click(`${group} button:text-is('Consult')`),
  ]);
  check(JSON.stringify(queueRequest.postDataJSON()) === '{"queue":"support"}', `consult request body: ${queueRequest.postData()}`);
  await waitText(p, `${group} [data-testid=consult-state]`, "Waiting for an agent of support (customer on hold)");
  check(await p.locator(`${group} button:text-is('Cancel')`).isEnabled(), "a waiting consultation can be cancelled");
  await p.click(`${group} button:text-is('Cancel')`);
  await p.waitForSelector(`${group} button:text-is('Consult…')`);
  await p.unroute(route);
}

/** The supervisor's Staffing screen: a plan with its table and chart, a forecast, field errors. */
async function supervisorPlansStaffing(sam) {
  step = "the supervisor computes staffing";
  const p = sam.page;
  const before = sam.errors.length;
  await p.click("nav >> text=Staffing");
  const form = "form[aria-label='Staffing inputs']";
  await p.waitForSelector(form);
  const [request] = await Promise.all([
    p.waitForRequest((r) => r.url().endsWith("/api/v1/staffing") && r.method() === "POST"),
    p.click(`${form} button[type=submit]`),
  ]);
  const sent = request.postDataJSON();
  check(sent.calls === 360 && sent.target_sl === 0.8 && sent.shrinkage === 0.3, `staffing request: ${request.postData()}`);
  // 360 calls per half hour at 240 s, 80% in 20 s: 54 agents, 78 scheduled with 30% shrinkage.
  await p.waitForSelector("[data-testid=staffing-summary] >> text=54 agents");
  await p.waitForSelector("[data-testid=staffing-summary] >> text=78 scheduled");
  const agents = await p.locator("[data-testid=staffing-table] tbody th").allTextContents();
  check(agents.join(",") === "52,53,54,55,56", `N and its neighbours: ${agents}`);
  check((await p.locator("[data-testid=staffing-table] tr[aria-current=true] th").textContent()) === "54", "N is marked");
  await p.waitForSelector("[data-testid=staffing-chart] canvas");
  await shot(sam, "supervisor-staffing.png");

  step = "the supervisor plans a forecast";
  await p.selectOption(`${form} select[name=mode]`, "forecast");
  await p.click(`${form} button[type=submit]`);
  await p.waitForSelector("[data-testid=staffing-forecast] tbody tr >> nth=2");
  await waitText(p, "[data-testid=staffing-forecast] tbody tr:nth-child(2) td:nth-of-type(4)", "54");
  await p.waitForSelector("[data-testid=staffing-chart] canvas");
  await shot(sam, "supervisor-staffing-forecast.png");

  step = "staffing errors name the field";
  await p.selectOption(`${form} select[name=mode]`, "interval");
  await p.fill(`${form} input[name=calls]`, "many");
  await p.click(`${form} button[type=submit]`);
  await p.waitForSelector("[data-testid=staffing-error] >> text=Contacts in the interval: 'many' is not a number");
  await p.fill(`${form} input[name=calls]`, "360");
  await p.fill(`${form} input[name=target_sl_percent]`, "150");
  await p.click(`${form} button[type=submit]`);
  await p.waitForSelector("[data-testid=staffing-error] >> text=target_sl must be a fraction in (0, 1], got 1.5");
  await p.waitForSelector(`${form} input[name=target_sl_percent][aria-invalid=true]`);
  await shot(sam, "supervisor-staffing-error.png");

  step = "the supervisor runs a what-if simulation";
  const whatIf = "form[aria-label='What-if simulation']";
  const [simRequest, simResponse] = await Promise.all([
    p.waitForRequest((r) => r.url().endsWith("/api/v1/simulations") && r.method() === "POST"),
    p.waitForResponse((r) => r.url().endsWith("/api/v1/simulations")),
    p.click(`${whatIf} button[type=submit]`),
  ]);
  check(simRequest.postDataJSON().sweep === "groups.a.agents=6:12:1", `simulation request: ${simRequest.postData()}`);
  check(simResponse.status() === 200, `simulation answered ${simResponse.status()}`);
  // The example's sweep: one row per agent count from 6 to 12, and the curve.
  await p.waitForSelector("[data-testid=whatif-table] tbody tr >> nth=6");
  const values = await p.locator("[data-testid=whatif-table] tbody th").allTextContents();
  check(values.length === 7 && values[0] === "groups.a.agents = 6", `swept values: ${values}`);
  const sl = await p.locator("[data-testid=whatif-table] tbody tr td:nth-of-type(3)").allTextContents();
  check(parseFloat(sl[0]) < parseFloat(sl[6]), `more agents, better service level: ${sl}`);
  await p.waitForSelector("[data-testid=whatif-chart] canvas");
  await shot(sam, "supervisor-whatif.png");
  // A scenario that reads a file is refused with its position.
  await p.fill(`${whatIf} textarea[name=scenario]`, "include: /etc/passwd\n");
  await p.click(`${whatIf} button[type=submit]`);
  await p.waitForSelector("[data-testid=whatif-error] >> text=scenario.yaml:1:10: include is not allowed here");
  // The refused requests were answered 400, which the browser logs: expected, and only that.
  sam.errors.splice(before).filter((e) => !e.includes("status of 400")).forEach((e) => sam.errors.push(e));
}

/**
 * The supervisor's listen, whisper, barge and stop buttons on the live voice call in the agent
 * grid. Without SIP the server refuses with 409 (no voice channel), shown next to the buttons;
 * the answers a SIP server gives (422 without a registered phone, then a monitored contact) are
 * stubbed in the browser to check what the screen does with them (voice_e2e_test drives the real
 * ones with SIP phones).
 */
async function supervisorMonitorsTheCall(sam, admin, contactId) {
  step = "the supervisor's monitor buttons call the API and show its refusal";
  const p = sam.page;
  const before = sam.errors.length;
  await p.click("nav >> text=Agents");
  const group = `[data-testid=monitor-${contactId}]`;
  await waitText(p, `${group} [data-testid=monitor-state]`, "Not monitored");
  check(await p.locator(`${group} button:text-is('Stop')`).isDisabled(), "Stop is disabled while nobody monitors");
  const [request] = await Promise.all([
    p.waitForRequest((r) => r.url().endsWith(`/api/v1/contacts/${contactId}/monitor`) && r.method() === "POST"),
    p.click(`${group} button:text-is('Listen')`),
  ]);
  check(JSON.stringify(request.postDataJSON()) === '{"mode":"listen"}', `monitor request body: ${request.postData()}`);
  await p.waitForSelector(`${group} [data-testid=monitor-error] >> text=contact ${contactId} cannot be monitored: no voice channel is attached`);
  await shot(sam, "supervisor-monitor-refused.png");

  step = "the supervisor's monitor buttons on stubbed SIP answers (422, then monitoring)";
  const route = `**/api/v1/contacts/${contactId}/monitor`;
  await p.route(route, (r) =>
    r.fulfill({
      status: 422,
      contentType: "application/json",
      body: JSON.stringify({ error: { code: "invalid_argument", message: "user sam has no registered phone to monitor with" } }),
    }),
  );
  await p.click(`${group} button:text-is('Whisper')`);
  await p.waitForSelector(`${group} [data-testid=monitor-error] >> text=user sam has no registered phone to monitor with`);
  await p.unroute(route);
  const contact = await admin("GET", `/contacts/${contactId}`);
  check(contact.monitor === null, `nobody monitors the call: ${JSON.stringify(contact.monitor)}`);
  await p.route(route, (r) =>
    r.fulfill({
      status: 200,
      contentType: "application/json",
      body: JSON.stringify({ ...contact, monitor: r.request().method() === "DELETE" ? null : { supervisor: "sam", mode: "barge" } }),
    }),
  );
  await p.click(`${group} button:text-is('Barge')`);
  await waitText(p, `${group} [data-testid=monitor-state]`, "you barged in");
  check(await p.locator(`${group} button:text-is('Barge')`).isDisabled(), "the current mode is not offered again");
  check(!(await p.locator(`${group} [data-testid=monitor-error]`).count()), "no error after a monitoring answer");
  await shot(sam, "supervisor-monitor.png");
  await p.click(`${group} button:text-is('Stop')`);
  await waitText(p, `${group} [data-testid=monitor-state]`, "Not monitored");

  step = "after an event-stream reset the grid reads the call's monitoring again";
  // The grid's stream through a route that passes everything on and can add a message; the page
  // is loaded again (the route's hook takes effect in a new document), then the grid opened.
  let events;
  let opened;
  const routed = new Promise((resolve) => (opened = resolve));
  await p.routeWebSocket(/\/api\/v1\/events/, (ws) => {
    ws.connectToServer();
    events = ws;
    opened();
  });
  await p.reload();
  await p.click("nav >> text=Agents");
  await Promise.race([
    routed,
    new Promise((_, reject) => setTimeout(() => reject(new Error(`the event stream did not open in ${timeout} ms`)), timeout)),
  ]);
  await waitText(p, `${group} [data-testid=monitor-state]`, "Not monitored");
  // A (stubbed) monitoring whose monitor.ended the reset made the grid miss: the server's contact
  // says nobody monitors the call, and the grid must show that after the reset.
  await p.click(`${group} button:text-is('Barge')`);
  await waitText(p, `${group} [data-testid=monitor-state]`, "you barged in");
  const [reread] = await Promise.all([
    p.waitForRequest((r) => r.url().endsWith(`/api/v1/contacts/${contactId}`) && r.method() === "GET"),
    events.send(JSON.stringify({ type: "reset", schema: 1, seq: 0, after: 0, reason: "e2e: events lost" })),
  ]);
  check(Boolean(reread), "the contact is read again after the reset");
  await waitText(p, `${group} [data-testid=monitor-state]`, "Not monitored");
  await p.unroute(route);
  await p.click("nav >> text=Wallboard");
  // The refusals (409, the stubbed 422) are logged by the browser: expected, and only those.
  sam.errors.splice(before).filter((e) => !/status of (409|422)/.test(e)).forEach((e) => sam.errors.push(e));
}

/** The administrator edits a queue, sees a server message next to a field, and a bad YAML edit. */
async function adminEditsAQueue(adm, base, admin) {
  step = "an administrator edits a queue";
  const p = adm.page;
  await p.click("nav >> text=Admin");
  await p.click("[data-testid=edit-queue-sales]");
  const editor = "[data-testid=queue-editor]";
  await p.waitForSelector(`${editor} >> text=Queue sales`);
  await p.fill(`${editor} input[name=sl_target_percent]`, "90");
  await p.fill(`${editor} input[name=wrap_up]`, "45");
  await shot(adm, "admin-queue-editor.png");
  await p.click(`${editor} button[type=submit]`);
  await p.waitForSelector("[data-testid=queue-status]:has-text('Saved as configuration version 2')");
  const settings = await admin("GET", "/config/queues/sales");
  check(settings.wrap_up === 45 && settings.service_level.target === 0.9, `saved settings: ${JSON.stringify(settings)}`);
  // The running engine took the new version: the live queue carries the new target.
  await waitUntil(async () => (await admin("GET", "/queues/sales")).sl_target === 0.9, "the engine to run version 2");
  await p.click("nav >> text=Wallboard");
  await p.waitForSelector("[data-testid=queue-sales] >> text=SL (90% in 20s)");
  await shot(adm, "admin-wallboard-after-edit.png");

  step = "the server's message appears next to the field";
  const errorsBefore = adm.errors.length;
  await p.click("nav >> text=Admin");
  await p.click("[data-testid=edit-queue-sales]");
  await p.waitForSelector(`${editor} >> text=configuration version 2`);
  await p.fill(`${editor} input[name=sl_target_percent]`, "150");
  await p.click(`${editor} button[type=submit]`);
  const problem = await p.waitForSelector("[data-testid=problem-service_level]");
  check((await problem.textContent()).includes("target"), `service-level problem: ${await problem.textContent()}`);
  await shot(adm, "admin-queue-editor-error.png");
  check((await admin("GET", "/config")).version === 2, "a refused edit changes nothing");

  step = "a bad YAML edit shows a line-numbered error";
  await p.click("[data-testid=admin-tab-config]");
  const area = p.locator("textarea[name=yaml]");
  await p.waitForFunction(() => document.querySelector("textarea[name=yaml]")?.value.includes("queues"));
  const text = await area.inputValue();
  const kept = text.replace(/\n*$/, "\n");
  const badLine = kept.split("\n").length;  // the line after the last one kept
  await area.fill(`${kept}bogus_section: 1\n`);
  await p.click("button:has-text('Preview changes')");
  const problems = await p.waitForSelector("[data-testid=config-problems] li");
  const first = (await problems.textContent()).trim();
  check(first.startsWith(`${badLine}:1: `) && first.includes("bogus_section"), `line-numbered problem: ${first}`);
  await p.waitForSelector(`.gutter .bad-line[data-line="${badLine}"]`);
  await shot(adm, "admin-config-error.png");
  check((await admin("GET", "/config")).version === 2, "a refused document changes nothing");

  step = "a good YAML edit is previewed as a diff before it is applied";
  await area.fill(`${text.replace(/\n*$/, "\n")}voice: {realm: e2e}\n`);
  await p.click("button:has-text('Preview changes')");
  await p.waitForSelector("[data-testid=config-preview] >> text=+ voice");
  await shot(adm, "admin-config-preview.png");
  check((await admin("GET", "/config")).version === 2, "a preview changes nothing");

  step = "the users screen";
  await p.click("[data-testid=admin-tab-users]");
  await p.waitForSelector("[data-testid=user-table] tr[data-user=admin]");
  await shot(adm, "admin-users.png");

  step = "an administrator changes a user's roles and agent link";
  await p.fill("input[name=new-login]", "nina");
  await p.selectOption("select[name=new-role]", "agent");
  await p.click("form[aria-label='New user'] button[type=submit]");
  await p.waitForSelector("[data-testid=new-password] >> text=nina");
  await p.click("[data-testid=user-table] tr[data-user=nina] button:text-is('Edit')");
  const userEditor = "[data-testid=user-editor]";
  await p.check(`${userEditor} input[name=role-team_lead]`);
  await p.fill(`${userEditor} input[name=edit-team]`, "north");
  await p.fill(`${userEditor} input[name=edit-agent]`, "dave");
  await shot(adm, "admin-user-editor.png");
  await p.click(`${userEditor} button[type=submit]`);
  await waitText(p, "[data-testid=user-table] tr[data-user=nina] td:nth-of-type(3)", "agent, team_lead");
  await waitText(p, "[data-testid=user-table] tr[data-user=nina] td:nth-of-type(5)", "dave");
  const nina = (await admin("GET", "/users")).users.find((u) => u.login === "nina");
  check(nina.roles.join(",") === "agent,team_lead" && nina.team === "north" && nina.agent === "dave", `nina through the API: ${JSON.stringify(nina)}`);

  step = "an administrator gives nina's phone a SIP password";
  await waitText(p, "[data-testid=user-table] tr[data-user=nina] td:nth-of-type(7)", "not set");
  await p.click("[data-testid=user-table] tr[data-user=nina] button:text-is('New SIP password')");
  await p.waitForSelector("[data-testid=new-password] >> text=SIP password of nina");
  await waitText(p, "[data-testid=user-table] tr[data-user=nina] td:nth-of-type(7)", "set");
  const sipSecret = (await p.textContent("[data-testid=new-password] code")).trim();
  const ninaAfter = (await admin("GET", "/users")).users.find((u) => u.login === "nina");
  check(sipSecret.length >= 12 && ninaAfter.has_sip_credentials === true, `nina's SIP password: ${JSON.stringify(ninaAfter)}`);
  // A user the configuration declares is changed there: the server's 409 is shown.
  await p.click("[data-testid=user-table] tr[data-user=bob] button:text-is('Edit')");
  await p.check(`${userEditor} input[name=role-qa_analyst]`);
  await p.click(`${userEditor} button[type=submit]`);
  await p.waitForSelector("[data-testid=users-error] >> text=configuration");
  await waitText(p, "[data-testid=user-table] tr[data-user=bob] td:nth-of-type(3)", "agent");
  // The refused edits above were answered 422 (409 for the declared user), which the browser
  // logs: expected, and only those.
  adm.errors.splice(errorsBefore).filter((e) => !/status of (409|422)/.test(e)).forEach((e) => adm.errors.push(e));
}

/**
 * The structured editors: the administrator adds an agent with a skill and a Not Ready reason
 * through the forms (the browser edits the configuration document and applies it), the API and
 * the running engine show them; the browser's own checks, the server's refusal with its line, a
 * concurrent change (409), opening hours and retention; the supervisor sees the editors read-only.
 */
async function adminEditsConfigurationItems(adm, sam, admin) {
  step = "the administrator adds an agent with a skill";
  const p = adm.page;
  const errorsBefore = adm.errors.length;
  await p.click("[data-testid=admin-tab-agents]");
  await p.waitForSelector("[data-testid=table-agents] tr[data-item=alice]");
  await shot(adm, "admin-agents.png");
  await p.click("[data-testid=add-agents]");
  const form = "[data-testid=form-agents]";
  await p.fill(`${form} input[name=id]`, "zoe");
  await p.fill(`${form} input[name=name]`, "Zoé Blanc");
  await p.selectOption(`${form} select[name=team]`, "north");
  await p.click(`${form} button:text-is('Add a skill')`);
  await p.selectOption(`${form} select[name=skill-0]`, "sales");
  await p.fill(`${form} input[name=level-0]`, "7");
  await p.click(`${form} button:text-is('Add a queue')`);
  await p.selectOption(`${form} select[name=queue-0]`, "sales");
  // An obvious mistake is refused in the browser, next to its field, before asking the server.
  const versionBefore = (await admin("GET", "/config")).version;
  await p.click(`${form} button:text-is('Save')`);
  await p.waitForSelector(`${form} [data-testid=error-skills] >> text=the proficiency in sales is a whole number from 1 to 5`);
  await p.fill(`${form} input[name=level-0]`, "4");
  await p.click(`${form} button:text-is('Check')`);
  // The server's dry run names the new agent (by its display name) and nothing else.
  await p.waitForSelector("[data-testid=agents-check] >> text=Saving makes 1 change(s)");
  await p.waitForSelector("[data-testid=agents-check] >> text=+ agents zoe");
  await shot(adm, "admin-agent-editor.png");
  check((await admin("GET", "/config")).version === versionBefore, "a check changes nothing");
  await p.click(`${form} button:text-is('Save')`);
  await p.waitForSelector("[data-testid=agents-status] >> text=Agent zoe saved as configuration version");
  await p.waitForSelector("[data-testid=table-agents] tr[data-item=zoe] >> text=sales 4");
  const doc = await admin("GET", "/config");
  check(doc.version === versionBefore + 1, `one new version: ${doc.version}`);
  check(/- id: zoe\n\s+name: Zoé Blanc\n\s+team: north\n\s+skills: \{sales: 4\}\n\s+queues: \[sales\]\n/.test(doc.yaml),
    `the document has the agent: ${doc.yaml.slice(doc.yaml.indexOf("zoe") - 10, doc.yaml.indexOf("zoe") + 120)}`);
  // The running engine has the new agent.
  const zoe = await waitUntil(async () => (await admin("GET", "/agents")).agents.find((a) => a.id === "zoe"), "the engine to list zoe");
  check(zoe.team === "north" && JSON.stringify(zoe.skills).includes("sales"), `zoe through the API: ${JSON.stringify(zoe)}`);

  step = "an id that exists is refused, and the server's refusal shows its line";
  await p.click("[data-testid=add-agents]");
  await p.fill(`${form} input[name=id]`, "alice");
  await p.click(`${form} button:text-is('Save')`);
  await p.waitForSelector(`${form} [data-testid=error-id] >> text=another agent is already called alice`);
  await p.click(`${form} button:text-is('Cancel')`);
  await p.click("[data-testid=admin-tab-teams]");
  await p.click("[data-testid=table-teams] tr[data-item=south] button:text-is('Edit')");
  await p.click("[data-testid=form-teams] button:text-is('Remove')");
  await p.click("[data-testid=form-teams] button:text-is('Confirm removal of south')");
  // Agents and a queue name team south: the server refuses, each problem with its line.
  const problem = await p.waitForSelector("[data-testid=teams-problems] li");
  const problemText = (await problem.textContent()).trim();
  check(/^line \d+: .*south/.test(problemText), `the server's problem with its line: ${problemText}`);
  await shot(adm, "admin-teams-refused.png");
  check((await admin("GET", "/config")).version === versionBefore + 1, "a refused removal changes nothing");
  await p.click("[data-testid=form-teams] button:text-is('Cancel')");

  step = "the administrator adds a Not Ready reason";
  await p.click("[data-testid=admin-tab-codes]");
  await p.waitForSelector("[data-testid=table-reason-codes] tr[data-item=lunch]");
  await p.click("[data-testid=add-reason-codes]");
  const codeForm = "[data-testid=form-reason-codes]";
  await p.fill(`${codeForm} input[name=id]`, "Coffee");
  await p.click(`${codeForm} button:text-is('Save')`);
  await p.waitForSelector(`${codeForm} [data-testid=error-id] >> text=starting with a letter or digit`);
  await p.fill(`${codeForm} input[name=id]`, "coffee");
  await p.fill(`${codeForm} input[name=text]`, "Coffee break");
  // Meanwhile another administrator changes the configuration: the save is refused (409), the
  // document is read again, and saving again applies the reason on top of that change.
  await admin("PUT", "/config/queues/sales", { version: versionBefore + 1, wrap_up: 50 });
  await p.click(`${codeForm} button:text-is('Save')`);
  await p.waitForSelector("[data-testid=reason-codes-error] >> text=Someone else changed the configuration");
  await p.waitForSelector(`[data-testid=items-reason-codes] >> text=configuration version ${versionBefore + 2}`);
  await p.click(`${codeForm} button:text-is('Save')`);
  await p.waitForSelector("[data-testid=reason-codes-status] >> text=Reason code coffee saved");
  await p.waitForSelector("[data-testid=table-reason-codes] tr[data-item=coffee] >> text=Coffee break");
  await shot(adm, "admin-codes.png");
  const reasons = (await admin("GET", "/me")).reason_codes;
  check(reasons.some((r) => r.code === "coffee" && r.label === "Coffee break"), `reasons through /me: ${JSON.stringify(reasons)}`);
  const afterCodes = parseYaml((await admin("GET", "/config")).yaml);
  check(afterCodes.reason_codes.some((r) => r.code === "coffee" && r.label === "Coffee break") &&
    (await admin("GET", "/config/queues/sales")).wrap_up === 50,
    "the reason and the other administrator's change are both in the document");
  // Removing a disposition asks once more, then applies.
  await p.click("[data-testid=table-disposition-codes] tr[data-item=wrong-number] button:text-is('Edit')");
  await p.click("[data-testid=form-disposition-codes] button:text-is('Remove')");
  await p.click("[data-testid=form-disposition-codes] button:text-is('Confirm removal of wrong-number')");
  await p.waitForSelector("[data-testid=disposition-codes-status] >> text=- disposition_codes wrong-number");
  check(!(await p.locator("[data-testid=table-disposition-codes] tr[data-item=wrong-number]").count()), "the removed disposition is not listed");
  const dispositions = (await admin("GET", "/me")).disposition_codes.map((d) => d.code);
  check(dispositions.join(",") === "resolved,sale,no-sale,follow-up", `dispositions through /me: ${dispositions}`);

  step = "the administrator edits opening hours and a holiday";
  await p.click("[data-testid=admin-tab-hours]");
  await p.click("[data-testid=table-schedules] tr[data-item=office] button:text-is('Edit')");
  const hoursForm = "[data-testid=form-schedules]";
  await p.fill(`${hoursForm} input[name='week.tue']`, "9-5");
  await p.click(`${hoursForm} button:text-is('Save')`);
  await p.waitForSelector(`${hoursForm} [data-testid='error-week.tue'] >> text=is not a range such as 08:00-12:00`);
  await p.fill(`${hoursForm} input[name='week.tue']`, "08:00-19:00");
  await p.fill(`${hoursForm} input[name='week.sat']`, "closed");
  await p.click(`${hoursForm} button:text-is('Add a date')`);
  await p.fill(`${hoursForm} input[name=exception-date-2]`, "2026-01-01");
  await p.fill(`${hoursForm} input[name=exception-name-2]`, "New Year");
  await shot(adm, "admin-hours.png");
  await p.click(`${hoursForm} button:text-is('Save')`);
  await p.waitForSelector("[data-testid=schedules-status] >> text=Schedule office saved");
  const office = parseYaml((await admin("GET", "/config")).yaml).schedules.find((x) => x.name === "office");
  check(office.weekly["sat-sun"] === "closed" && office.weekly["mon-fri"] === "08:00-19:00" &&
    office.exceptions.some((x) => x.date === "2026-01-01" && x.name === "New Year" && x.hours === undefined),
    `hours in the document: ${JSON.stringify(office)}`);

  step = "the administrator edits a flow: the server's message points into the flow's own lines";
  await p.click("[data-testid=admin-tab-flows]");
  await p.click("[data-testid=table-flows] tr[data-item=voicemail] button:text-is('Edit')");
  const flowArea = p.locator("[data-testid=form-flows] textarea[name=flow]");
  check((await flowArea.inputValue()).startsWith("name: voicemail\n"), `the flow's text: ${await flowArea.inputValue()}`);
  await flowArea.fill("name: voicemail\nsteps:\n  - id: record\n    type: voicemial\n    mailbox: support\n    max_length: 3m\n");
  await p.click("[data-testid=form-flows] button:text-is('Check')");
  const flowProblem = (await (await p.waitForSelector("[data-testid=flows-problems] li")).textContent()).trim();
  check(flowProblem.startsWith("line 4: ") && flowProblem.includes("voicemial"), `the flow's problem on its own line: ${flowProblem}`);
  await p.waitForSelector("[data-testid=form-flows] .gutter .bad-line[data-line='4']");
  await shot(adm, "admin-flows-error.png");
  await flowArea.fill("name: voicemail\nsteps:\n  - id: record\n    type: voicemail\n    mailbox: support\n    max_length: 3m\n");
  await p.click("[data-testid=form-flows] button:text-is('Save')");
  await p.waitForSelector("[data-testid=flows-status] >> text=Flow voicemail saved");
  const voicemail = parseYaml((await admin("GET", "/config")).yaml).flows.find((f) => f.name === "voicemail");
  check(voicemail.steps[0].max_length === "3m" && voicemail.steps[0].type === "voicemail", `the flow through the API: ${JSON.stringify(voicemail)}`);

  step = "the administrator edits a flow step in its form; the server's message shows at the step";
  await p.click("[data-testid=table-flows] tr[data-item=main] button:text-is('Edit')");
  // A comment typed in the text stays through the form's edits.
  const flowText = p.locator("[data-testid=form-flows] textarea[name=flow]");
  await flowText.fill((await flowText.inputValue()).replace(/\n(\s+)- id: sales\n/, "\n$1# Sales callers wait here.\n$1- id: sales\n"));
  await p.click("[data-testid=flow-steps] button[data-step=sales]");
  const stepForm = "[data-testid=step-form]";
  check((await p.inputValue(`${stepForm} input[name=queue]`)) === "sales", "the queue step's form shows its queue");
  check((await p.inputValue(`${stepForm} input[name=max_wait]`)) === "10m", "the queue step's form shows its max wait");
  check((await p.inputValue(`${stepForm} select[name='exit.timeout']`)) === "offer", "the queue step's form shows its exits");
  await p.fill(`${stepForm} input[name=max_wait]`, "soon");
  await p.waitForSelector(`${stepForm} [data-testid=error-max_wait] >> text=seconds or a duration such as 30s, 2m`);
  await p.fill(`${stepForm} input[name=max_wait]`, "15m");
  await p.fill(`${stepForm} input[name=queue]`, "salez");
  const mainText = await p.locator("[data-testid=form-flows] textarea[name=flow]").inputValue();
  check(/queue: salez\n\s+music: \{recording: hold-music.wav\}\n\s+announce_every: 60s/.test(mainText) && mainText.includes("max_wait: 15m"),
    `the form writes into the flow's text, the rest kept: ${mainText}`);
  await p.click("[data-testid=form-flows] button:text-is('Check')");
  const stepProblem = (await (await p.waitForSelector(`${stepForm} [data-testid=step-problems] li`)).textContent()).trim();
  check(stepProblem.includes("salez"), `the server's message at the step: ${stepProblem}`);
  await p.waitForSelector("[data-testid=flow-steps] button[data-step=sales] >> text=(1 problem)");
  await shot(adm, "admin-flow-step-form.png");
  await p.fill(`${stepForm} input[name=queue]`, "sales");
  await p.selectOption(`${stepForm} select[name='exit.timeout']`, "bye");
  await p.click("[data-testid=form-flows] button:text-is('Save')");
  await p.waitForSelector("[data-testid=flows-status] >> text=Flow main saved");
  const mainDoc = (await admin("GET", "/config")).yaml;
  const main = parseYaml(mainDoc).flows.find((f) => f.name === "main");
  const sales = main.steps.find((x) => x.id === "sales");
  check(sales.queue === "sales" && sales.max_wait === "15m" && sales.exits.timeout === "bye" && sales.exits.callback === "offer" &&
    sales.announce_every === "60s" && main.steps.length === 9, `the step through the API: ${JSON.stringify(sales)}`);
  check(/# Sales callers wait here\.\n\s+- id: sales\n/.test(mainDoc), `the comment typed in the flow's text is kept: ${mainDoc}`);

  step = "the administrator sets retention and sees the webhooks";
  await p.click("[data-testid=admin-tab-webhooks]");
  await p.fill("[data-testid=retention] input[name=recordings]", "30d");
  await p.click("[data-testid=retention] button:text-is('Save')");
  await p.waitForSelector("[data-testid=retention-status] >> text=+ retention recordings");
  const retention = parseYaml((await admin("GET", "/config")).yaml).retention;
  check(retention.recordings === "30d" && retention.contacts === "400d", `retention in the document: ${JSON.stringify(retention)}`);
  await p.click("[data-testid=add-webhooks]");
  await p.fill("[data-testid=form-webhooks] input[name=name]", "crm");
  await p.fill("[data-testid=form-webhooks] input[name=url]", "https://crm.example/hook");
  await p.fill("[data-testid=form-webhooks] input[name=events]", "contact.queued, wrap_up.ended");
  await p.click("[data-testid=form-webhooks] button:text-is('Check')");
  await p.waitForSelector("[data-testid=webhooks-check] >> text=+ webhooks crm");
  await shot(adm, "admin-webhooks.png");
  await p.click("[data-testid=form-webhooks] button:text-is('Cancel')");
  step = "the administrator renames a skill, and the agents that have it follow";
  await p.click("[data-testid=admin-tab-teams]");
  await p.click("[data-testid=table-skills] tr[data-item=french] button:text-is('Edit')");
  await p.fill("[data-testid=form-skills] input[name=id]", "francais");
  await p.fill("[data-testid=form-skills] input[name=text]", "Speaks French");
  await shot(adm, "admin-teams.png");
  await p.click("[data-testid=form-skills] button:text-is('Save')");
  await p.waitForSelector("[data-testid=skills-status] >> text=6 reference(s) to french renamed");
  const alice = await waitUntil(async () => {
    const a = await admin("GET", "/agents/alice");
    return JSON.stringify(a.skills).includes("francais") ? a : null;
  }, "the engine to run the renamed skill");
  check(!JSON.stringify(alice.skills).includes("french"), `alice's skills: ${JSON.stringify(alice.skills)}`);

  step = "the administrator adds a configured user linked to an agent";
  await p.click("[data-testid=admin-tab-config-users]");
  await p.waitForSelector("[data-testid=table-users] tr[data-item=alice] >> text=agent, team_lead");
  await p.click("[data-testid=add-users]");
  const userForm = "[data-testid=form-users]";
  await p.fill(`${userForm} input[name=login]`, "zoe");
  await p.fill(`${userForm} input[name=name]`, "Zoé Blanc");
  // The agent role needs the agent the user works as: refused in the browser.
  await p.click(`${userForm} button:text-is('Save')`);
  await p.waitForSelector(`${userForm} [data-testid=error-agent] >> text=a user with the agent role works as an agent`);
  // alice is already linked to the user alice: the server refuses it, on its line.
  const usersVersion = (await admin("GET", "/config")).version;
  await p.selectOption(`${userForm} select[name=agent]`, "alice");
  await p.click(`${userForm} button:text-is('Save')`);
  const userProblem = (await (await p.waitForSelector("[data-testid=users-problems] li")).textContent()).trim();
  check(/^line \d+: .*agent 'alice' is already linked to user 'alice'/.test(userProblem), `the server's problem: ${userProblem}`);
  check((await admin("GET", "/config")).version === usersVersion, "a refused user changes nothing");
  await p.selectOption(`${userForm} select[name=agent]`, "zoe");
  await p.check(`${userForm} input[name=role-team_lead]`);
  await p.selectOption(`${userForm} select[name=team]`, "north");
  await shot(adm, "admin-configured-users.png");
  await p.click(`${userForm} button:text-is('Save')`);
  await p.waitForSelector("[data-testid=users-status] >> text=User zoe saved as configuration version");
  await p.waitForSelector("[data-testid=table-users] tr[data-item=zoe] >> text=agent, team_lead");
  const zoeUser = parseYaml((await admin("GET", "/config")).yaml).users.find((u) => u.login === "zoe");
  check(JSON.stringify(zoeUser) === '{"login":"zoe","name":"Zoé Blanc","roles":["agent","team_lead"],"team":"north","agent":"zoe"}',
    `the configured user in the document: ${JSON.stringify(zoeUser)}`);
  // The server creates the account of a configured user (without a password) when it loads it.
  const account = await waitUntil(async () => (await admin("GET", "/users")).users.find((u) => u.login === "zoe"), "the account of zoe");
  check(account.agent === "zoe" && account.roles.includes("team_lead"), `the account: ${JSON.stringify(account)}`);
  // The refusals above (409, 422) were logged by the browser: expected, and only those.
  adm.errors.splice(errorsBefore).filter((e) => !/status of (409|422)/.test(e)).forEach((e) => adm.errors.push(e));

  step = "the supervisor sees the configuration read-only";
  await sam.page.click("nav >> text=Admin");
  await sam.page.waitForSelector("[data-testid=table-agents] tr[data-item=zoe]");
  check(!(await sam.page.locator("[data-testid=admin-tab-config]").count()), "no configuration document tab for a reader");
  check(!(await sam.page.locator("[data-testid=add-agents]").count()), "no Add for a reader");
  await sam.page.click("[data-testid=table-agents] tr[data-item=zoe] button:text-is('Show')");
  check(await sam.page.locator("[data-testid=form-agents] input[name=id]").isDisabled(), "the form is read-only");
  check(!(await sam.page.locator("[data-testid=form-agents] button:text-is('Save')").count()), "no Save for a reader");
  await shot(sam, "supervisor-admin-read-only.png");
  await sam.page.click("[data-testid=admin-tab-config-users]");
  await sam.page.waitForSelector("[data-testid=table-users] tr[data-item=zoe]");
  check(!(await sam.page.locator("[data-testid=add-users]").count()), "no Add user for a reader");
  await sam.page.click("[data-testid=admin-tab-flows]");
  await sam.page.click("[data-testid=table-flows] tr[data-item=main] button:text-is('Show')");
  await sam.page.click("[data-testid=flow-steps] button[data-step=sales]");
  check(await sam.page.locator("[data-testid=step-form] input[name=queue]").isDisabled(), "the step form is read-only for a reader");
  await sam.page.click("nav >> text=Wallboard");
}

let failed = false;
try {
  await main();
  log("all checks passed");
} catch (e) {
  failed = true;
  console.error(`[web-e2e] FAILED at "${step}": ${e?.stack ?? e}`);
} finally {
  for (const c of cleanups.reverse()) await c().catch((e) => console.error(`[web-e2e] cleanup: ${e}`));
}
console.log(failed ? "0 passed, 1 failed" : "1 passed, 0 failed");
process.exitCode = failed ? 1 : 0;
