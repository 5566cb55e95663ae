// Reads the "Related posts" list that casebook-related.html rendered into Hugo-built post pages, in
// headless Debian Chromium, and follows every link.
//
//   node related.spec.mjs SITE_URL OUT_DIR --pages /posts/a/,/series/s/b/ --new /posts/new/ [--label fixture]
//
// --pages are posts the exported data knows (Casebook's list expected); --new is a post written after the
// export (Hugo's own list expected). Prints one JSON summary ({ok, checks, pages: {path: {from, links}}});
// exit 1 when a check fails, 2 when the run broke. Run by tests/browser/test_blog_browser.py.
import { mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { join, resolve } from "node:path";
import { check, launch, report } from "./harness.mjs";

const require = createRequire(import.meta.url);
const AXE = require.resolve("axe-core/axe.min.js");

function parseArgs(argv) {
  const positional = [];
  const options = { pages: "", new: "", label: "blog" };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i].startsWith("--")) options[argv[i].slice(2)] = argv[++i];
    else positional.push(argv[i]);
  }
  if (positional.length !== 2 || !options.pages || !options.new) {
    console.error("usage: node related.spec.mjs SITE_URL OUT_DIR --pages P1,P2,... --new PATH [--label NAME]");
    process.exit(2);
  }
  return { site: positional[0].replace(/\/+$/, ""), outDir: resolve(positional[1]), ...options,
    pages: options.pages.split(",") };
}

/** The related list as a reader meets it: where it came from, its heading, and each link's text and target. */
const readList = (page) => page.evaluate(() => {
  const nav = document.querySelector("nav.casebook-related");
  if (!nav) return null;
  const heading = document.getElementById(nav.getAttribute("aria-labelledby"));
  return { from: nav.dataset.casebookRelated, heading: heading ? heading.textContent : null,
    links: [...nav.querySelectorAll("li a")].map((a) => ({ title: a.textContent, href: a.href })) };
});

async function seriousViolations(page) {
  await page.addScriptTag({ path: AXE });
  const found = await page.evaluate(async () => (await window.axe.run(document, { resultTypes: ["violations"] }))
    .violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(" ")) })));
  return found.filter((v) => v.impact === "serious" || v.impact === "critical");
}

async function run({ site, outDir, pages, new: fresh, label }) {
  mkdirSync(outDir, { recursive: true });
  const browser = await launch();
  const pageErrors = [];
  const seen = {};
  const screenshots = [];
  try {
    const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    page.on("pageerror", (e) => pageErrors.push(String(e)));
    for (const path of [...pages, fresh]) {
      await page.goto(site + path, { waitUntil: "domcontentloaded" });
      seen[path] = await readList(page);
      if (path === pages[0]) {
        const axe = await seriousViolations(page);
        check("axe_post_with_related_list_no_serious_violations", axe.length === 0, axe);
        const nav = page.locator("nav.casebook-related");
        if (await nav.count()) {
          await nav.scrollIntoViewIfNeeded();
          await page.screenshot({ path: join(outDir, `${label}.png`) });
          screenshots.push(`${label}.png`);
        }
      }
    }
    check("casebook_list_on_each_known_post", pages.every((p) => seen[p] && seen[p].from === "casebook"
      && seen[p].heading === "Related posts" && seen[p].links.length > 0),
      pages.map((p) => [p, seen[p] && seen[p].from, seen[p] && seen[p].links.length]));
    check("hugo_list_on_the_post_written_after_the_export", seen[fresh] && seen[fresh].from === "hugo"
      && seen[fresh].links.length > 0, seen[fresh]);

    // Every link leads to a page of the built site whose heading is the link's text.
    const broken = [];
    const links = Object.values(seen).flatMap((list) => (list ? list.links : []));
    for (const link of links) {
      const response = await page.goto(link.href, { waitUntil: "domcontentloaded" });
      const heading = await page.evaluate(() => document.querySelector("h1")?.textContent.trim());
      if (!response || response.status() !== 200 || !link.href.startsWith(site) || heading !== link.title) {
        broken.push({ ...link, status: response && response.status(), heading });
      }
    }
    check("every_link_leads_to_a_built_page", links.length > 0 && broken.length === 0, broken.length ? broken : links.length);
    check("no_page_errors", pageErrors.length === 0, pageErrors.join(" | "));
  } finally {
    await browser.close();
  }
  return { pages: seen, screenshots };
}

const args = parseArgs(process.argv.slice(2));
await report(() => run(args), { site: args.site });
