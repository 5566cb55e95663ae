// Drives the ⌘K search dialog on a Hugo-built blog in headless Debian Chromium, as a reader would.
//
//   node blog.spec.mjs POST_URL OUT_DIR --query "how does Alipay handle Double 11" --expect alipay
//        [--map https://tanhdev.com=http://127.0.0.1:8123] [--label real]
//
// Opens a built post, presses Ctrl-K, types the question, checks the dialog (ARIA combobox and
// listbox, results grouped by post, the answer on top, keys, focus trap and restore, no-results
// and error states, the phone sheet), runs axe-core on the page and on the open dialog, then
// follows the first result and checks it lands on the right heading of the right page.
// --map serves the blog's public origin (the URLs in the index) from the local build.
// Prints one JSON summary ({ok, checks: [{name, ok, detail}], ...}); exit 1 when a check fails,
// 2 when the run broke. Run by tests/browser/test_blog_browser.py; install with tests/browser/install.sh.
import { mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { join, resolve } from "node:path";
import { check, launch, report } from "./harness.mjs";

const require = createRequire(import.meta.url);
const AXE = require.resolve("axe-core/axe.min.js");
const WAIT_MS = 30000;
const GIBBERISH = "qqzx vvkwj";

function parseArgs(argv) {
  const positional = [];
  const options = { query: "", expect: "", map: "", label: "blog" };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i].startsWith("--")) options[argv[i].slice(2)] = argv[++i];
    else positional.push(argv[i]);
  }
  if (positional.length !== 2 || !options.query) {
    console.error("usage: node blog.spec.mjs POST_URL OUT_DIR --query TEXT [--expect PATH_PART] [--map FROM=TO]");
    process.exit(2);
  }
  return { post: positional[0], outDir: resolve(positional[1]), ...options };
}

/** Serve the blog's public origin from the local build: the index links to where the blog is published. */
async function mapOrigin(context, map) {
  if (!map) return;
  const [from, to] = map.split("=");
  await context.route(`${from.replace(/\/+$/, "")}/**`, (route) => {
    const url = new URL(route.request().url());
    route.fulfill({ status: 302, headers: { location: to.replace(/\/+$/, "") + url.pathname + url.search } });
  });
}

/** axe-core's serious and critical violations on the page as it is now. */
async function axeViolations(page) {
  if (!(await page.evaluate(() => Boolean(window.axe)))) await page.addScriptTag({ path: AXE });
  const result = await page.evaluate(async () => {
    const found = await window.axe.run(document, { resultTypes: ["violations"] });
    return found.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.slice(0, 3).map((n) => n.target.join(" ")) }));
  });
  return result.filter((v) => v.impact === "serious" || v.impact === "critical");
}

const dialogState = (page) => page.evaluate(() => {
  const root = document.querySelector(".casebook-modal");
  return root && { open: !root.hidden, state: root.dataset.state, query: root.dataset.query || "" };
});

async function typeInDialog(page, text, states = ["results"]) {
  const input = page.locator("#cbm-q");
  await input.fill("");
  await input.pressSequentially(text, { delay: 25 });
  await page.waitForFunction(([q, wanted]) => {
    const root = document.querySelector(".casebook-modal");
    return root && !root.hidden && root.dataset.query === q && wanted.includes(root.dataset.state)
      && !root.classList.contains("cb-is-loading");
  }, [text.trim(), states], { timeout: WAIT_MS });
}

async function run({ post, outDir, query, expect, map, label }) {
  mkdirSync(outDir, { recursive: true });
  const browser = await launch();
  const pageErrors = [];
  const dialogs = [];
  const screenshots = [];
  const seen = {};
  try {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    await mapOrigin(context, map);
    const page = await context.newPage();
    page.on("pageerror", (e) => pageErrors.push(String(e)));
    page.on("dialog", (d) => { dialogs.push(d.message()); d.dismiss().catch(() => {}); });

    await page.goto(post, { waitUntil: "domcontentloaded" });
    await page.locator("button.casebook-open").waitFor({ timeout: WAIT_MS });
    check("trigger_button_mounted", true, await page.locator("button.casebook-open").innerText());

    const pageAxe = await axeViolations(page);
    check("axe_page_no_serious_violations", pageAxe.length === 0, pageAxe);

    // 1. Ctrl-K opens the dialog from the page; focus goes into its search field.
    await page.locator("header nav a").first().focus();
    await page.keyboard.press("Control+k");
    await page.waitForFunction(() => document.activeElement && document.activeElement.id === "cbm-q",
      null, { timeout: WAIT_MS });
    const opened = await page.evaluate(() => {
      const dialog = document.querySelector(".casebook-modal [role=dialog]");
      const input = document.getElementById("cbm-q");
      return { modal: dialog && dialog.getAttribute("aria-modal"), role: input.getAttribute("role"),
        controls: input.getAttribute("aria-controls"), listbox: document.getElementById(input.getAttribute("aria-controls"))?.getAttribute("role"),
        pageInert: document.querySelector("header").inert };
    });
    check("ctrl_k_opens_dialog_with_focus_in_it", opened.modal === "true", opened);
    check("aria_combobox_controls_listbox", opened.role === "combobox" && opened.listbox === "listbox", opened);
    check("page_behind_is_inert", opened.pageInert === true, opened);

    // 2. A question: the answer on top, results grouped by post, each option a heading of its post.
    await typeInDialog(page, query);
    const shown = await page.evaluate(() => {
      const input = document.getElementById("cbm-q");
      const answer = document.querySelector(".cb-manswer");
      const list = document.getElementById("cbm-list");
      const groups = [...list.querySelectorAll("[role=group]")].map((g) => ({
        label: g.getAttribute("aria-label"),
        options: [...g.querySelectorAll("[role=option]")].map((o) => ({
          id: o.id, selected: o.getAttribute("aria-selected"), href: o.dataset.href,
          heading: o.querySelector(".cb-mheading").textContent })),
      }));
      return {
        expanded: input.getAttribute("aria-expanded"), active: input.getAttribute("aria-activedescendant"),
        answerVisible: Boolean(answer && !answer.hidden && answer.offsetParent),
        answerText: answer && !answer.hidden ? answer.innerText : "",
        answerAbove: Boolean(answer && !answer.hidden && answer.getBoundingClientRect().bottom <= list.getBoundingClientRect().top + 1),
        cites: [...document.querySelectorAll(".cb-manswer a")].map((a) => a.href),
        status: document.querySelector(".cb-mstatus").textContent,
        groups,
      };
    });
    seen.query = query;
    seen.answer = shown.answerText;
    seen.groups = shown.groups.map((g) => ({ post: g.label, headings: g.options.map((o) => o.heading) }));
    seen.status = shown.status;
    const options = shown.groups.flatMap((g) => g.options);
    check("results_grouped_by_post", shown.groups.length >= 1 && shown.groups.every((g) => g.label && g.options.length),
      seen.groups);
    check("options_carry_deep_links", options.length >= 1 && options.every((o) => /^https?:\/\//.test(o.href)
      && (o.heading === "Introduction" || o.href.includes("#"))), options.slice(0, 3));
    check("first_result_is_active", shown.expanded === "true" && shown.active === options[0].id
      && options[0].selected === "true", { expanded: shown.expanded, active: shown.active });
    check("answer_on_top", shown.answerVisible && shown.answerAbove, shown.answerText.slice(0, 200));
    check("first_result_is_the_right_post", !expect || (options[0].href || "").includes(expect), options[0].href);
    await page.screenshot({ path: join(outDir, `${label}-dialog.png`) });
    screenshots.push(`${label}-dialog.png`);

    const dialogAxe = await axeViolations(page);
    check("axe_open_dialog_no_serious_violations", dialogAxe.length === 0, dialogAxe);

    // 3. Keys: ↓ and ↑ move the active option while focus stays in the field.
    await page.keyboard.press("ArrowDown");
    const down = await page.evaluate(() => document.getElementById("cbm-q").getAttribute("aria-activedescendant"));
    await page.keyboard.press("ArrowUp");
    const up = await page.evaluate(() => ({ active: document.getElementById("cbm-q").getAttribute("aria-activedescendant"),
      focus: document.activeElement.id }));
    check("arrows_move_the_active_option", options.length < 2 || (down === options[1].id && up.active === options[0].id
      && up.focus === "cbm-q"), { down, up });

    // 4. Tab never leaves the dialog.
    let escaped = [];
    for (let i = 0; i < 12; i++) {
      await page.keyboard.press(i % 4 === 3 ? "Shift+Tab" : "Tab");
      const inside = await page.evaluate(() => document.querySelector(".casebook-modal [role=dialog]").contains(document.activeElement));
      if (!inside) escaped.push(await page.evaluate(() => document.activeElement.outerHTML.slice(0, 80)));
    }
    check("focus_is_trapped_in_the_dialog", escaped.length === 0, escaped);

    // 5. Esc closes and gives focus back to where it was; "/" opens again with the last results.
    await page.keyboard.press("Escape");
    const closed = await page.evaluate(() => ({ open: !document.querySelector(".casebook-modal").hidden,
      focus: document.activeElement && document.activeElement.closest("header nav") !== null,
      inert: document.querySelector("header").inert }));
    check("escape_closes_and_restores_focus", !closed.open && closed.focus && !closed.inert, closed);
    await page.keyboard.press("/");
    const slash = await dialogState(page);
    check("slash_opens_the_dialog", slash && slash.open && slash.state === "results", slash);

    // 6. The no-results and error states are shown in words. No real query finds nothing (meaning
    // always finds something), so the service's empty answer is played back for this one check.
    await page.route("**/api/ask?*", (route) => {
      const q = new URL(route.request().url()).searchParams.get("q");
      if (q === GIBBERISH) {
        return route.fulfill({ json: { query: q, corrected_query: null, took_ms: 1, passages: [], posts: [],
          series: [], found: false, answer: null, confidence: 0, citations: [], note: null } });
      }
      return route.fulfill({ status: 503, json: { detail: "index not loaded" } });
    });
    await typeInDialog(page, GIBBERISH, ["empty"]);
    const empty = await page.locator(".cb-mmessage .cb-empty-title").innerText();
    check("no_results_state_is_visible", /no results/i.test(empty), empty);
    await typeInDialog(page, "index down", ["error"]);
    const error = await page.evaluate(() => {
      const alert = document.querySelector(".cb-mmessage [role=alert]");
      return alert && alert.offsetParent ? alert.innerText : "";
    });
    check("error_state_is_visible", error.length > 0, error);
    await page.unroute("**/api/ask?*");

    // 7. Follow a result: the first one under a heading (arrowing down to it), so the deep link is tested;
    // it must land on the right page, scrolled to the right heading.
    await typeInDialog(page, query);
    const headings = await page.evaluate(() => [...document.querySelectorAll("#cbm-list [role=option] .cb-mheading")]
      .map((h) => h.textContent));
    const pick = Math.max(0, headings.findIndex((h) => h !== "Introduction"));
    for (let i = 0; i < pick; i++) await page.keyboard.press("ArrowDown");
    const target = await page.evaluate(() => {
      const option = document.querySelector("#cbm-list [role=option][aria-selected=true]");
      return { href: option.dataset.href, heading: option.querySelector(".cb-mheading").textContent };
    });
    await Promise.all([page.waitForNavigation({ timeout: WAIT_MS }), page.keyboard.press("Enter")]);
    await page.waitForLoadState("domcontentloaded");
    const landed = await page.evaluate(() => {
      const id = decodeURIComponent(location.hash.slice(1));
      const node = id ? document.getElementById(id) : null;
      return { url: location.href, path: location.pathname, hash: location.hash, id,
        headingText: node ? node.textContent.trim() : null, tag: node ? node.tagName : null,
        inView: node ? node.getBoundingClientRect().top < window.innerHeight : null };
    });
    const wanted = new URL(target.href);
    const lastHeading = target.heading.split(" › ").pop();
    seen.followed = { result: target, landed };
    check("result_leads_to_its_page", landed.path === wanted.pathname && (!expect || landed.path.includes(expect)),
      { wanted: wanted.pathname, landed: landed.path });
    check("result_leads_to_its_heading", target.heading === "Introduction"
      ? !landed.hash : landed.hash === wanted.hash && /^H[1-6]$/.test(landed.tag || "")
        && landed.headingText === lastHeading && landed.inView, { wanted: wanted.hash, lastHeading, landed });
    await page.screenshot({ path: join(outDir, `${label}-landed.png`) });
    screenshots.push(`${label}-landed.png`);

    // 8. Phones: the trigger button opens a full-screen sheet.
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    await mapOrigin(phone, map);
    const small = await phone.newPage();
    small.on("pageerror", (e) => pageErrors.push(String(e)));
    await small.goto(post, { waitUntil: "domcontentloaded" });
    await small.locator("button.casebook-open").tap();
    await typeInDialog(small, query);
    const sheet = await small.evaluate(() => {
      const box = document.querySelector(".casebook-modal [role=dialog]").getBoundingClientRect();
      return { x: box.x, y: box.y, width: box.width, height: box.height, vw: window.innerWidth, vh: window.innerHeight,
        overflow: document.documentElement.scrollWidth - window.innerWidth };
    });
    check("phone_gets_a_full_screen_sheet", sheet.x === 0 && sheet.y === 0 && Math.abs(sheet.width - sheet.vw) < 1
      && Math.abs(sheet.height - sheet.vh) < 1 && sheet.overflow <= 0, sheet);
    await small.screenshot({ path: join(outDir, `${label}-phone.png`) });
    screenshots.push(`${label}-phone.png`);

    check("no_page_errors", pageErrors.length === 0, pageErrors.join(" | "));
    check("no_dialogs", dialogs.length === 0, dialogs.join(" | "));
  } finally {
    await browser.close();
  }
  return { seen, screenshots };
}

const args = parseArgs(process.argv.slice(2));
await report(() => run(args), { post: args.post, query: args.query });
