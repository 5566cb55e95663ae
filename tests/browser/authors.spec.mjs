// The authors' page in headless Debian Chromium: every refusal, signing in through the form, the report.
//
//   node authors.spec.mjs BASE_URL OUT_DIR --closed CLOSED_URL --token TOKEN --crafted TEXT [--label authors]
//
// BASE_URL is a service with CASEBOOK_ADMIN_TOKEN=TOKEN and a gap log holding TEXT (a question written to
// inject HTML); CLOSED_URL one without an admin token. Prints one JSON summary ({ok, checks, ...}); exit 1
// when a check fails, 2 when the run broke. Run by tests/browser/test_authors_browser.py.
import { mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join, resolve } from "node:path";
import { check, launch, report } from "./harness.mjs";

const require = createRequire(import.meta.url);
// Evaluated through the DevTools protocol: the page's CSP (script-src 'self') refuses a script tag, rightly.
const AXE = readFileSync(require.resolve("axe-core/axe.min.js"), "utf-8");
const WAIT_MS = 60000;

function parseArgs(argv) {
  const positional = [];
  const options = { closed: "", token: "", crafted: "", label: "authors" };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i].startsWith("--")) options[argv[i].slice(2)] = argv[++i];
    else positional.push(argv[i]);
  }
  if (positional.length !== 2 || !options.closed || !options.token || !options.crafted) {
    console.error("usage: node authors.spec.mjs BASE_URL OUT_DIR --closed URL --token TOKEN --crafted TEXT");
    process.exit(2);
  }
  return { base: positional[0].replace(/\/+$/, ""), outDir: resolve(positional[1]), ...options };
}

async function seriousViolations(page) {
  if (!(await page.evaluate(() => Boolean(window.axe)))) await page.evaluate(AXE);
  const found = await page.evaluate(async () => (await window.axe.run(document, { resultTypes: ["violations"] }))
    .violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(" ")) })));
  return found.filter((v) => v.impact === "serious" || v.impact === "critical");
}

async function run({ base, outDir, closed, token, crafted, label }) {
  mkdirSync(outDir, { recursive: true });
  const browser = await launch();
  const pageErrors = [];
  const cspErrors = [];
  const screenshots = [];
  const seen = {};
  const watch = (page) => {
    page.on("pageerror", (e) => pageErrors.push(String(e)));
    page.on("console", (m) => { if (/Content.Security.Policy/i.test(m.text())) cspErrors.push(m.text()); });
  };
  try {
    // 1. A service without an admin token has no authors' page at all.
    const stranger = await browser.newContext();
    const away = await stranger.newPage();
    const closedPage = await away.goto(`${closed}/authors`);
    const closedJson = await stranger.request.get(`${closed}/api/authors`, { headers: { Authorization: `Bearer ${token}` } });
    check("no_token_configured_is_a_404", closedPage.status() === 404 && closedJson.status() === 404,
      [closedPage.status(), closedJson.status()]);

    // 2. Without the token: the sign-in form, answered 401; the JSON refuses too.
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    watch(page);
    const form = await page.goto(`${base}/authors`);
    const formShown = await page.evaluate(() => ({ input: document.getElementById("token")?.type,
      label: document.querySelector("label[for=token]")?.textContent, alertHidden: document.getElementById("sign-in-failed").hidden }));
    const json = await context.request.get(`${base}/api/authors`);
    check("no_token_is_a_401_with_the_sign_in_form", form.status() === 401 && formShown.input === "password"
      && formShown.alertHidden && json.status() === 401, { page: form.status(), json: json.status(), formShown });
    const formAxe = await seriousViolations(page);
    check("axe_sign_in_form_no_serious_violations", formAxe.length === 0, formAxe);

    // 3. The token in a query string opens nothing (proxies log URLs), page or JSON.
    const inUrl = await context.request.get(`${base}/authors?token=${encodeURIComponent(token)}`);
    const inUrlJson = await context.request.get(`${base}/api/authors?token=${encodeURIComponent(token)}`);
    check("token_in_a_query_string_is_a_401", inUrl.status() === 401 && inUrlJson.status() === 401,
      [inUrl.status(), inUrlJson.status()]);

    // 4. A wrong token, by header or through the form: 401, the form says so and echoes nothing.
    const wrongHeader = await context.request.get(`${base}/api/authors`, { headers: { Authorization: "Bearer wrong-token-wrong-token-wrong" } });
    await page.fill("#token", "wrong-token-wrong-token-wrong");
    const [wrongForm] = await Promise.all([page.waitForNavigation(), page.click("button[type=submit]")]);
    const wrongShown = await page.evaluate(() => ({ alert: document.getElementById("sign-in-failed").hidden ? "" : document.getElementById("sign-in-failed").textContent,
      echoed: document.documentElement.outerHTML.includes("wrong-token-wrong-token-wrong") }));
    const wrongCookies = (await context.cookies()).filter((c) => c.name === "casebook_admin");
    check("wrong_token_is_a_401_saying_so", wrongHeader.status() === 401 && wrongForm.status() === 401
      && /not the admin token/.test(wrongShown.alert) && !wrongShown.echoed && wrongCookies.length === 0,
      { header: wrongHeader.status(), form: wrongForm.status(), wrongShown });

    // 5. The right token by header opens the JSON, from a context that never signed in.
    const byHeader = await stranger.request.get(`${base}/api/authors`, { headers: { Authorization: `Bearer ${token}` } });
    check("right_token_by_header_opens_the_json", byHeader.status() === 200 && (await byHeader.json()).version,
      byHeader.status());

    // 6. Signing in through the form: an HttpOnly, SameSite=Strict cookie that scripts cannot read, then the page.
    await page.fill("#token", token);
    const [signedIn] = await Promise.all([page.waitForNavigation(), page.click("button[type=submit]")]);
    const cookie = (await context.cookies()).find((c) => c.name === "casebook_admin");
    const readable = await page.evaluate(() => document.cookie);
    check("sign_in_cookie_is_httponly_and_strict", signedIn.status() === 200 && new URL(page.url()).pathname === "/authors"
      && cookie && cookie.httpOnly && cookie.sameSite === "Strict" && cookie.value !== token && !readable.includes("casebook_admin"),
      { status: signedIn.status(), url: page.url(), cookie: cookie && { httpOnly: cookie.httpOnly, sameSite: cookie.sameSite, secure: cookie.secure } });

    // 7. The report: gaps with their weekly charts, the most asked questions, the change, the links to add.
    await page.waitForFunction(() => document.getElementById("main").getAttribute("aria-busy") === "false", null, { timeout: WAIT_MS });
    Object.assign(seen, await page.evaluate(() => ({
      status: document.getElementById("status").textContent,
      version: document.getElementById("version").textContent,
      gaps: [...document.querySelectorAll("#gap-groups > li")].map((li) => ({ question: li.querySelector("h3").textContent,
        meta: li.querySelector(".meta").textContent, chart: li.querySelector("svg[role=img]")?.getAttribute("aria-label"),
        bars: li.querySelectorAll("svg rect").length })),
      asked: [...document.querySelectorAll("#asked-rows tr")].map((tr) => [...tr.cells].map((td) => td.textContent)),
      change: document.getElementById("change-summary").textContent,
      changed: [...document.querySelectorAll("#change-list li")].map((li) => li.textContent),
      linkPosts: document.querySelectorAll("#link-posts .link-post").length,
      orphans: [...document.querySelectorAll("#orphan-list li")].map((li) => li.textContent),
    })));
    check("report_loaded", seen.status === "Report loaded." && seen.version.startsWith("Index version "), seen.status);
    check("gap_groups_with_weekly_charts", seen.gaps.length >= 2 && seen.gaps.every((g) => g.bars === 12
      && /^Times asked per week: week of \d{4}-\d\d-\d\d, \d+/.test(g.chart || "")), seen.gaps.slice(0, 2));
    check("most_asked_questions_listed", seen.asked.length >= 2 && seen.asked.some((row) => row[3] === "yes")
      && seen.asked.some((row) => row[3] === "no"), seen.asked.slice(0, 3));
    check("change_and_links_listed", /1 added, 1 edited, 0 removed/.test(seen.change) && seen.changed.length === 2
      && seen.linkPosts > 0 && seen.orphans.length > 0, { change: seen.change, changed: seen.changed, linkPosts: seen.linkPosts });

    // 8. A question written to inject HTML is shown as the words it is, and nothing of it runs.
    await page.waitForTimeout(300);
    const injected = await page.evaluate((text) => ({
      elements: document.querySelectorAll("main img, main script, main iframe, main b").length,
      title: document.title,
      shownAsText: [...document.querySelectorAll("#gap-groups h3, #asked-rows td")].some((node) => node.textContent.includes(text)),
    }), crafted);
    check("crafted_question_shown_as_text", injected.elements === 0 && injected.shownAsText
      && injected.title === "Casebook for authors", injected);

    const reportAxe = await seriousViolations(page);
    check("axe_authors_page_no_serious_violations", reportAxe.length === 0, reportAxe);
    await page.screenshot({ path: join(outDir, `${label}.png`), fullPage: true });
    screenshots.push(`${label}.png`);
    await page.screenshot({ path: join(outDir, `${label}-top.png`) });
    screenshots.push(`${label}-top.png`);

    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true });
    await phone.addCookies([{ ...cookie, sameSite: "Strict" }]);
    const small = await phone.newPage();
    watch(small);
    await small.goto(`${base}/authors`);
    await small.waitForFunction(() => document.getElementById("main").getAttribute("aria-busy") === "false", null, { timeout: WAIT_MS });
    const overflow = await small.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    check("fits_phone_width", overflow <= 0, overflow);

    // 9. Signing out forgets the cookie: the page is closed again.
    await Promise.all([page.waitForNavigation(), page.click("form[action='/authors/sign-out'] button")]);
    const after = await context.request.get(`${base}/api/authors`);
    check("sign_out_closes_the_page", after.status() === 401 && !(await context.cookies()).some((c) => c.name === "casebook_admin"),
      after.status());

    check("no_csp_violations", cspErrors.length === 0, cspErrors.join(" | "));
    check("no_page_errors", pageErrors.length === 0, pageErrors.join(" | "));
  } finally {
    await browser.close();
  }
  return { seen, screenshots };
}

const args = parseArgs(process.argv.slice(2));
await report(() => run(args), { base: args.base });
