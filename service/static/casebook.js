/* Casebook search: one script for the search page and for every blog that embeds it.
 *
 *   <a href="https://search.example.com/" data-casebook-open>Search</a>      (a ⌘K search dialog)
 *   <div id="casebook-search"></div>                                          (a search box in the page)
 *   <script src="https://search.example.com/static/casebook.js"
 *           data-casebook-api="https://search.example.com" defer></script>
 *
 * The dialog: ⌘K / Ctrl-K anywhere, "/" when the reader is not typing, or any [data-casebook-open]
 * element (turned into a button) opens it; on a page that has a search box, those keys focus the
 * box instead. data-casebook-modal="off" on the script tag turns the dialog off.
 *
 * The box mounts into #casebook-search and every [data-casebook-search] element. Both call the API
 * at data-casebook-api (default: this script's own origin), one /api/ask request per query, which
 * returns the ranked passages and, from the same ranking, the blog's answer; casebook.css is linked
 * from beside this script. Options on the box (all optional): data-casebook-k="10",
 * data-casebook-history="off" (do not keep ?q= in the address bar),
 * data-casebook-examples="query one|query two", data-casebook-placeholder="...",
 * data-casebook-autofocus, data-casebook-theme="light|dark",
 * data-casebook-site="https://blog.example.com" (base for post URLs the API sends as relative paths;
 * on the script tag it applies to the dialog).
 *
 * Safety rule: every string from the API is inserted with textContent. The one exception is a
 * passage's `snippet`, which the server escapes except for <mark>; even that is parsed inertly
 * and rebuilt from text and <mark> only, so a post containing <script> shows it as text.
 */
(function () {
  "use strict";
  if (window.Casebook) return; // the script tag was included twice; the first copy mounts every box

  const SCRIPT = document.currentScript;
  const SCRIPT_URL = new URL((SCRIPT && SCRIPT.src) || "/static/casebook.js", location.href);
  const API_BASE = ((SCRIPT && SCRIPT.dataset.casebookApi) || SCRIPT_URL.origin).replace(/\/+$/, "");
  const CSS_URL = new URL("casebook.css", SCRIPT_URL).href;
  const MODAL_ON = !(SCRIPT && SCRIPT.dataset.casebookModal === "off");
  const MODAL_SITE = (SCRIPT && SCRIPT.dataset.casebookSite) || "";
  const DEBOUNCE_MS = 200;
  const MODAL_K = 8;
  const SECTIONS = [["", "All sections"], ["posts", "Posts"], ["series", "Series"],
    ["radar", "Radar"], ["research", "Research"]];
  const QUESTION = /\?\s*$|^\s*(how|what|why|when|which|who|does|is|can)\b/i;
  const MAC = /Mac|iPhone|iPad/.test(navigator.platform || navigator.userAgent || "");

  let instanceCount = 0;
  const instances = [];

  /* ---------- small DOM and HTTP helpers ---------- */

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  /** Only http(s) links survive; anything else (javascript:, data:) becomes null. */
  function safeHref(url, base) {
    if (!url) return null;
    try {
      const parsed = new URL(url, base || document.baseURI);
      return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.href : null;
    } catch (_) {
      return null;
    }
  }

  /** A link when the URL is safe, plain text otherwise; nav links take part in arrow-key moves. */
  function link(url, className, text, base) {
    const href = safeHref(url, base);
    const node = el(href ? "a" : "span", className, text);
    if (href) {
      node.href = href;
      node.classList.add("cb-nav");
    }
    return node;
  }

  /** The snippet as nodes: parsed in an inert <template>, kept as text plus <mark> only. */
  function snippetNodes(html) {
    const template = document.createElement("template");
    template.innerHTML = html;
    const out = document.createDocumentFragment();
    (function copy(from, to) {
      for (const child of from.childNodes) {
        if (child.nodeType === Node.TEXT_NODE) {
          to.appendChild(document.createTextNode(child.nodeValue));
        } else if (child.nodeType === Node.ELEMENT_NODE) {
          if (child.localName === "mark") copy(child, to.appendChild(el("mark")));
          else to.appendChild(document.createTextNode(child.textContent));
        }
      }
    })(template.content, out);
    return out;
  }

  function formatDate(value) {
    if (!value) return "";
    const date = new Date(value);
    if (Number.isNaN(date.getTime())) return "";
    return date.toLocaleDateString(undefined, { year: "numeric", month: "short", day: "numeric" });
  }

  function plural(n, word) {
    return n + " " + word + (n === 1 ? "" : "s");
  }

  function headingText(heading) {
    return heading ? heading.replace(/ > /g, " › ") : "Introduction";
  }

  /** Whether the reader is typing somewhere, so a one-key shortcut must not fire. */
  function isTyping(target) {
    return Boolean(target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName)));
  }

  class ApiError extends Error {
    constructor(message, status) {
      super(message);
      this.status = status;
    }
  }

  /** FastAPI sends detail as a string, or as a list of {msg} for validation errors. */
  function detailOf(body) {
    if (!body || body.detail === undefined) return "";
    if (typeof body.detail === "string") return body.detail;
    if (Array.isArray(body.detail)) return body.detail.map((d) => (d && d.msg) || String(d)).join("; ");
    return String(body.detail);
  }

  async function getJSON(path, params, signal) {
    const url = new URL(API_BASE + path);
    for (const [key, value] of Object.entries(params || {})) {
      if (value !== "" && value !== null && value !== undefined && value !== false) url.searchParams.set(key, value);
    }
    let response;
    try {
      response = await fetch(url, { signal, headers: { Accept: "application/json" } });
    } catch (err) {
      if (err.name === "AbortError") throw err;
      throw new ApiError("Search is unreachable right now. Check your connection and try again.", 0);
    }
    let body = null;
    try {
      body = await response.json();
    } catch (_) {
      body = null;
    }
    if (!response.ok) {
      const message = response.status < 500 && detailOf(body);
      throw new ApiError(message || "Search failed (HTTP " + response.status + "). Please try again.",
        response.status);
    }
    return body;
  }

  /**
   * One /api/ask at a time for a search box: a new question cancels the one in flight, only the newest
   * answer is shown, and `root` carries cb-is-loading while it is on its way.
   */
  class LatestAsk {
    constructor(root) {
      this.root = root;
      this.seq = 0;
      this.controller = null;
    }

    cancel() {
      if (this.controller) this.controller.abort();
      this.controller = null;
      this.seq++;
    }

    async ask(params, show, fail) {
      this.cancel();
      const seq = this.seq;
      const controller = new AbortController();
      this.controller = controller;
      this.root.classList.add("cb-is-loading");
      try {
        const data = await getJSON("/api/ask", params, controller.signal);
        if (seq === this.seq) show(data || {});
      } catch (err) {
        if (err.name !== "AbortError" && seq === this.seq) fail(err);
      } finally {
        if (seq === this.seq) this.root.classList.remove("cb-is-loading");
      }
    }
  }

  /* ---------- pieces both the box and the dialog show ---------- */

  /** The answer paragraph: each [n] becomes a link to citations[n-1]; unknown markers stay text. */
  function answerText(data, base) {
    const text = String(data.answer || "");
    const citations = Array.isArray(data.citations) ? data.citations : [];
    const paragraph = el("p", "cb-answer-text");
    let cursor = 0;
    for (const match of text.matchAll(/\[(\d+)\]/g)) {
      const cited = citations[Number(match[1]) - 1];
      const href = cited && safeHref(cited.url, base);
      if (!href) continue;
      paragraph.appendChild(document.createTextNode(text.slice(cursor, match.index)));
      const marker = el("a", "cb-cite cb-nav", match[0]);
      marker.href = href;
      marker.setAttribute("aria-label", "source " + match[1] + ": " + (cited.title || cited.path || "")
        + (cited.heading ? ", " + headingText(cited.heading) : ""));
      paragraph.appendChild(marker);
      cursor = match.index + match[0].length;
    }
    paragraph.appendChild(document.createTextNode(text.slice(cursor)));
    return paragraph;
  }

  /** The answer panel's content: the answer with its numbered sources, or a plain "not answered". */
  function answerNodes(data, base, asked) {
    if (!data.found) {
      if (!asked) return null;
      return [el("p", "cb-eyebrow", "Answer"),
        el("p", "cb-answer-none", "The blog does not answer this directly. The closest passages are below.")];
    }
    const head = el("p", "cb-eyebrow", "Answer from the blog");
    if (typeof data.confidence === "number" && data.confidence >= 0 && data.confidence <= 1) {
      // Calibrated (docs/answers.md): of answers given at this confidence, about this share held the
      // question's main point on questions nobody tuned on.
      const percent = Math.round(data.confidence * 100);
      const badge = el("span", "cb-confidence", percent + "% confident");
      badge.title = "About " + percent + " in 100 answers given with this confidence held the question's main " +
        "point when we checked them against judged questions.";
      head.appendChild(badge);
    }
    const parts = [head, answerText(data, base)];
    const citations = Array.isArray(data.citations) ? data.citations : [];
    if (citations.length) {
      const list = el("ol", "cb-citations");
      list.setAttribute("aria-label", "Sources");
      citations.forEach((c, i) => {
        const li = el("li", "cb-citation");
        const source = el("span", "cb-citation-source");
        source.appendChild(link(c.url, "cb-citation-link", c.title || c.path, base));
        if (c.heading) source.append(" ", el("span", "cb-citation-heading", headingText(c.heading)));
        li.append(el("span", "cb-citation-n", "[" + (i + 1) + "]"), source);
        list.appendChild(li);
      });
      parts.push(list);
    }
    return parts;
  }

  /** "Showing results for …" with a button that searches the words as typed; null when nothing was corrected. */
  function correctionNodes(data, onExact) {
    if (!data.corrected_query) return null;
    const line = el("p", "cb-correction");
    line.append("Showing results for ", el("strong", "cb-corrected", data.corrected_query), ". ");
    const exact = el("button", "cb-linklike", "Search for “" + data.query + "” instead");
    exact.type = "button";
    exact.addEventListener("click", onExact);
    line.appendChild(exact);
    return line;
  }

  /** Why a passage was found, in a reader's words: "matched: oceanbase, paxos · also found by meaning". */
  function whyText(why) {
    if (!why) return "";
    const matched = Array.isArray(why.matched) ? why.matched : [];
    const found = new Map((why.found_by || []).map((f) => [f.retriever, f.rank]));
    const parts = [];
    if (matched.length) parts.push("matched: " + matched.join(", "));
    if (found.has("semantic")) parts.push((matched.length ? "also " : "") + "found by meaning");
    if (found.has("whole_post")) parts.push("its post matches your words as a whole");
    if (found.has("feedback")) parts.push("its post shares words with the best matches");
    const ranks = [["lexical", "words"], ["semantic", "meaning"], ["whole_post", "whole post"],
      ["feedback", "whole post"]].filter(([key]) => found.has(key)).map(([key, name]) => name + " #" + found.get(key));
    if (ranks.length) parts.push("ranked " + ranks.join(", "));
    return parts.join(" · ");
  }

  /** Passages grouped under their post: posts in the server's order, then posts only seen in passages. */
  function groupByPost(data) {
    const passages = Array.isArray(data.passages) ? data.passages.slice() : [];
    passages.sort((a, b) => (a.rank || 0) - (b.rank || 0));
    const groups = new Map();
    for (const post of Array.isArray(data.posts) ? data.posts : []) groups.set(post.path, { post, passages: [] });
    for (const p of passages) {
      if (!groups.has(p.path)) {
        const url = (p.url || "").split("#")[0];
        groups.set(p.path, { post: { path: p.path, title: p.title, url, series: p.series }, passages: [] });
      }
      groups.get(p.path).passages.push(p);
    }
    return { passages, groups: Array.from(groups.values()) };
  }

  /* ---------- one mounted search box ---------- */

  class CasebookSearch {
    constructor(host) {
      const id = "cb" + ++instanceCount;
      this.id = id;
      const data = host.dataset;
      this.k = data.casebookK || "";
      this.keepHistory = data.casebookHistory !== "off";
      this.site = data.casebookSite || "";
      this.timer = 0;
      this.exact = false;
      this.seriesBySlug = new Map();
      this.last = null;

      this.root = el("div", "casebook");
      this.request = new LatestAsk(this.root);
      this.root.dataset.state = "idle";
      if (data.casebookTheme) this.root.dataset.theme = data.casebookTheme;

      const form = el("form", "cb-form");
      form.setAttribute("role", "search");
      form.noValidate = true;
      const label = el("label", "cb-visually-hidden", "Search the blog");
      label.htmlFor = id + "-q";
      const box = el("div", "cb-box");
      box.appendChild(icon());
      this.input = el("input", "cb-input");
      Object.assign(this.input, {
        id: id + "-q", type: "search", name: "q", autocomplete: "off", spellcheck: false,
        placeholder: data.casebookPlaceholder || "Search case studies, or ask a question",
      });
      this.input.setAttribute("enterkeyhint", "search");
      this.input.setAttribute("aria-controls", id + "-results");
      const hint = el("kbd", "cb-kbd", "/");
      hint.title = "Press / to search";
      box.append(this.input, hint);

      const filters = el("div", "cb-filters");
      this.seriesSelect = this.select(filters, id + "-series", "Series", [["", "All series"]]);
      this.sectionSelect = this.select(filters, id + "-section", "Section", SECTIONS);
      form.append(label, box, filters);

      this.status = el("p", "cb-status");
      this.status.setAttribute("role", "status");
      this.status.setAttribute("aria-live", "polite");
      this.correction = el("div", "cb-correction-slot");
      this.answer = el("section", "cb-answer");
      this.answer.setAttribute("aria-label", "Answer");
      this.answer.hidden = true;
      const body = el("div", "cb-body");
      this.results = el("div", "cb-results");
      this.results.id = id + "-results";
      this.seriesPanel = el("aside", "cb-series");
      this.seriesPanel.setAttribute("aria-label", "Matching series");
      this.seriesPanel.hidden = true;
      body.append(this.results, this.seriesPanel);
      this.root.append(form, this.status, this.correction, this.answer, body);
      host.replaceChildren(this.root);

      this.examples = (data.casebookExamples || "").split("|").map((s) => s.trim()).filter(Boolean);
      this.bind(form);
      this.restoreFromUrl();
      this.loadSeries();
      if (data.casebookAutofocus !== undefined && !this.input.value) this.input.focus();
      if (this.input.value.trim()) this.search();
      else this.renderIdle();
    }

    /** Relative post URLs resolve against data-casebook-site when set (the blog), else this page. */
    link(url, className, text) {
      return link(url, className, text, this.site);
    }

    select(parent, id, text, options) {
      const label = el("label", "cb-filter");
      label.htmlFor = id;
      label.appendChild(el("span", "cb-filter-label", text));
      const select = el("select", "cb-select");
      select.id = id;
      for (const [value, name] of options) select.appendChild(new Option(name, value));
      label.appendChild(select);
      parent.appendChild(label);
      return select;
    }

    bind(form) {
      form.addEventListener("submit", (e) => {
        e.preventDefault();
        this.search();
      });
      this.input.addEventListener("input", () => {
        this.exact = false;
        this.schedule();
      });
      this.seriesSelect.addEventListener("change", () => this.search());
      this.sectionSelect.addEventListener("change", () => this.search());
      this.root.addEventListener("keydown", (e) => this.onKeydown(e));
    }

    onKeydown(e) {
      if (e.key === "Escape") {
        e.preventDefault();
        this.clear();
        return;
      }
      if (e.key !== "ArrowDown" && e.key !== "ArrowUp") return;
      const onInput = e.target === this.input;
      const links = Array.from(this.root.querySelectorAll("a.cb-nav")).filter((a) => a.offsetParent !== null);
      const at = links.indexOf(e.target);
      if (!onInput && at < 0) return; // leave arrows alone in the selects
      e.preventDefault();
      if (onInput) {
        if (e.key === "ArrowDown" && links.length) links[0].focus();
      } else if (e.key === "ArrowDown") {
        if (at + 1 < links.length) links[at + 1].focus();
      } else if (at === 0) {
        this.input.focus();
      } else {
        links[at - 1].focus();
      }
    }

    focus() {
      this.input.focus();
      this.input.select();
    }

    clear() {
      this.input.value = "";
      this.exact = false;
      this.search();
      this.input.focus();
    }

    restoreFromUrl() {
      if (!this.keepHistory) return;
      const params = new URLSearchParams(location.search);
      this.input.value = params.get("q") || "";
      this.exact = params.get("exact") === "true";
      const series = params.get("series");
      if (series) {
        this.seriesSelect.appendChild(new Option(series, series));
        this.seriesSelect.value = series;
      }
      if (SECTIONS.some(([value]) => value && value === params.get("section"))) {
        this.sectionSelect.value = params.get("section");
      }
    }

    syncUrl(q) {
      if (!this.keepHistory) return;
      const url = new URL(location.href);
      const pairs = { q, series: this.seriesSelect.value, section: this.sectionSelect.value,
        exact: this.exact && q ? "true" : "" };
      for (const [key, value] of Object.entries(pairs)) {
        if (value) url.searchParams.set(key, value);
        else url.searchParams.delete(key);
      }
      if (url.href !== location.href) history.replaceState(history.state, "", url);
    }

    async loadSeries() {
      let data;
      try {
        data = await getJSON("/api/series");
      } catch (_) {
        return; // the filter keeps "All series"; search still works
      }
      const chosen = this.seriesSelect.value;
      const list = (data && data.series) || [];
      this.seriesBySlug = new Map(list.map((s) => [s.slug, s]));
      const options = [new Option("All series", "")];
      for (const s of list) options.push(new Option(s.title || s.slug, s.slug));
      this.seriesSelect.replaceChildren(...options);
      this.seriesSelect.value = this.seriesBySlug.has(chosen) ? chosen : "";
      if (chosen && !this.seriesBySlug.has(chosen)) {
        this.seriesSelect.appendChild(new Option(chosen, chosen));
        this.seriesSelect.value = chosen; // let the server say "unknown series"
      }
      if (this.last) this.renderSeries(this.last);
    }

    schedule() {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.search(), DEBOUNCE_MS);
    }

    /** Run the search now: one /api/ask request ranks once and answers from that ranking. */
    async search() {
      clearTimeout(this.timer);
      const q = this.input.value.trim();
      this.syncUrl(q);
      if (!q) {
        this.request.cancel();
        this.renderIdle();
        return;
      }
      const params = { q, k: this.k, series: this.seriesSelect.value, section: this.sectionSelect.value,
        exact: this.exact };
      await this.request.ask(params, (data) => this.renderResults(q, data), (err) => this.renderError(err));
    }

    /** Search again for the words exactly as typed (the link under "Showing results for …"). */
    searchExact() {
      this.exact = true;
      this.search();
      this.input.focus();
    }

    /* ---------- rendering ---------- */

    setState(state, q) {
      this.root.dataset.state = state;
      if (q === undefined) delete this.root.dataset.query;
      else this.root.dataset.query = q;
    }

    hideAnswer() {
      this.answer.hidden = true;
      this.answer.replaceChildren();
      delete this.answer.dataset.state;
    }

    renderIdle() {
      this.last = null;
      this.setState("idle");
      this.hideAnswer();
      this.correction.replaceChildren();
      this.status.textContent = "";
      this.seriesPanel.hidden = true;
      this.seriesPanel.replaceChildren();
      const empty = el("div", "cb-empty");
      empty.append(el("p", "cb-empty-title", "Search every case study, passage by passage."),
        el("p", "cb-empty-text", "Results appear as you type; a question also gets a direct answer with citations."));
      if (this.examples.length) {
        const row = el("p", "cb-examples");
        row.appendChild(el("span", "cb-examples-label", "Try"));
        for (const example of this.examples) {
          const button = el("button", "cb-chip", example);
          button.type = "button";
          button.addEventListener("click", () => {
            this.input.value = example;
            this.exact = false;
            this.search();
            this.input.focus();
          });
          row.appendChild(button);
        }
        empty.appendChild(row);
      }
      this.results.replaceChildren(empty);
    }

    renderError(err) {
      this.last = null;
      this.setState("error", this.input.value.trim());
      this.hideAnswer();
      this.correction.replaceChildren();
      this.status.textContent = "";
      this.seriesPanel.hidden = true;
      const box = el("div", "cb-error");
      box.setAttribute("role", "alert");
      box.append(el("p", "cb-error-title", err.status ? "That search didn’t work" : "Search is offline"),
        el("p", "cb-error-detail", err.message));
      this.results.replaceChildren(box);
    }

    seriesTitle(slug) {
      const s = this.seriesBySlug.get(slug);
      return (s && s.title) || slug;
    }

    renderResults(q, data) {
      const { passages, groups } = groupByPost(data);
      this.last = data;
      this.renderAnswer(data, q);
      const correction = correctionNodes(data, () => this.searchExact());
      this.correction.replaceChildren(...(correction ? [correction] : []));

      if (!groups.length) {
        this.setState("empty", q);
        this.status.textContent = "";
        const filtered = this.seriesSelect.value || this.sectionSelect.value;
        const empty = el("div", "cb-empty");
        empty.append(el("p", "cb-empty-title", "No passages match “" + q + "”."),
          el("p", "cb-empty-text", filtered ? "Try clearing the series or section filter." : "Try fewer or different words."));
        this.results.replaceChildren(empty);
        this.renderSeries(data);
        return;
      }

      // Posts that rank but bring no passage of their own go in a compact list below the cards.
      const withPassages = groups.filter((g) => g.passages.length);
      const rest = groups.filter((g) => !g.passages.length);
      const list = el("ol", "cb-posts");
      for (const { post, passages: hits } of withPassages) list.appendChild(this.renderPost(post, hits));
      const blocks = [list];
      if (rest.length) {
        const more = el("section", "cb-more");
        more.appendChild(el("h2", "cb-eyebrow", "More related posts"));
        const items = el("ul", "cb-more-list");
        for (const { post } of rest) {
          const li = el("li", "cb-more-item");
          li.appendChild(this.link(post.url, "cb-more-link", post.title || post.path));
          const date = formatDate(post.date);
          if (date) li.appendChild(el("span", "cb-more-date", date));
          items.appendChild(li);
        }
        more.appendChild(items);
        blocks.push(more);
      }
      this.results.replaceChildren(...blocks);
      let status = plural(passages.length, "passage") + " in " + plural(withPassages.length, "post");
      if (typeof data.took_ms === "number") status += " · " + (data.took_ms < 1 ? "<1" : Math.round(data.took_ms)) + " ms";
      this.status.textContent = status;
      this.renderSeries(data);
      this.setState("results", q);
    }

    renderPost(post, hits) {
      const item = el("li", "cb-post");
      const head = el("div", "cb-post-head");
      const title = el("h3", "cb-post-title");
      title.appendChild(this.link(post.url, "cb-post-link", post.title || post.path));
      head.appendChild(title);
      const meta = [];
      for (const slug of post.series || []) meta.push(this.seriesTitle(slug));
      const date = formatDate(post.date);
      if (date) meta.push(date);
      if (meta.length) head.appendChild(el("p", "cb-post-meta", meta.join(" · ")));
      item.appendChild(head);
      if (!hits.length) return item;
      const list = el("ol", "cb-passages");
      for (const p of hits) list.appendChild(this.renderPassage(p));
      item.appendChild(list);
      return item;
    }

    renderPassage(p) {
      const row = el("li", "cb-passage");
      const top = el("div", "cb-passage-top");
      const heading = this.link(p.url, "cb-passage-link", headingText(p.heading));
      heading.dataset.anchor = p.heading ? "heading" : "none";
      top.appendChild(heading);
      const why = whyText(p.why);
      let detail = null;
      if (why) {
        const toggle = el("button", "cb-why-toggle", "Why?");
        toggle.type = "button";
        detail = el("p", "cb-why", why);
        detail.id = this.id + "-why-" + p.rank;
        detail.hidden = true;
        toggle.setAttribute("aria-expanded", "false");
        toggle.setAttribute("aria-controls", detail.id);
        toggle.setAttribute("aria-label", "Why this result: " + headingText(p.heading));
        toggle.addEventListener("click", () => {
          detail.hidden = !detail.hidden;
          toggle.setAttribute("aria-expanded", String(!detail.hidden));
        });
        top.appendChild(toggle);
      }
      row.appendChild(top);
      if (detail) row.appendChild(detail);
      const snippet = el("p", "cb-snippet");
      if (p.snippet) snippet.appendChild(snippetNodes(p.snippet));
      else snippet.textContent = p.text || "";
      row.appendChild(snippet);
      return row;
    }

    renderSeries(data) {
      const matched = Array.isArray(data.series) ? data.series : [];
      if (!matched.length) {
        this.seriesPanel.hidden = true;
        this.seriesPanel.replaceChildren();
        return;
      }
      // Titles for parts we only know by path, taken from this response. A part "matches" when
      // one of its passages is in the results; series.posts lists the series' parts, not hits.
      const known = new Map();
      for (const p of data.posts || []) known.set(p.path, { title: p.title, url: p.url });
      for (const p of data.passages || []) {
        if (!known.has(p.path)) known.set(p.path, { title: p.title, url: (p.url || "").split("#")[0] });
      }
      const hitPaths = new Set((data.passages || []).map((p) => p.path));

      const cards = [el("h2", "cb-series-heading", "Series")];
      for (const s of matched) {
        const full = this.seriesBySlug.get(s.slug);
        const parts = full && Array.isArray(full.posts) && full.posts.length
          ? full.posts
          : (s.posts || []).map((path) => Object.assign({ path }, known.get(path) || { title: path }));
        const card = el("section", "cb-series-card");
        const hits = parts.filter((part) => hitPaths.has(part.path)).length;
        card.appendChild(el("p", "cb-eyebrow", plural(parts.length, "part") + (hits ? " · " + hits + " matching" : "")));
        const title = el("h3", "cb-series-title");
        title.appendChild(this.link(s.url || (full && full.url), "cb-series-link", s.title || (full && full.title) || s.slug));
        card.appendChild(title);
        if (full && full.description) card.appendChild(el("p", "cb-series-desc", full.description));
        const list = el("ol", "cb-parts");
        for (const part of parts) {
          const hit = hitPaths.has(part.path);
          const li = el("li", "cb-part" + (hit ? " cb-part--hit" : ""));
          li.appendChild(this.link(part.url, "cb-part-link", part.title || part.path));
          if (hit) li.appendChild(el("span", "cb-visually-hidden", " (matches your search)"));
          list.appendChild(li);
        }
        card.appendChild(list);
        cards.push(card);
      }
      this.seriesPanel.replaceChildren(...cards);
      this.seriesPanel.hidden = false;
    }

    renderAnswer(data, q) {
      const nodes = answerNodes(data, this.site, QUESTION.test(q));
      if (!nodes) {
        this.hideAnswer();
        return;
      }
      this.answer.hidden = false;
      this.answer.dataset.state = data.found ? "answer" : "none";
      this.answer.replaceChildren(...nodes);
    }
  }

  function icon() {
    const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("class", "cb-icon");
    const path = document.createElementNS("http://www.w3.org/2000/svg", "path");
    path.setAttribute("d", "M10.5 3a7.5 7.5 0 0 1 5.9 12.1l4.2 4.2-1.4 1.4-4.2-4.2A7.5 7.5 0 1 1 10.5 3zm0 2a5.5 5.5 0 1 0 0 11 5.5 5.5 0 0 0 0-11z");
    svg.appendChild(path);
    return svg;
  }

  /* ---------- the ⌘K dialog ---------- */

  /**
   * A search dialog over any page: an ARIA combobox (the input) controlling a listbox of results,
   * grouped by post, each option a passage under its heading; the answer sits above the list.
   * Focus stays in the input while ↑/↓ move the active option (aria-activedescendant); Enter opens
   * it, Esc closes the dialog and gives focus back to where it was; Tab cycles inside the dialog.
   */
  class CasebookModal {
    constructor() {
      this.timer = 0;
      this.exact = false;
      this.options = [];
      this.active = -1;
      this.returnFocus = null;
      this.inerted = [];

      this.root = el("div", "casebook casebook-modal");
      this.request = new LatestAsk(this.root);
      this.root.hidden = true;
      this.root.dataset.state = "idle";
      const backdrop = el("div", "cb-backdrop");
      backdrop.addEventListener("click", () => this.close());
      this.dialog = el("div", "cb-dialog");
      this.dialog.setAttribute("role", "dialog");
      this.dialog.setAttribute("aria-modal", "true");
      this.dialog.setAttribute("aria-labelledby", "cbm-title");

      const title = el("h2", "cb-visually-hidden", "Search the blog");
      title.id = "cbm-title";
      const form = el("form", "cb-mform");
      form.setAttribute("role", "search");
      form.noValidate = true;
      form.addEventListener("submit", (e) => {
        e.preventDefault();
        this.openActive();
      });
      const label = el("label", "cb-visually-hidden", "Search the blog");
      label.htmlFor = "cbm-q";
      this.input = el("input", "cb-input cb-minput");
      Object.assign(this.input, { id: "cbm-q", type: "search", autocomplete: "off", spellcheck: false,
        placeholder: "Search case studies, or ask a question" });
      this.input.setAttribute("role", "combobox");
      this.input.setAttribute("aria-autocomplete", "list");
      this.input.setAttribute("aria-expanded", "false");
      this.input.setAttribute("aria-controls", "cbm-list");
      this.input.setAttribute("enterkeyhint", "go");
      const close = el("button", "cb-close", "Esc");
      close.type = "button";
      close.setAttribute("aria-label", "Esc: close search");
      close.addEventListener("click", () => this.close());
      const box = el("div", "cb-box cb-mbox");
      box.append(icon(), this.input, close);
      form.append(label, box);

      this.status = el("p", "cb-status cb-mstatus");
      this.status.setAttribute("role", "status");
      this.status.setAttribute("aria-live", "polite");
      this.correction = el("div", "cb-correction-slot");
      this.answer = el("section", "cb-answer cb-manswer");
      this.answer.setAttribute("aria-label", "Answer");
      this.answer.hidden = true;
      this.list = el("div", "cb-mlist");
      this.list.id = "cbm-list";
      this.list.setAttribute("role", "listbox");
      this.list.setAttribute("aria-label", "Results");
      this.message = el("div", "cb-mmessage");
      // The results scroll on their own; a keyboard can reach the region to scroll it (options take no focus).
      const body = el("div", "cb-mbody");
      body.setAttribute("role", "region");
      body.setAttribute("aria-label", "Search results");
      body.tabIndex = 0;
      body.append(this.status, this.correction, this.answer, this.list, this.message);

      const foot = el("div", "cb-mfoot");
      const keys = el("p", "cb-mkeys");
      for (const [key, what] of [["↑ ↓", "to choose"], ["↵", "to open"], ["esc", "to close"]]) {
        keys.append(el("kbd", "cb-kbd", key), " " + what + " ");
      }
      this.whyToggle = el("button", "cb-linklike cb-mwhy-toggle", "Why these results?");
      this.whyToggle.type = "button";
      this.whyToggle.setAttribute("aria-pressed", "false");
      this.whyToggle.addEventListener("click", () => {
        const on = this.root.classList.toggle("cb-show-why");
        this.whyToggle.setAttribute("aria-pressed", String(on));
      });
      foot.append(keys, this.whyToggle);

      this.dialog.append(title, form, body, foot);
      this.root.append(backdrop, this.dialog);
      this.input.addEventListener("input", () => {
        this.exact = false;
        clearTimeout(this.timer);
        this.timer = setTimeout(() => this.search(), DEBOUNCE_MS);
      });
      this.root.addEventListener("keydown", (e) => this.onKeydown(e));
      document.body.appendChild(this.root);
      this.renderIdle();
    }

    get isOpen() {
      return !this.root.hidden;
    }

    open() {
      if (this.isOpen) {
        this.input.focus();
        return;
      }
      this.returnFocus = document.activeElement;
      // The rest of the page is inert while the dialog is open: no focus, no clicks, hidden from screen readers.
      this.inerted = Array.from(document.body.children).filter((n) => n !== this.root && !n.inert);
      for (const node of this.inerted) node.inert = true;
      document.documentElement.classList.add("cb-modal-open");
      this.root.hidden = false;
      this.input.focus();
      this.input.select();
    }

    close() {
      if (!this.isOpen) return;
      clearTimeout(this.timer);
      this.root.hidden = true;
      for (const node of this.inerted) node.inert = false;
      this.inerted = [];
      document.documentElement.classList.remove("cb-modal-open");
      const back = this.returnFocus;
      this.returnFocus = null;
      if (back && back.isConnected && typeof back.focus === "function") back.focus();
    }

    toggle() {
      if (this.isOpen) this.close();
      else this.open();
    }

    onKeydown(e) {
      if (e.key === "Escape") {
        e.preventDefault();
        this.close();
      } else if (e.key === "Tab") {
        this.trapTab(e);
      } else if (e.target === this.input && (e.key === "ArrowDown" || e.key === "ArrowUp")) {
        e.preventDefault();
        if (this.options.length) this.setActive(this.active + (e.key === "ArrowDown" ? 1 : -1));
      } else if (e.target === this.input && e.key === "Enter") {
        e.preventDefault();
        this.openActive();
      }
    }

    /** Tab and Shift-Tab go round the dialog's own controls and never reach the page behind it. */
    trapTab(e) {
      const focusable = Array.from(this.dialog.querySelectorAll("input, button, a[href], [tabindex]:not([tabindex='-1'])"))
        .filter((n) => !n.disabled && n.offsetParent !== null);
      if (!focusable.length) return;
      const first = focusable[0];
      const last = focusable[focusable.length - 1];
      const inside = this.dialog.contains(document.activeElement);
      if (e.shiftKey && (document.activeElement === first || !inside)) {
        e.preventDefault();
        last.focus();
      } else if (!e.shiftKey && (document.activeElement === last || !inside)) {
        e.preventDefault();
        first.focus();
      }
    }

    setActive(index) {
      if (!this.options.length) return;
      const count = this.options.length;
      this.active = ((index % count) + count) % count;
      this.options.forEach((option, i) => option.setAttribute("aria-selected", String(i === this.active)));
      const option = this.options[this.active];
      this.input.setAttribute("aria-activedescendant", option.id);
      option.scrollIntoView({ block: "nearest" });
    }

    openActive() {
      const option = this.options[this.active] || this.options[0];
      if (option && option.dataset.href) location.assign(option.dataset.href);
    }

    async search() {
      clearTimeout(this.timer);
      const q = this.input.value.trim();
      if (!q) {
        this.request.cancel();
        this.renderIdle();
        return;
      }
      await this.request.ask({ q, k: MODAL_K, exact: this.exact }, (data) => this.render(q, data),
        (err) => this.renderError(q, err));
    }

    setState(state, q) {
      this.root.dataset.state = state;
      if (q === undefined) delete this.root.dataset.query;
      else this.root.dataset.query = q;
    }

    clearResults() {
      this.options = [];
      this.active = -1;
      this.list.replaceChildren();
      this.list.hidden = true;
      this.input.removeAttribute("aria-activedescendant");
      this.input.setAttribute("aria-expanded", "false");
      this.answer.hidden = true;
      this.answer.replaceChildren();
      this.correction.replaceChildren();
    }

    renderIdle() {
      this.setState("idle");
      this.clearResults();
      this.status.textContent = "";
      this.message.replaceChildren(el("p", "cb-empty-text",
        "Type keywords or a question; a question also gets a direct answer with its sources."));
    }

    renderError(q, err) {
      this.setState("error", q);
      this.clearResults();
      this.status.textContent = "";
      const box = el("div", "cb-error");
      box.setAttribute("role", "alert");
      box.append(el("p", "cb-error-title", err.status ? "That search didn’t work" : "Search is offline"),
        el("p", "cb-error-detail", err.message));
      this.message.replaceChildren(box);
    }

    render(q, data) {
      const { passages, groups } = groupByPost(data);
      this.clearResults();
      const correction = correctionNodes(data, () => {
        this.exact = true;
        this.search();
        this.input.focus();
      });
      if (correction) this.correction.appendChild(correction);
      const answer = answerNodes(data, MODAL_SITE, QUESTION.test(q));
      if (answer) {
        this.answer.replaceChildren(...answer);
        this.answer.dataset.state = data.found ? "answer" : "none";
        this.answer.hidden = false;
      }
      const shown = groups.filter((g) => g.passages.length);
      if (!shown.length) {
        this.setState("empty", q);
        this.status.textContent = "No results";
        const empty = el("div", "cb-empty");
        empty.append(el("p", "cb-empty-title", "No results for “" + q + "”"),
          el("p", "cb-empty-text", "Try fewer or different words."));
        this.message.replaceChildren(empty);
        return;
      }
      this.message.replaceChildren();
      shown.forEach(({ post, passages: hits }, g) => {
        const group = el("div", "cb-mgroup");
        group.setAttribute("role", "group");
        group.setAttribute("aria-label", post.title || post.path);
        const head = el("div", "cb-mgroup-title", post.title || post.path);
        head.setAttribute("aria-hidden", "true");
        group.appendChild(head);
        hits.forEach((p, i) => group.appendChild(this.option(p, "cbm-o" + g + "-" + i)));
        this.list.appendChild(group);
      });
      this.options = Array.from(this.list.querySelectorAll("[role=option]"));
      this.list.hidden = false;
      this.input.setAttribute("aria-expanded", "true");
      this.setActive(0);
      this.status.textContent = plural(passages.length, "result") + " in " + plural(shown.length, "post");
      this.setState("results", q);
    }

    option(p, id) {
      const option = el("div", "cb-moption");
      option.id = id;
      option.setAttribute("role", "option");
      option.setAttribute("aria-selected", "false");
      const href = safeHref(p.url, MODAL_SITE);
      if (href) option.dataset.href = href;
      option.appendChild(el("span", "cb-mheading", headingText(p.heading)));
      const snippet = el("span", "cb-snippet cb-msnippet");
      if (p.snippet) snippet.appendChild(snippetNodes(p.snippet));
      else snippet.textContent = p.text || "";
      option.appendChild(snippet);
      const why = whyText(p.why);
      if (why) option.appendChild(el("span", "cb-why cb-mwhy", why));
      option.addEventListener("mousemove", () => {
        const at = this.options.indexOf(option);
        if (at !== this.active) this.setActive(at);
      });
      option.addEventListener("click", () => {
        if (option.dataset.href) location.assign(option.dataset.href);
      });
      return option;
    }
  }

  let modal = null;

  function openModal() {
    if (!modal) modal = new CasebookModal();
    modal.open();
    return modal;
  }

  /** A [data-casebook-open] link (the no-script fallback to the search page) becomes a button that opens the dialog. */
  function mountTrigger(node) {
    if (node.dataset.casebookMounted) return;
    node.dataset.casebookMounted = "true";
    const button = el("button", "casebook-open");
    button.type = "button";
    button.setAttribute("aria-haspopup", "dialog");
    button.setAttribute("aria-keyshortcuts", MAC ? "Meta+K" : "Control+K");
    button.append(icon(), el("span", "casebook-open-label", node.textContent.trim() || "Search"),
      el("kbd", "casebook-open-kbd", MAC ? "⌘K" : "Ctrl K"));
    button.addEventListener("click", () => openModal());
    node.replaceWith(button);
  }

  /* ---------- mounting ---------- */

  function injectStylesheet() {
    const present = Array.from(document.querySelectorAll('link[rel="stylesheet"]')).some((l) => l.href === CSS_URL);
    if (present) return;
    const sheet = document.createElement("link");
    sheet.rel = "stylesheet";
    sheet.href = CSS_URL;
    document.head.appendChild(sheet);
  }

  function mount(host) {
    if (!host || host.dataset.casebookMounted) return null;
    host.dataset.casebookMounted = "true";
    const instance = new CasebookSearch(host);
    instances.push(instance);
    return instance;
  }

  function mountAll() {
    injectStylesheet();
    document.querySelectorAll("#casebook-search, [data-casebook-search]").forEach(mount);
    if (MODAL_ON) document.querySelectorAll("[data-casebook-open]").forEach(mountTrigger);
  }

  /** The page's own search box, when it has a visible one: the shortcuts go there instead of the dialog. */
  function pageBox() {
    return instances.find((i) => i.root.isConnected && i.root.offsetParent !== null) || null;
  }

  // ⌘K / Ctrl-K toggles the dialog from anywhere; "/" opens it unless the reader is typing.
  document.addEventListener("keydown", (e) => {
    const commandK = (e.metaKey || e.ctrlKey) && !e.altKey && !e.shiftKey && (e.key === "k" || e.key === "K");
    const slash = e.key === "/" && !e.ctrlKey && !e.metaKey && !e.altKey && !isTyping(e.target);
    if (!commandK && !slash) return;
    const box = pageBox();
    if (box) {
      e.preventDefault();
      box.focus();
    } else if (MODAL_ON && document.body) {
      e.preventDefault();
      if (commandK && modal && modal.isOpen) modal.close();
      else openModal();
    }
  });

  window.Casebook = { mount, open: openModal, api: API_BASE };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", mountAll);
  else mountAll();
})();
