// The web view in a real browser: Debian's Chromium, driven by playwright-core, against a real
// `serve` on loopback (and a proxy in front of it that flips a byte of every inclusion proof).
// Called by tests/web.rs with one JSON argument: the addresses, the screenshot folder and what
// the command line answered for the same questions. Prints one line per check; exits 1 with
// every failure listed if any check fails.
import { chromium } from "playwright-core";
import { mkdtempSync, readFileSync, rmSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const input = JSON.parse(process.argv[2]);
const axeSource = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
const failures = [];
const check = (ok, what) => {
  console.log(`${ok ? "ok  " : "FAIL"} ${what}`);
  if (!ok) failures.push(what);
};

mkdirSync(input.screenshots, { recursive: true });
const profile = mkdtempSync(join(tmpdir(), "sanctions-ledger-chromium-"));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: input.chromium,
  headless: true,
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
  ],
  viewport: { width: 1280, height: 900 },
});

// Nothing is fetched from anywhere but the server (and the proxy in front of it).
const allowed = [new URL(input.base).host, new URL(input.tampered).host];
const outside = [];
await context.route("**/*", (route) => {
  const url = new URL(route.request().url());
  if (allowed.includes(url.host)) return route.continue();
  outside.push(url.href);
  return route.abort();
});
const problems = [];
const page = context.pages()[0] ?? (await context.newPage());
page.on("console", (message) => {
  if (message.type() === "error") problems.push(`console: ${message.text()}`);
});
page.on("pageerror", (error) => problems.push(`script error: ${error.message}`));

async function shot(name) {
  const path = join(input.screenshots, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  console.log(`     screenshot ${path}`);
}

async function accessible(name) {
  await page.evaluate(axeSource + "\n;0");
  const result = await page.evaluate(async () => {
    const found = await window.axe.run(document, { resultTypes: ["violations"] });
    return found.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.slice(0, 3).map((n) => n.target.join(" ")),
    }));
  });
  const serious = result.filter((v) => v.impact === "serious" || v.impact === "critical");
  for (const v of result) console.log(`     axe ${name}: ${v.impact} ${v.id}: ${v.help} (${v.nodes.join(", ")})`);
  check(serious.length === 0, `${name}: axe-core finds no serious or critical violation (${serious.map((v) => v.id).join(", ") || "none"})`);
}

async function open(path) {
  const response = await page.goto(input.base + path, { waitUntil: "load" });
  check(response.status() === 200, `GET ${path} answers 200 (got ${response.status()})`);
}

async function counts() {
  return page.evaluate(() => {
    const total = Number(document.getElementById("total")?.dataset.count ?? -1);
    const per = {};
    document.querySelectorAll("#counts .count").forEach((cell) => {
      per[cell.dataset.authority] = Number(cell.textContent);
    });
    const rows = document.querySelectorAll("#listings tbody tr").length;
    return { total, per, rows };
  });
}

const same = (a, b) => JSON.stringify(Object.entries(a).sort()) === JSON.stringify(Object.entries(b).sort());

try {
  // Overview.
  await open("/");
  const records = await page.textContent("#records");
  check(Number(records) === input.records, `overview: ${records} records shown, the CLI's head is ${input.records}`);
  await page.waitForSelector("#verified", { timeout: 20000 }).catch(() => null);
  if (!(await page.$("#verified"))) await page.reload();
  const verified = await page.getAttribute("#verified", "data-state").catch(() => null);
  check(verified === "intact", `overview: the server's own check says intact (${verified})`);
  await shot("overview");
  await accessible("overview");

  // Keyboard: the first Tab reaches the skip link.
  await page.keyboard.press("Tab");
  const focused = await page.evaluate(() => document.activeElement?.className);
  check(focused === "skip", `keyboard: the first Tab focuses the skip link (${focused})`);

  // State as of 2021-03-22.
  await open(`/state?as_of=${input.state.as_of}`);
  let shown = await counts();
  check(shown.total === input.state.total, `state ${input.state.as_of}: ${shown.total} listings shown, the CLI gives ${input.state.total}`);
  check(same(shown.per, input.state.per_authority), `state ${input.state.as_of}: counts per authority ${JSON.stringify(shown.per)} are the CLI's ${JSON.stringify(input.state.per_authority)}`);
  check(shown.rows === input.state.total, `state ${input.state.as_of}: the table has a row per listing (${shown.rows})`);
  const bars = await page.$$eval("#counts-chart g.bar", (gs) => gs.map((g) => [g.dataset.label, Number(g.dataset.count)]));
  check(same(Object.fromEntries(bars), input.state.per_authority), `state: the chart draws a bar per authority with its count`);
  await shot("state-2021-03-22");
  await accessible("state");

  // Changing the date picker asks again.
  await Promise.all([
    page.waitForURL((url) => url.searchParams.get("as_of") === input.other.as_of),
    page.fill("#question-as_of", input.other.as_of),
  ]);
  await page.waitForLoadState("load");
  shown = await counts();
  check(shown.total === input.other.total, `state picker -> ${input.other.as_of}: ${shown.total} listings, the CLI gives ${input.other.total}`);
  check(shown.total !== input.state.total, `state picker: the count changed (${input.state.total} -> ${shown.total})`);
  const url = new URL(page.url());
  check([...url.searchParams.keys()].every((key) => url.searchParams.get(key) !== ""), `state picker: the URL carries only the question (${url.search})`);
  await shot("state-after-picker");

  // Known at: the state as the ledger knew it before the day's records.
  await open(`/state?as_of=${input.state.as_of}&known_at=${input.known.known_at}`);
  shown = await counts();
  check(shown.total === input.known.total, `state known at ${input.known.known_at}: ${shown.total} listings, the CLI gives ${input.known.total}`);

  // Phone width: the state page, readable without horizontal scrolling of the page.
  await page.setViewportSize({ width: 390, height: 844 });
  for (const path of ["/", `/state?as_of=${input.state.as_of}`, `/subject/${input.subject.id}`, "/graph", `/event/${input.event}`, `/diff?from=${input.diff.from}&to=${input.diff.to}`]) {
    await open(path);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    check(overflow <= 1, `phone: ${path} is no wider than the screen (${overflow}px over; wide tables and the graph scroll in their own box)`);
  }
  await open(`/state?as_of=${input.state.as_of}`);
  await shot("state-phone");
  await page.setViewportSize({ width: 1280, height: 900 });

  // Subject.
  await open(`/subject/${input.subject.id}?today=${input.subject.today}`);
  const listings = await page.$$eval("#timeline g.listing", (gs) => gs.map((g) => g.querySelectorAll("rect.period").length));
  check(listings.length === input.subject.listings, `subject ${input.subject.id}: ${listings.length} listing rows drawn, its history has ${input.subject.listings}`);
  check(listings.every((n) => n >= 1), `subject: every listing row has a bar (${listings.join(", ")})`);
  const periods = listings.reduce((a, b) => a + b, 0);
  check(periods === input.subject.periods, `subject: ${periods} bars, one per period in force (${input.subject.periods})`);
  const marks = await page.$$eval("#timeline a.mark", (as) => as.length);
  check(marks === input.subject.events, `subject: ${marks} marks, one per recorded event about it (${input.subject.events})`);
  await shot("subject");
  await accessible("subject");

  // Graph.
  await open("/graph");
  const retaliations = await page.$$eval("#graph a.node[data-kind=retaliation]", (as) => as.length);
  check(retaliations === input.graph.retaliations, `graph: ${retaliations} retaliation nodes, the log has ${input.graph.retaliations}`);
  const edges = await page.$$eval("#graph line.edge", (ls) => ls.length);
  check(edges === input.graph.edges, `graph: ${edges} arrows, one per in_response_to link (${input.graph.edges})`);
  await shot("graph");
  await accessible("graph");

  // Diff.
  await open(`/diff?from=${input.diff.from}&to=${input.diff.to}`);
  const came = Number(await page.getAttribute("#came", "data-count"));
  check(came === input.diff.came, `diff ${input.diff.from}..${input.diff.to}: ${came} came into force, the CLI gives ${input.diff.came}`);
  await shot("diff");
  await accessible("diff");

  // Event: the proof check verifies...
  await open(`/event/${input.event}`);
  await page.waitForFunction(() => !["unchecked", "checking"].includes(document.getElementById("proof-result").dataset.state));
  const state = await page.getAttribute("#proof-result", "data-state");
  const said = await page.textContent("#proof-result");
  check(state === "verified", `event ${input.event}: the proof check says verified (${said})`);
  check(said.includes(input.key_signer), `event: it says against which key (${input.key_signer})`);
  await shot("event-verified");
  await page.locator("#proof-section").screenshot({ path: join(input.screenshots, "proof-verified.png") });
  await accessible("event");

  // ...and fails when the served proof has a byte flipped (the proxy).
  await page.goto(`${input.tampered}/event/${input.event}`, { waitUntil: "load" });
  await page.waitForFunction(() => !["unchecked", "checking"].includes(document.getElementById("proof-result").dataset.state));
  const tamperedState = await page.getAttribute("#proof-result", "data-state");
  const tamperedSaid = await page.textContent("#proof-result");
  check(tamperedState === "failed", `event through the tampering proxy: the proof check says failed (${tamperedSaid})`);
  await shot("event-tampered");
  await page.locator("#proof-section").screenshot({ path: join(input.screenshots, "proof-tampered.png") });
  // Script errors from the tampered check are the check's own report, not the page's.
  problems.length = 0;

  // Without JavaScript, every table is there.
  const bareBrowser = await chromium.launch({
    executablePath: input.chromium,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
  const noJs = await bareBrowser.newContext({ javaScriptEnabled: false });
  const bare = await noJs.newPage();
  await bare.goto(`${input.base}/state?as_of=${input.state.as_of}`);
  const bareRows = await bare.$$eval("#listings tbody tr", (rs) => rs.length);
  check(bareRows === input.state.total, `without JavaScript: the state table has its ${bareRows} rows`);
  await bare.goto(`${input.base}/event/${input.event}`);
  const bareProof = await bare.getAttribute("#proof-result", "data-state");
  check(bareProof === "unchecked", `without JavaScript: the event page says the proof is not checked and how to check it offline (${bareProof})`);
  await bareBrowser.close();
} catch (error) {
  check(false, `the browser run stopped: ${error.stack}`);
} finally {
  check(outside.length === 0, `nothing was fetched from outside the server (${outside.join(", ") || "none"})`);
  check(problems.length === 0, `no script or console error on any page (${problems.join("; ") || "none"})`);
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}

if (failures.length > 0) {
  console.log(`\n${failures.length} check(s) failed:\n- ${failures.join("\n- ")}`);
  process.exit(1);
}
console.log("\nall browser checks passed");
