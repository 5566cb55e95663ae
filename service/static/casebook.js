/* Casebook search box: one script for the search page and for every blog that embeds it.
 *
 *   <div id="casebook-search"></div>
 *   <script src="https://search.example.com/static/casebook.js"
 *           data-casebook-api="https://search.example.com" defer></script>
 *
 * Mounts into #casebook-search and every [data-casebook-search] element, calls the API at
 * data-casebook-api (default: this script's own origin) and links casebook.css from beside
 * this script. Options on the mount element (all optional): data-casebook-k="10",
 * data-casebook-history="off" (do not keep ?q= in the address bar),
 * data-casebook-examples="query one|query two", data-casebook-placeholder="...",
 * data-casebook-autofocus, data-casebook-theme="light|dark",
 * data-casebook-site="https://blog.example.com" (base for post URLs the API sends as relative paths).
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
  const DEBOUNCE_MS = 200;
  const SECTIONS = [["", "All sections"], ["posts", "Posts"], ["series", "Series"],
    ["radar", "Radar"], ["research", "Research"]];
  const QUESTION = /\?\s*$|^\s*(how|what|why|when|which|who|does|is|can)\b/i;
  // 404/405/501 from /api/ask mean "this server has no Q&A yet": stop asking for this page view.
  const ASK_MISSING = new Set([404, 405, 501]);

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
      if (value !== "" && value !== null && value !== undefined) url.searchParams.set(key, value);
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

  /* ---------- one mounted search box ---------- */

  class CasebookSearch {
    constructor(host) {
      const id = "cb" + ++instanceCount;
      const data = host.dataset;
      this.k = data.casebookK || "";
      this.keepHistory = data.casebookHistory !== "off";
      this.site = data.casebookSite || "";
      this.seq = 0;
      this.timer = 0;
      this.controller = null;
      this.askAvailable = true;
      this.seriesBySlug = new Map();
      this.last = null;

      this.root = el("div", "casebook");
      this.root.dataset.state = "idle";
      if (data.casebookTheme) this.root.dataset.theme = data.casebookTheme;

      const form = el("form", "cb-form");
      form.setAttribute("role", "search");
      form.noValidate = true;
      const label = el("label", "cb-visually-hidden", "Search the blog");
      label.htmlFor = id + "-q";
      const box = el("div", "cb-box");
      box.appendChild(this.icon());
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
      this.root.append(form, this.status, this.answer, body);
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

    icon() {
      const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
      svg.setAttribute("viewBox", "0 0 24 24");
      svg.setAttribute("aria-hidden", "true");
      svg.setAttribute("class", "cb-icon");
      const path = document.createElementNS("http://www.w3.org/2000/svg", "path");
      path.setAttribute("d", "M10.5 3a7.5 7.5 0 0 1 5.9 12.1l4.2 4.2-1.4 1.4-4.2-4.2A7.5 7.5 0 1 1 10.5 3zm0 2a5.5 5.5 0 1 0 0 11 5.5 5.5 0 0 0 0-11z");
      svg.appendChild(path);
      return svg;
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
      this.input.addEventListener("input", () => this.schedule());
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
      this.search();
      this.input.focus();
    }

    restoreFromUrl() {
      if (!this.keepHistory) return;
      const params = new URLSearchParams(location.search);
      this.input.value = params.get("q") || "";
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
      const pairs = { q, series: this.seriesSelect.value, section: this.sectionSelect.value };
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

    /** Run the search now; a newer call aborts this one and its late answer is ignored. */
    async search() {
      clearTimeout(this.timer);
      const q = this.input.value.trim();
      this.syncUrl(q);
      if (this.controller) this.controller.abort();
      const seq = ++this.seq;
      if (!q) {
        this.controller = null;
        this.renderIdle();
        return;
      }
      const controller = new AbortController();
      this.controller = controller;
      this.root.classList.add("cb-is-loading");
      const asking = this.askAvailable && QUESTION.test(q);
      if (asking) this.ask(q, seq, controller.signal);
      else this.hideAnswer();
      const params = { q, k: this.k, series: this.seriesSelect.value, section: this.sectionSelect.value };
      try {
        const data = await getJSON("/api/search", params, controller.signal);
        if (seq === this.seq) this.renderResults(q, data || {});
      } catch (err) {
        if (err.name !== "AbortError" && seq === this.seq) this.renderError(err);
      } finally {
        if (seq === this.seq) this.root.classList.remove("cb-is-loading");
      }
    }

    async ask(q, seq, signal) {
      this.answer.hidden = false;
      this.answer.dataset.state = "loading";
      this.answer.replaceChildren(el("p", "cb-eyebrow", "Answer"), el("p", "cb-answer-loading", "Looking for a direct answer…"));
      try {
        const data = await getJSON("/api/ask", { q }, signal);
        if (seq === this.seq) this.renderAnswer(data || {});
      } catch (err) {
        if (err.name === "AbortError" || seq !== this.seq) return;
        if (ASK_MISSING.has(err.status)) this.askAvailable = false;
        this.hideAnswer();
      }
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
      this.status.textContent = "";
      this.seriesPanel.hidden = true;
      this.seriesPanel.replaceChildren();
      const empty = el("div", "cb-empty");
      empty.append(el("p", "cb-empty-title", "Search every case study, passage by passage."),
        el("p", "cb-empty-text", "Results appear as you type. End with “?” to get a direct answer with citations."));
      if (this.examples.length) {
        const row = el("p", "cb-examples");
        row.appendChild(el("span", "cb-examples-label", "Try"));
        for (const example of this.examples) {
          const button = el("button", "cb-chip", example);
          button.type = "button";
          button.addEventListener("click", () => {
            this.input.value = example;
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
      const passages = Array.isArray(data.passages) ? data.passages.slice() : [];
      const posts = Array.isArray(data.posts) ? data.posts : [];
      passages.sort((a, b) => (a.rank || 0) - (b.rank || 0));
      this.last = data;

      // Group passages under their post: posts in the server's order, then any post only seen in passages.
      const groups = new Map();
      for (const post of posts) groups.set(post.path, { post, passages: [] });
      for (const p of passages) {
        if (!groups.has(p.path)) {
          const url = (p.url || "").split("#")[0];
          groups.set(p.path, { post: { path: p.path, title: p.title, url, series: p.series }, passages: [] });
        }
        groups.get(p.path).passages.push(p);
      }

      if (!groups.size) {
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
      const all = Array.from(groups.values());
      const withPassages = all.filter((g) => g.passages.length);
      const rest = all.filter((g) => !g.passages.length);
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
      for (const p of hits) {
        const row = el("li", "cb-passage");
        const intro = !p.heading;
        const heading = this.link(p.url, "cb-passage-link", intro ? "Introduction" : p.heading.replace(/ > /g, " › "));
        heading.dataset.anchor = intro ? "none" : "heading";
        row.appendChild(heading);
        const snippet = el("p", "cb-snippet");
        if (p.snippet) snippet.appendChild(snippetNodes(p.snippet));
        else snippet.textContent = p.text || "";
        row.appendChild(snippet);
        list.appendChild(row);
      }
      item.appendChild(list);
      return item;
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

    renderAnswer(data) {
      this.answer.hidden = false;
      const head = el("p", "cb-eyebrow", "Answer from the blog");
      if (!data.found) {
        this.answer.dataset.state = "none";
        this.answer.replaceChildren(head, el("p", "cb-answer-none", "No direct answer found in the blog"));
        return;
      }
      this.answer.dataset.state = "answer";
      if (typeof data.confidence === "number" && data.confidence >= 0 && data.confidence <= 1) {
        head.appendChild(el("span", "cb-confidence", Math.round(data.confidence * 100) + "% confident"));
      }
      const parts = [head, el("p", "cb-answer-text", data.answer || "")];
      const citations = Array.isArray(data.citations) ? data.citations : [];
      if (citations.length) {
        const list = el("ol", "cb-citations");
        citations.forEach((c, i) => {
          const li = el("li", "cb-citation");
          const source = el("span", "cb-citation-source");
          source.appendChild(this.link(c.url, "cb-citation-link", c.title || c.path));
          if (c.heading) source.append(" ", el("span", "cb-citation-heading", c.heading));
          li.append(el("span", "cb-citation-n", "[" + (i + 1) + "]"), source);
          list.appendChild(li);
        });
        parts.push(list);
      }
      this.answer.replaceChildren(...parts);
    }
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
  }

  // "/" focuses the first search box unless the reader is already typing somewhere.
  document.addEventListener("keydown", (e) => {
    if (e.key !== "/" || e.ctrlKey || e.metaKey || e.altKey || !instances.length) return;
    const t = e.target;
    if (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName))) return;
    e.preventDefault();
    instances[0].focus();
  });

  window.Casebook = { mount, api: API_BASE };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", mountAll);
  else mountAll();
})();
