// The authors' page (/authors): reads /api/authors with the sign-in cookie and renders it. Everything the report
// holds, readers' questions above all, goes into the page as text, never as HTML, and links go only to http(s)
// addresses. No inline script or style: the service's Content-Security-Policy allows neither.
"use strict";

(() => {
  const SVG = "http://www.w3.org/2000/svg";
  const $ = (id) => document.getElementById(id);

  /** An element with attributes (`text` sets its text) and children (strings become text nodes). */
  function el(tag, attributes = {}, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes)) {
      if (name === "text") node.textContent = value;
      else node.setAttribute(name, value);
    }
    node.append(...children);
    return node;
  }

  /** A link to a post, or its plain text when the address is not http(s). */
  function link(url, text) {
    try {
      const href = new URL(url, location.href);
      if (href.protocol === "http:" || href.protocol === "https:") return el("a", { href: href.href, text });
    } catch (e) { /* not an address */ }
    return el("span", { text });
  }

  const plural = (n, one, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
  const day = (iso) => (iso || "").slice(0, 10);

  /** Times asked per week as small columns; its name reads every week's count. */
  function weekChart(weeks, weekly) {
    const counts = weeks.map((week) => weekly[week] || 0);
    const top = Math.max(1, ...counts);
    const width = 10;
    const step = 14;
    const height = 32;
    const chart = document.createElementNS(SVG, "svg");
    chart.setAttribute("viewBox", `0 0 ${weeks.length * step} ${height + 1}`);
    chart.setAttribute("class", "chart");
    chart.setAttribute("role", "img");
    chart.setAttribute("aria-label", "Times asked per week: "
      + weeks.map((week, i) => `week of ${week}, ${counts[i]}`).join("; "));
    counts.forEach((count, i) => {
      const tall = count ? Math.max(3, Math.round((height * count) / top)) : 1;
      const bar = document.createElementNS(SVG, "rect");
      bar.setAttribute("x", String(i * step));
      bar.setAttribute("y", String(height + 1 - tall));
      bar.setAttribute("width", String(width));
      bar.setAttribute("height", String(tall));
      bar.setAttribute("class", count ? "bar" : "bar none");
      const title = document.createElementNS(SVG, "title");
      title.textContent = `Week of ${weeks[i]}: ${count}`;
      bar.append(title);
      chart.append(bar);
    });
    return chart;
  }

  function renderGaps(report) {
    const list = $("gap-groups");
    if (!report.gap_log) {
      $("gaps-summary").textContent = "The service keeps no log of questions (CASEBOOK_GAP_LOG=off), so there is "
        + "nothing to show here.";
      return;
    }
    const since = report.weeks[0];
    $("gaps-summary").textContent = report.unanswered
      ? `${plural(report.unanswered, "unanswered question")} since the week of ${since}, grouped by meaning; `
        + `the ${plural(report.gaps.length, "most asked group")}. Each could be a new post, or a post to extend.`
      : `No unanswered questions since the week of ${since}.`;
    for (const group of report.gaps) {
      const item = el("li", { class: "gap" });
      item.append(el("h3", { text: `“${group.examples[0]}”` }));
      const wordings = group.wordings > 1 ? `, ${plural(group.wordings, "wording")}` : "";
      const when = day(group.first_asked) === day(group.last_asked) ? day(group.first_asked)
        : `${day(group.first_asked)} to ${day(group.last_asked)}`;
      item.append(el("p", { class: "meta", text: `Asked ${group.asked}×${wordings}, ${when}` }));
      item.append(weekChart(report.weeks, group.weekly));
      const busiest = Math.max(...report.weeks.map((week) => group.weekly[week] || 0));
      item.append(el("p", { class: "axis", "aria-hidden": "true",
        text: `${report.weeks.length} weeks, ${report.weeks[0]} to ${report.weeks[report.weeks.length - 1]}; `
          + `most in one week: ${busiest}` }));
      if (group.examples.length > 1) {
        item.append(el("p", { class: "also", text: "Also asked as:" }),
          el("ul", {}, ...group.examples.slice(1).map((text) => el("li", { text: `“${text}”` }))));
      }
      const closest = el("p", { class: "closest" }, "Closest posts: ");
      group.closest.forEach((post, i) => {
        if (i) closest.append("; ");
        closest.append(link(post.url, post.title), ` (${post.score.toFixed(2)})`);
      });
      if (!group.closest.length) closest.append("none");
      item.append(closest);
      list.append(item);
    }
  }

  function renderAsked(report) {
    const rows = $("asked-rows");
    $("asked-summary").textContent = report.most_asked.length
      ? `Answered or not, since the week of ${report.weeks[0]}; a question differing only in case or spacing counts once.`
      : "No questions were asked in these weeks.";
    for (const question of report.most_asked) {
      rows.append(el("tr", {},
        el("td", { text: question.query }),
        el("td", { class: "num", text: String(question.asked) }),
        el("td", { text: question.last_asked }),
        el("td", { class: question.answered ? "yes" : "no", text: question.answered ? "yes" : "no" })));
    }
  }

  function renderChange(report) {
    const change = report.change;
    const list = $("change-list");
    if (!change.previous) {
      $("change-summary").textContent = "The index keeps no earlier version to compare this one with.";
      return;
    }
    const missing = new Map(report.crosslinks.posts.map((post) => [post.path, post.suggestions.length]));
    $("change-summary").textContent = `Version ${report.version} against ${change.previous}: `
      + `${change.added.length} added, ${change.edited.length} edited, ${change.removed.length} removed.`;
    const row = (kind, page) => {
      const item = el("li", {}, el("span", { class: `kind ${kind}`, text: kind }), " ", link(page.url, page.title));
      const count = missing.get(page.path);
      if (count) item.append(` (${plural(count, "link")} to add)`);
      return item;
    };
    change.added.forEach((page) => list.append(row("added", page)));
    change.edited.forEach((page) => list.append(row("edited", page)));
    change.removed.forEach((path) => list.append(el("li", {}, el("span", { class: "kind removed", text: "removed" }),
      " ", el("code", { text: path }))));
  }

  function renderLinks(report) {
    const links = report.crosslinks;
    $("links-summary").textContent = `${plural(links.posts.length, "post")} of ${report.articles} could link to `
      + `posts they do not link to yet (suggestions scoring at least ${links.min_score.toFixed(2)}, the chance the `
      + "author would link them), with the best matching pair of sections.";
    const holder = $("link-posts");
    for (const post of links.posts) {
      const block = el("article", { class: "link-post" });
      block.append(el("h3", {}, link(post.url, post.title)), el("p", { class: "path" }, el("code", { text: post.path })));
      block.append(el("ul", {}, ...post.suggestions.map((s) => el("li", {}, link(s.url, s.title),
        el("span", { class: "score", text: ` ${s.score.toFixed(2)}` }), el("span", { class: "reason", text: s.reason })))));
      holder.append(block);
    }
    const orphans = $("orphan-list");
    if (!links.orphans.length) orphans.append(el("li", { text: "None: every post has a link to it." }));
    for (const page of links.orphans) orphans.append(el("li", {}, link(page.url, page.title), " ", el("code", { text: page.path })));
  }

  async function load() {
    const status = $("status");
    const main = $("main");
    try {
      const response = await fetch("/api/authors", { credentials: "same-origin", headers: { Accept: "application/json" } });
      if (response.status === 401) {
        status.textContent = "Your sign-in has ended. Reload the page to sign in again.";
        return;
      }
      if (!response.ok) {
        const body = await response.json().catch(() => ({}));
        status.textContent = `The report could not be made: ${body.detail || response.statusText}`;
        return;
      }
      const report = await response.json();
      $("version").textContent = `Index version ${report.version}, ${plural(report.articles, "article")}.`;
      renderGaps(report);
      renderAsked(report);
      renderChange(report);
      renderLinks(report);
      status.textContent = "Report loaded.";
      status.classList.add("done");
    } catch (error) {
      status.textContent = `The report could not be loaded: ${error.message}`;
    } finally {
      main.setAttribute("aria-busy", "false");
    }
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", load);
  else load();
})();
