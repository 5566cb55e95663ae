// Drives the Casebook search page in headless Debian Chromium the way a reader would.
//
//   node page.spec.mjs BASE_URL OUT_DIR [--query "idempotency keys for payment retries"]
//
// Prints one JSON summary on stdout ({ok, checks: [{name, ok, detail}], ...}), writes
// screenshots into OUT_DIR, and exits 1 when any check fails (2 when the run itself broke).
// Run by tests/browser/test_page_browser.py; install with tests/browser/install.sh.
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { check, launch, report } from "./harness.mjs";

const XSS_QUERY = "comment box that stores a script and prints it unescaped";
const XSS_TEXT = "<script>alert(1)</script>";
const TYPO_QUERY = "idempotncy keys for payment retries"; // one letter dropped from a word of tests/posts
const TYPO_FIXED = "idempotency keys for payment retries";
const ANSWERED_QUERY = "how does Tidepool pause partitions?";
const WAIT_MS = 20000;

function parseArgs(argv) {
  const positional = [];
  let query = "idempotency keys for payment retries"; // answered by the Lighthouse series in tests/posts
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--query") query = argv[++i];
    else positional.push(argv[i]);
  }
  if (positional.length !== 2) {
    console.error("usage: node page.spec.mjs BASE_URL OUT_DIR [--query TEXT]");
    process.exit(2);
  }
  return { base: positional[0].replace(/\/+$/, ""), outDir: resolve(positional[1]), query };
}

/** Clear the box and type the query key by key, then wait until results for it are on screen. */
async function typeQuery(page, text, states = ["results"]) {
  const input = page.locator(".casebook .cb-input");
  await input.click();
  await input.fill("");
  await input.pressSequentially(text, { delay: 35 });
  await page.waitForFunction(
    ([q, wanted]) => {
      const root = document.querySelector(".casebook");
      return root && root.dataset.query === q && wanted.includes(root.dataset.state)
        && !root.classList.contains("cb-is-loading");
    },
    [text.trim(), states],
    { timeout: WAIT_MS },
  );
}

async function run({ base, outDir, query }) {
  mkdirSync(outDir, { recursive: true });
  const browser = await launch();
  const dialogs = [];
  const pageErrors = [];
  const screenshots = [];
  const counts = {};
  try {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    page.on("dialog", (d) => { dialogs.push(d.message()); d.dismiss().catch(() => {}); });
    page.on("pageerror", (e) => pageErrors.push(String(e)));
    const cspErrors = [];
    page.on("console", (m) => { if (/Content.Security.Policy/i.test(m.text())) cspErrors.push(m.text()); });

    await page.goto(base + "/", { waitUntil: "domcontentloaded" });
    await page.locator(".casebook .cb-input").waitFor({ timeout: WAIT_MS });
    check("search_box_mounted", true, "casebook.js mounted the box into #casebook-search");

    // 1. A reader types a query and results appear.
    await typeQuery(page, query);
    counts.posts = await page.locator(".cb-post").count();
    counts.passages = await page.locator(".cb-passage").count();
    check("has_post_groups", counts.posts >= 1, `${counts.posts} post groups`);
    check("has_passages", counts.passages >= 1, `${counts.passages} passages`);
    check("query_in_url", new URL(page.url()).searchParams.get("q") === query, page.url());

    // 2. Every passage heading is a deep link; only pre-heading passages may lack a "#".
    const links = await page.locator("a.cb-passage-link").evaluateAll((as) =>
      as.map((a) => ({ href: a.href, intro: a.dataset.anchor === "none" })));
    const badLinks = links.filter((l) => !/^https?:\/\//.test(l.href) || (!l.intro && !l.href.includes("#")));
    check("passage_links_are_deep_links", links.length >= 1 && badLinks.length === 0,
      badLinks.length ? JSON.stringify(badLinks.slice(0, 3)) : `${links.length} links`);

    // 3. The series panel shows the matching series with its parts.
    counts.series = await page.locator(".cb-series-card").count();
    const parts = await page.locator(".cb-series .cb-part").count();
    const seriesVisible = await page.locator(".cb-series").isVisible();
    check("series_panel_shows", seriesVisible && counts.series >= 1 && parts >= 1,
      `${counts.series} series, ${parts} parts`);

    await page.screenshot({ path: join(outDir, "page-desktop.png"), fullPage: true });
    screenshots.push("page-desktop.png");

    // 4. Keyboard: ArrowDown from the box focuses the first result link, ArrowUp returns.
    await page.locator(".casebook .cb-input").focus();
    await page.keyboard.press("ArrowDown");
    const focus = await page.evaluate(() => {
      const first = document.querySelector(".casebook .cb-results a.cb-nav, .casebook .cb-answer a.cb-nav");
      const nav = [...document.querySelectorAll(".casebook a.cb-nav")].filter((a) => a.offsetParent);
      return { onFirst: document.activeElement === nav[0], first: first && first.textContent,
        active: document.activeElement && document.activeElement.textContent };
    });
    check("arrow_down_focuses_first_result", focus.onFirst, `focused: ${focus.active}`);
    await page.keyboard.press("ArrowDown");
    await page.keyboard.press("ArrowUp");
    await page.keyboard.press("ArrowUp");
    const backInBox = await page.evaluate(() => document.activeElement.classList.contains("cb-input"));
    check("arrow_up_returns_to_box", backInBox);

    // 5. "/" focuses the box from anywhere; Escape clears it.
    await page.locator(".page-title, body").first().click();
    await page.keyboard.press("/");
    const slash = await page.evaluate(() => document.activeElement.classList.contains("cb-input"));
    check("slash_focuses_box", slash);
    await page.keyboard.press("Escape");
    const cleared = await page.evaluate(() => ({
      value: document.querySelector(".casebook .cb-input").value,
      state: document.querySelector(".casebook").dataset.state,
    }));
    check("escape_clears", cleared.value === "" && cleared.state === "idle", JSON.stringify(cleared));

    // 6. A post containing <script> is shown as text: no dialog, the literal text visible.
    // The API's own JSON is kept too, so a failure says whether the page or the index lost the text.
    let apiHasLiteral = false;
    const onResponse = async (r) => {
      if (!r.url().includes("/api/search") || new URL(r.url()).searchParams.get("q") !== XSS_QUERY) return;
      try { apiHasLiteral = JSON.stringify(await r.json()).includes(XSS_TEXT); } catch (_) { /* aborted */ }
    };
    page.on("response", onResponse);
    await typeQuery(page, XSS_QUERY);
    await page.waitForTimeout(300); // give any injected script a chance to run
    const xss = await page.evaluate((literal) => {
      const root = document.querySelector(".casebook");
      const visible = [...root.querySelectorAll(".cb-results *, .cb-series *, .cb-answer *")]
        .some((n) => n.offsetParent !== null && n.textContent.includes(literal));
      return { visible, scripts: root.querySelectorAll("script, img, iframe").length };
    }, XSS_TEXT);
    page.off("response", onResponse);
    check("script_text_shown_literally", xss.visible, `literal ${XSS_TEXT} visible on the page: ${xss.visible}; `
      + `present in the /api/search JSON: ${apiHasLiteral}${apiHasLiteral ? "" : " (the index lost it, not the page)"}`);
    check("no_injected_elements", xss.scripts === 0, `${xss.scripts} script/img/iframe elements in results`);
    await page.screenshot({ path: join(outDir, "page-escaping.png"), fullPage: true });
    screenshots.push("page-escaping.png");

    // 6b. A query that is itself HTML is kept as text: nothing in it becomes an element.
    await typeQuery(page, '<img src=x onerror=alert(2)><b>ledger</b>', ["results", "empty"]);
    const parsed = await page.evaluate(() => document.querySelectorAll(".casebook img, .casebook b").length);
    check("query_html_shown_as_text", parsed === 0, `${parsed} img/b elements made from the query`);

    // 7. A server 4xx shows its detail message.
    await page.locator(".casebook .cb-input").fill("x".repeat(501));
    await page.waitForFunction(() => document.querySelector(".casebook").dataset.state === "error",
      null, { timeout: WAIT_MS });
    const detail = await page.locator(".cb-error-detail").textContent();
    check("error_shows_detail", detail && detail.trim().length > 0, detail);

    // 7b. One request per query: /api/ask ranks once and answers from that ranking; /api/search is not called.
    const requests = [];
    const onRequest = (r) => { if (r.url().includes("/api/")) requests.push(new URL(r.url())); };
    page.on("request", onRequest);
    await typeQuery(page, query);
    page.off("request", onRequest);
    const forQuery = requests.filter((u) => u.searchParams.get("q") === query);
    check("one_ask_request_per_query", forQuery.length === 1 && forQuery[0].pathname === "/api/ask"
      && !requests.some((u) => u.pathname === "/api/search"), requests.map((u) => u.pathname + u.search).join(" "));

    // 7c. Why this result: a small toggle per result says, in words, what matched and who found it.
    const toggle = page.locator(".cb-why-toggle").first();
    await toggle.click();
    const why = await page.evaluate(() => {
      const button = document.querySelector(".cb-why-toggle");
      const detail = document.getElementById(button.getAttribute("aria-controls"));
      return { expanded: button.getAttribute("aria-expanded"), visible: Boolean(detail.offsetParent), text: detail.textContent };
    });
    check("why_toggle_explains_a_result", why.expanded === "true" && why.visible
      && /^matched: |found by meaning/.test(why.text), JSON.stringify(why));

    // 7d. A typo is corrected, said so, and one click searches the words as typed.
    await typeQuery(page, TYPO_QUERY);
    const correction = await page.locator(".cb-correction").innerText();
    check("typo_shows_showing_results_for", correction.includes("Showing results for") && correction.includes(TYPO_FIXED),
      correction);
    const exactRequest = page.waitForRequest((r) => r.url().includes("/api/ask") && new URL(r.url()).searchParams.get("exact") === "true");
    await page.locator(".cb-correction .cb-linklike").click();
    await exactRequest;
    await page.waitForFunction(() => !document.querySelector(".casebook").classList.contains("cb-is-loading")
      && !document.querySelector(".cb-correction"), null, { timeout: WAIT_MS });
    check("exact_link_searches_as_typed", new URL(page.url()).searchParams.get("exact") === "true", page.url());

    // 7e. The answer's [n] markers link to the cited passages: each [n] to citations[n-1]. A marker with no
    // citation behind it (added here to the server's answer) stays plain text.
    await page.route("**/api/ask?*", async (route) => {
      const response = await route.fetch();
      const body = await response.json();
      if (body.found && body.citations.length) body.answer = body.answer + " Unknown source [9].";
      await route.fulfill({ response, json: body });
    });
    await typeQuery(page, ANSWERED_QUERY);
    const markers = await page.evaluate(() => [...document.querySelectorAll(".cb-answer-text a.cb-cite")]
      .map((a) => ({ text: a.textContent, href: a.href, label: a.getAttribute("aria-label") })));
    const citations = await page.evaluate(() => [...document.querySelectorAll(".cb-citation-link")].map((a) => a.href));
    const answerText = await page.locator(".cb-answer-text").innerText();
    await page.unroute("**/api/ask?*");
    const linked = markers.every((m) => m.href === citations[Number(m.text.slice(1, -1)) - 1]);
    check("answer_markers_link_to_sources", markers.length >= 2 && linked && answerText.includes("[9]")
      && !markers.some((m) => m.text === "[9]"), JSON.stringify({ markers, citations }));

    // 8. Phone width: the same query, no horizontal scrolling.
    await page.setViewportSize({ width: 390, height: 844 });
    await typeQuery(page, query);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    check("fits_phone_width", overflow <= 0, `horizontal overflow ${overflow}px at 390px`);
    await page.screenshot({ path: join(outDir, "page-phone.png"), fullPage: true });
    screenshots.push("page-phone.png");

    check("no_dialogs", dialogs.length === 0, dialogs.join(" | "));
    check("no_page_errors", pageErrors.length === 0, pageErrors.join(" | "));
    check("no_csp_violations", cspErrors.length === 0, cspErrors.join(" | "));
  } finally {
    await browser.close();
  }
  return { counts, screenshots, dialogs, pageErrors };
}

const args = parseArgs(process.argv.slice(2));
await report(() => run(args), { base_url: args.base, query: args.query, out_dir: args.outDir });
