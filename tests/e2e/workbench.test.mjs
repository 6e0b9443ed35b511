// End-to-end test of the Tearline workbench: playwright-core drives Debian's
// chromium (headless) against a real `tearline serve` on 127.0.0.1.
//
//   node tests/e2e/workbench.test.mjs [path/to/tearline]
//
// It signs in, writes a report with a RED portion and a generalised venue,
// checks the public preview hides the one and substitutes the other, issues
// the release to a partner's audience, sees the partner's fetch move the
// warning on the board, lets the short window end and sees "review due".
// A second node, the partner, syncs the warning: its workbench shows the
// review banner and the received board; its releaser records measures,
// judges the warning's specificity and lifts the measures with a reason;
// the sender's page shows the judgement. Then the sender closes the
// warning, and the test checks roles, CSRF, labels and keyboard use, and
// writes a screenshot of each main page under target/e2e/.

import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import assert from "node:assert/strict";
import { chromium } from "playwright-core";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const tl = resolve(process.argv[2] ?? join(root, "target/release/tearline"));
const shots = join(root, "target/e2e");
const browserPath = process.env.CHROMIUM ?? "/usr/bin/chromium";
mkdirSync(shots, { recursive: true });

const home = mkdtempSync(join(tmpdir(), "tearline-e2e-"));
const run = (args, input) =>
  execFileSync(tl, ["--node", home, ...args], { input, encoding: "utf8" });
// The partner's own node.
const peer = mkdtempSync(join(tmpdir(), "tearline-e2e-peer-"));
const runPeer = (args, input) =>
  execFileSync(tl, ["--node", peer, ...args], { input, encoding: "utf8" });

let step = 0;
const say = (what) => console.log(`ok ${++step} - ${what}`);

// ---- a node with two users and a partner --------------------------------
execFileSync(tl, ["init", home, "--name", "E2E node"], { encoding: "utf8" });
run(["protect", "add", "SAPPHIRE", "--kind", "source"]);
const RELEASER = { name: "rhea", password: "correct horse battery staple" };
const ANALYST = { name: "ana", password: "analyst password 123" };
run(["user", "add", RELEASER.name, "--role", "releaser", "--password-stdin"], RELEASER.password + "\n");
run(["user", "add", ANALYST.name, "--role", "analyst", "--password-stdin"], ANALYST.password + "\n");
const partnerOut = run(["partner", "add", "south", "--audience", "liaison"]);
const partnerPassword = /password:\s+(\S+)/.exec(partnerOut)[1];
const collection = /reads collection\s+(\S+)/.exec(partnerOut)[1];

// ---- the servers -----------------------------------------------------------
const servers = [];
async function serve(node) {
  const server = spawn(tl, ["--node", node, "serve", "--listen", "127.0.0.1:0"], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  servers.push(server);
  return new Promise((ok, fail) => {
    let err = "";
    server.stderr.on("data", (d) => {
      err += d;
      const m = /on (http:\/\/127\.0\.0\.1:\d+)\/taxii2\//.exec(err);
      if (m) ok(m[1]);
    });
    server.on("exit", (code) => fail(new Error(`tearline serve exited (${code}): ${err}`)));
    setTimeout(() => fail(new Error(`tearline serve did not start: ${err}`)), 15000);
  });
}
const base = await serve(home);

const browser = await chromium.launch({
  executablePath: browserPath,
  headless: true,
  args: ["--no-sandbox"],
});
const context = await browser.newContext({ viewport: { width: 1500, height: 1000 } });
const page = await context.newPage();
const failures = [];
page.on("pageerror", (e) => failures.push(`script error: ${e.message}`));
// Refusals (401, 403) are part of the test; a missing file or a server
// error is not.
page.on("response", (r) => {
  if (r.status() === 404 || r.status() >= 500) failures.push(`${r.status()} ${r.url()}`);
});

async function shot(name) {
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
}

// Every visible form control has a label.
async function labelled() {
  const unlabelled = await page.$$eval(
    "input:not([type=hidden]), select, textarea",
    (els) => els.filter((e) => e.labels.length === 0).map((e) => e.outerHTML),
  );
  assert.deepEqual(unlabelled, [], `unlabelled controls on ${page.url()}`);
}

async function signIn(user, p = page, at = base) {
  await p.goto(`${at}/ui/warnings`);
  assert.match(p.url(), /\/ui\/login\?next=\/ui\/warnings$/);
  if (p === page) {
    await labelled();
    // From the keyboard only: the name field has focus.
    await p.keyboard.type(user.name);
    await p.keyboard.press("Tab");
    await p.keyboard.type(user.password);
    await p.keyboard.press("Enter");
  } else {
    await p.fill("#name", user.name);
    await p.fill("#password", user.password);
    await p.click("button[type=submit]");
  }
  await p.waitForURL(`${at}/ui/warnings`);
}

// Submits a form that posts and redirects back to the same page.
async function submit(p, selector) {
  await Promise.all([p.waitForNavigation(), p.click(selector)]);
}

const iso = (t) => new Date(t).toISOString().replace(/\.\d{3}Z$/, "Z");

try {
  // 1. Sign in; a wrong password is refused.
  await page.goto(`${base}/ui/login`);
  await page.fill("#name", RELEASER.name);
  await page.fill("#password", "wrong password!");
  await page.click("button[type=submit]");
  assert.equal(await page.textContent("#login-error"), "the name or the password is wrong");
  await shot("login");
  await signIn(RELEASER);
  const cookies = await context.cookies();
  const session = cookies.find((c) => c.name === "tearline_session");
  assert.ok(session, "a session cookie is set");
  assert.equal(session.httpOnly, true);
  assert.equal(session.sameSite, "Strict");
  say("sign in (a wrong password refused; the session cookie is HttpOnly and SameSite=Strict)");

  // 2. Write a report: the preview refreshes while typing.
  const now = Date.now();
  const windowEnd = now + 45_000;
  const report = `---
title: Threat to a concert venue
produced: ${iso(now - 60_000)}
valid_from: ${iso(now - 60_000)}
valid_until: ${iso(windowEnd)}
---

(TLP:CLEAR) An armed group intends to attack [Crocus City Hall]{venue level=AMBER sub="a large concert venue in the city"} in Moscow this week.

(TLP:RED) [SAPPHIRE]{source sub="a source with direct access"} reported the plan from inside the group.

(TLP:AMBER) Surveillance of the entrances was seen last Tuesday.
`;
  await page.goto(`${base}/ui/drafts/new`);
  await labelled();
  await page.fill("#body", report);
  const pub = 'article[data-audience="public"]';
  await page.waitForFunction(
    () => document.querySelector('#preview article[data-audience="public"]')?.textContent.includes("large concert venue"),
    null,
    { timeout: 10_000 },
  );
  say("the preview refreshes while typing");

  // 3. Save; the public column hides the RED portion and substitutes the venue.
  await page.click("text=Save and preview");
  await page.waitForURL(/\/ui\/drafts\/1$/);
  const pubText = await page.textContent(pub);
  assert.ok(!pubText.includes("Crocus City Hall"), "the venue is generalised for the public");
  assert.ok(!pubText.includes("SAPPHIRE"), "the source never reaches the public");
  assert.equal(await page.textContent(`${pub} mark.sub`), "a large concert venue in the city");
  assert.match(await page.textContent(`${pub} .withheld`), /Portion 2 \(TLP:RED\) withheld/);
  assert.match(await page.textContent(`${pub} .status`), /leak check: pass/);
  assert.equal(await page.locator(`${pub} svg.profile`).count(), 1);
  const internal = await page.textContent('article[data-audience="internal"]');
  assert.ok(internal.includes("Crocus City Hall") && internal.includes("SAPPHIRE"));
  const liaison = await page.textContent('article[data-audience="liaison"]');
  assert.ok(liaison.includes("Crocus City Hall") && !liaison.includes("SAPPHIRE"));
  await labelled();
  await shot("write-preview");
  say("the public preview withholds the RED portion and shows the substitute for the venue");

  // 4. A leak is shown at its place: the venue named again, unannotated.
  await page.fill("#body", report + "\n(TLP:CLEAR) Crocus City Hall has cancelled its shows.\n");
  await page.waitForFunction(
    () => document.querySelector('#preview article[data-audience="public"] .leak') !== null,
    null,
    { timeout: 10_000 },
  );
  assert.match(await page.textContent(`${pub} .status`), /REFUSED/);
  assert.match(await page.textContent(`${pub} .leak`), /portion 4/i);
  assert.equal(await page.isDisabled("#issue-button"), true, "unsaved text cannot be issued");
  await shot("write-leak");
  await page.reload();
  say("a leak finding is shown in the portion it is in; unsaved text cannot be issued");

  // 5. Issue to the partner's audience.
  await page.selectOption("#audience", "liaison");
  await page.click("#issue-button");
  await page.waitForURL(/\/ui\/warnings\/1$/);
  assert.match(await page.textContent(".flash.ok"), /released to `liaison`: release 1/);
  assert.match(await page.textContent(".state"), /issued/);
  say("issue the release to the partner's audience");

  // 6. The partner fetches it over TAXII; the board shows it delivered.
  const res = await fetch(`${base}/api/collections/${collection}/objects/`, {
    headers: {
      Accept: "application/taxii+json;version=2.1",
      Authorization: "Basic " + Buffer.from(`south:${partnerPassword}`).toString("base64"),
    },
  });
  assert.equal(res.status, 200);
  const objects = (await res.json()).objects;
  assert.ok(objects.some((o) => o.type === "report"));
  assert.ok(!JSON.stringify(objects).includes("SAPPHIRE"));
  await page.goto(`${base}/ui/warnings`);
  const delivered = page.locator('section[data-state="delivered"] .card');
  assert.equal(await delivered.count(), 1);
  assert.match(await delivered.textContent(), /Threat to a concert venue/);
  assert.match(await delivered.textContent(), /south ✓/);
  assert.match(await delivered.textContent(), /left/);
  await shot("board");
  say("the board shows the warning, delivered to the partner, with time left");

  // 7. The window ends: the warning moves to "review due".
  const wait = windowEnd - Date.now() + 1500;
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  await page.reload();
  const due = page.locator('section[data-state="review due"] .card');
  assert.equal(await due.count(), 1);
  assert.match(await due.textContent(), /overdue/);
  await shot("board-review-due");
  await page.click('section[data-state="review due"] .card a');
  await page.waitForURL(/\/ui\/warnings\/1$/);
  assert.match(await page.textContent(".state"), /review due/);
  assert.equal(await page.locator("svg.timeline circle").count() >= 3, true);
  await labelled();
  await shot("warning");
  say("when the window ends the warning moves to review due, with its SVG timeline");

  // 8. The partner's node syncs: its workbench shows the warning under
  // review due, with a banner on every page.
  execFileSync(tl, ["init", peer, "--name", "Partner node"], { encoding: "utf8" });
  const PEER = { name: "pia", password: "partner releaser pass" };
  runPeer(["user", "add", PEER.name, "--role", "releaser", "--password-stdin"], PEER.password + "\n");
  runPeer(["remote", "add", "sender", base, "--user", "south", "--password", partnerPassword]);
  assert.match(runPeer(["sync", "sender"]), /1 new warning\(s\) received/);
  const peerBase = await serve(peer);
  // Its own browser context: cookies do not tell ports apart.
  const peerContext = await browser.newContext({ viewport: { width: 1500, height: 1000 } });
  const peerPage = await peerContext.newPage();
  peerPage.on("pageerror", (e) => failures.push(`script error: ${e.message}`));
  await signIn(PEER, peerPage, peerBase);
  assert.match(await peerPage.textContent("#review-banner"), /1 received warning due for review/);
  await peerPage.click("#review-banner a");
  await peerPage.waitForURL(`${peerBase}/ui/received`);
  const recvDue = peerPage.locator('section[data-state="review due"] .card');
  assert.equal(await recvDue.count(), 1);
  assert.match(await recvDue.textContent(), /Threat to a concert venue/);
  await peerPage.screenshot({ path: join(shots, "received-board.png"), fullPage: true });
  say("the partner's workbench shows the received warning under review due, with a banner");

  // 9. The partner records measures, judges the specificity and lifts the
  // measures with a reason.
  await peerPage.click('section[data-state="review due"] .card a');
  await peerPage.waitForURL(/\/ui\/received\/1$/);
  await peerPage.fill("#measures-text", "guards at the city's large concert venues");
  await submit(peerPage, "button:has-text(\"Record measures\")");
  assert.match(await peerPage.textContent(".flash.ok"), /measures recorded/);
  await peerPage.check("#j-who-enough");
  await peerPage.check("#j-when-enough");
  await peerPage.check("#j-where-need");
  await peerPage.fill("#j-where-what", "which venue");
  await submit(peerPage, "#judge-button");
  assert.match(await peerPage.textContent(".flash.ok"), /judge recorded/);
  assert.equal(await peerPage.isChecked("#j-where-need"), true, "the form shows the judgement sent");
  await peerPage.fill("#lift-reason", "the event passed without incident");
  await submit(peerPage, "button:has-text(\"Lift measures\")");
  assert.match(await peerPage.textContent(".state"), /closed/);
  assert.equal(await peerPage.locator("#review-banner").count(), 0, "no banner once decided");
  const unlabelledPeer = await peerPage.$$eval(
    "input:not([type=hidden]), select, textarea",
    (els) => els.filter((e) => e.labels.length === 0).map((e) => e.outerHTML),
  );
  assert.deepEqual(unlabelledPeer, []);
  await peerPage.screenshot({ path: join(shots, "received-warning.png"), fullPage: true });
  runPeer(["sync", "sender"]);
  say("the partner records measures, judges 'where: need more' and lifts the measures with a reason");

  // 10. The sender's page shows the partner's judgement and decision.
  await page.reload();
  const senderView = await page.textContent("main");
  assert.match(senderView, /which venue/);
  assert.match(senderView, /south/);
  assert.match(senderView, /the event passed without incident/);
  assert.equal(await page.locator("#reissue-button").count(), 1, "the sender is offered a re-issue");
  await shot("warning-judged");
  say("the sender sees the partner's judgement and decision, and is offered a re-issue");

  // 11. A releaser closes it with an outcome.
  await page.selectOption("#outcome", "not-confirmed");
  await page.fill("#note", "no attack; venue security reinforced");
  await page.click("text=Close warning");
  await page.waitForURL(/\/ui\/warnings\/1$/);
  assert.match(await page.textContent(".state"), /closed \(not-confirmed\)/);
  say("close the warning with its outcome");

  // 12. Cases, partners and the audit log.
  await page.goto(`${base}/ui/cases`);
  await page.click("text=case 1");
  await page.waitForURL(/\/ui\/cases\/1$/);
  assert.match(await page.textContent("main"), /Threat to a concert venue/);
  await shot("case");
  await page.goto(`${base}/ui/partners`);
  const row = await page.textContent("tbody tr");
  assert.match(row, /south/);
  assert.match(row, /liaison/);
  assert.doesNotMatch(row, /never/);
  await shot("partners");
  await page.goto(`${base}/ui/audit`);
  await page.click("text=Verify the log");
  await page.waitForURL(`${base}/ui/audit`);
  assert.match(await page.textContent(".flash.ok"), /audit log verified/);
  const log = await page.textContent("table.audit");
  for (const action of ["ui.login", "ui.login.failed", "draft.save", "release", "warning"]) {
    assert.ok(log.includes(action), `the audit log records ${action}`);
  }
  await shot("audit");
  say("case page, partners with last contact, audit log verified");

  // 13. An analyst may not release outside internal; forms need the CSRF token.
  await page.click("text=Sign out");
  await page.waitForURL(/\/ui\/login$/);
  await signIn(ANALYST);
  await page.goto(`${base}/ui/drafts/1`);
  assert.equal(await page.isDisabled('#audience option[value="liaison"]'), true);
  const status = await page.evaluate(async () => {
    const f = new URLSearchParams();
    f.append("csrf", document.querySelector("input[name=csrf]").value);
    f.append("audience", "public");
    f.append("sha", document.querySelector("input[name=sha]").value);
    return (await fetch("/ui/drafts/1/release", { method: "POST", body: f })).status;
  });
  assert.equal(status, 403);
  const forged = await page.evaluate(async () => {
    const f = new URLSearchParams({ csrf: "forged", body: "x" });
    return (await fetch("/ui/drafts/1", { method: "POST", body: f })).status;
  });
  assert.equal(forged, 403);
  say("an analyst cannot release outside internal; a forged CSRF token is refused");

  // 14. Signed out, pages go to sign-in.
  await page.click("text=Sign out");
  await page.goto(`${base}/ui/cases`);
  assert.match(page.url(), /\/ui\/login/);
  say("after sign-out every page asks to sign in");

  assert.deepEqual(failures, [], "no script errors");
  console.log(`all ${step} steps passed; screenshots in ${shots}`);
} finally {
  await browser.close();
  for (const s of servers) s.kill("SIGINT");
  rmSync(home, { recursive: true, force: true });
  rmSync(peer, { recursive: true, force: true });
}
