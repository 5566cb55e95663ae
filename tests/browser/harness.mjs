// What both browser scripts share: Debian's Chromium and its flags, the list of checks, and the one
// JSON summary each prints (exit 1 when a check failed, 2 when the run itself broke).
import { chromium } from "playwright-core";

const CHROMIUM = process.env.CASEBOOK_CHROMIUM || "/usr/bin/chromium";
// Without the background-networking flags Chromium keeps dialling Google's hosts on a closed network.
const ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync"];

export const checks = [];

/** Record one reader-level check; `detail` says what was seen. */
export function check(name, ok, detail = "") {
  checks.push({ name, ok: Boolean(ok), detail: typeof detail === "string" ? detail : JSON.stringify(detail) });
}

/** Debian's Chromium, headless, never a browser of Playwright's own. */
export function launch() {
  return chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true });
}

/** Run the script's checks and print the summary with `fields`; exit 1 on a failed check, 2 on a crash. */
export async function report(run, fields) {
  let extra = {};
  let crashed = null;
  try {
    extra = await run();
  } catch (err) {
    crashed = String((err && err.stack) || err);
  }
  const ok = !crashed && checks.length > 0 && checks.every((c) => c.ok);
  console.log(JSON.stringify({ ok, ...fields, checks, ...extra, error: crashed }, null, 2));
  process.exit(crashed ? 2 : ok ? 0 : 1);
}
