// The in-browser viewer (templates/viewer/_viewer.html): a PDF shown page by page with
// PDF.js, a rail of page thumbnails, zoom, present mode, keyboard navigation, a text
// layer for selection, search terms highlighted, and seconds per page sent as beacons.
// Everything it needs comes from the data- attributes of its [data-viewer] element:
//   data-src          URL of the PDF (required)
//   data-beacon-url   where attention beacons go (JSON {"pages": [{number, seconds}]}); empty: none
//   data-beacon-item  sent as "item" with each beacon (an item's position in a shared room); empty: none
//   data-start-page   the page to open at (1 when missing or out of range)
//   data-terms        search terms to highlight, separated by spaces
//   data-download-url a download link shown in the toolbar; empty: none
//   data-title        the document's title, for accessible names
import * as pdfjs from "./vendor/pdfjs-6.5.438/pdf.min.mjs";

pdfjs.GlobalWorkerOptions.workerSrc = new URL("./vendor/pdfjs-6.5.438/pdf.worker.min.mjs", import.meta.url).href;
const STANDARD_FONTS = new URL("./vendor/pdfjs-6.5.438/standard_fonts/", import.meta.url).href;

const ZOOMS = [0.5, 0.67, 0.8, 1, 1.25, 1.5, 2, 3, 4];  // times the fitted size
const THUMB_WIDTH = 112;
const BEACON_EVERY_MS = 30000;
const BEACON_MAX_PAGES = 50;       // the server refuses more than 200 pages in one beacon
const SEGMENT_MAX_SECONDS = 300;   // one uninterrupted look at a page counts at most this long
const IDLE_SECONDS = 120;          // no key, pointer or scroll for this long: not reading (unless presenting)
const MAX_TERMS = 10;

function csrfToken() {
  return document.querySelector('meta[name="csrf-token"]')?.content || "";
}

function plural(n, one, many) {
  return n + " " + (n === 1 ? one : many);
}

// Seconds per page, measured while the page is shown and the tab is visible, sent in
// batches: every 30 s, when many pages piled up, and when the tab is hidden or closed.
class Attention {
  constructor(url, item) {
    this.url = url;
    this.item = item ? parseInt(item, 10) : null;
    this.pending = new Map();
    this.page = null;
    this.since = null;
    this.lastInput = performance.now();
    if (!url) return;
    const input = () => {
      const now = performance.now();
      if (now - this.lastInput > IDLE_SECONDS * 1000 && this.since !== null) {
        // Back after a pause: close the segment where the reader left, start a new one.
        this.pause();
        this.lastInput = now;
        this.resume();
      }
      this.lastInput = now;
    };
    for (const name of ["pointermove", "pointerdown", "keydown", "wheel", "touchstart", "scroll"]) {
      document.addEventListener(name, input, { passive: true, capture: true });
    }
    this.timer = window.setInterval(() => this.flush(false), BEACON_EVERY_MS);
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "hidden") {
        this.pause();
        this.flush(true);
      } else {
        this.resume();
      }
    });
    window.addEventListener("pagehide", () => {
      this.pause();
      this.flush(true);
    });
  }

  show(number) {
    this.pause();
    this.page = number;
    this.resume();
  }

  resume() {
    if (this.url && this.page !== null && document.visibilityState === "visible") this.since = performance.now();
  }

  pause() {
    if (this.since === null || this.page === null) return;
    let end = performance.now();
    if (!document.fullscreenElement) end = Math.min(end, this.lastInput + IDLE_SECONDS * 1000);
    const seconds = Math.min(SEGMENT_MAX_SECONDS, Math.max(0, (end - this.since) / 1000));
    this.since = null;
    this.pending.set(this.page, (this.pending.get(this.page) || 0) + seconds);
    if (this.pending.size >= BEACON_MAX_PAGES) this.flush(false);
  }

  flush(closing) {
    if (!this.url) return;
    const running = this.since !== null;
    if (running) { this.pause(); this.resume(); }
    const pages = [];
    for (const [number, seconds] of this.pending) {
      const rounded = Math.round(seconds * 10) / 10;
      if (rounded >= 0.1) pages.push({ number, seconds: rounded });
    }
    this.pending.clear();
    while (pages.length) this.send(pages.splice(0, BEACON_MAX_PAGES), closing);
  }

  send(pages, closing) {
    const body = JSON.stringify(this.item === null ? { pages } : { item: this.item, pages });
    const headers = { "Content-Type": "application/json", "X-CSRFToken": csrfToken() };
    try {
      const request = fetch(this.url, { method: "POST", headers, body, keepalive: true, credentials: "same-origin" });
      request.then((response) => {
        // A network failure or a server hiccup: keep the seconds for the next beacon.
        if (response.status >= 500) this.restore(pages);
      }, () => { if (!closing) this.restore(pages); });
    } catch (error) {
      // keepalive fetch refused (too many bytes in flight while closing): a plain beacon.
      const form = new FormData();
      form.append("csrf_token", csrfToken());
      form.append("pages", body);
      navigator.sendBeacon(this.url, form);
    }
  }

  restore(pages) {
    for (const { number, seconds } of pages) this.pending.set(number, (this.pending.get(number) || 0) + seconds);
  }
}

function termPattern(terms, flags) {
  return new RegExp(terms.map((t) => t.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|"), flags);
}

function highlightTerms(container, terms) {
  if (!terms.length) return 0;
  const pattern = termPattern(terms, "gi");
  let count = 0;
  const walker = document.createTreeWalker(container, NodeFilter.SHOW_TEXT);
  const nodes = [];
  while (walker.nextNode()) nodes.push(walker.currentNode);
  for (const node of nodes) {
    const text = node.nodeValue;
    pattern.lastIndex = 0;
    if (!pattern.test(text)) continue;
    pattern.lastIndex = 0;
    const fragment = document.createDocumentFragment();
    let last = 0;
    for (const match of text.matchAll(pattern)) {
      if (match.index > last) fragment.append(text.slice(last, match.index));
      const mark = document.createElement("mark");
      mark.className = "viewer-hit";
      mark.textContent = match[0];
      fragment.append(mark);
      last = match.index + match[0].length;
      count += 1;
    }
    if (last < text.length) fragment.append(text.slice(last));
    node.replaceWith(fragment);
  }
  return count;
}

class Viewer {
  constructor(root) {
    this.root = root;
    const data = root.dataset;
    this.src = data.src;
    this.title = data.title || "Document";
    // The words of a search query, without its syntax ("quotes", title:field, AND/OR/NOT, *).
    this.terms = (data.terms || "").replace(/["()*?]/g, " ").split(/\s+/)
      .map((t) => t.replace(/^[+-]|^\w+:/g, ""))
      .filter((t) => t.length > 1 && !["AND", "OR", "NOT"].includes(t)).slice(0, MAX_TERMS);
    this.page = Math.max(1, parseInt(data.startPage || "1", 10) || 1);
    this.zoom = 1;
    this.doc = null;
    this.renderTask = null;
    this.textLayer = null;
    this.renderSeq = 0;
    this.hitPages = null;
    this.attention = new Attention(data.beaconUrl || "", data.beaconItem || "");
    this.el = (name) => root.querySelector("[data-viewer-" + name + "]");
    this.stage = this.el("stage");
    this.box = this.el("pagebox");
    this.canvas = this.box.querySelector("canvas");
    this.text = this.box.querySelector(".textLayer");
    this.status = this.el("status");
    this.rail = this.el("rail");
    this.thumbs = this.el("thumbs");
    this.pageInput = this.el("page");
    this.count = this.el("count");
    this.zoomLabel = this.el("zoom");
    this.hits = this.el("hits");
    const download = this.el("download");
    if (download && data.downloadUrl) {
      download.href = data.downloadUrl;
      download.hidden = false;
    }
    this.bind();
    this.setRail(window.matchMedia("(min-width: 800px)").matches);
    this.load();
  }

  bind() {
    const click = (name, handler) => this.el(name)?.addEventListener("click", handler);
    click("prev", () => this.go(this.page - 1));
    click("next", () => this.go(this.page + 1));
    click("zoom-in", () => this.zoomBy(1));
    click("zoom-out", () => this.zoomBy(-1));
    click("fit", () => { this.zoom = 1; this.render(); });
    click("present", () => this.present());
    click("rail-toggle", () => this.setRail(!this.root.classList.contains("rail-open")));
    click("next-hit", () => this.nextHit(1));
    click("prev-hit", () => this.nextHit(-1));
    this.pageInput.addEventListener("change", () => this.go(parseInt(this.pageInput.value, 10) || this.page));
    this.root.addEventListener("keydown", (event) => this.key(event));
    document.addEventListener("fullscreenchange", () => {
      this.root.classList.toggle("presenting", document.fullscreenElement === this.root);
      this.el("present").setAttribute("aria-pressed", String(document.fullscreenElement === this.root));
      this.render();
    });
    let resizeTimer = null;
    new ResizeObserver(() => {
      window.clearTimeout(resizeTimer);
      resizeTimer = window.setTimeout(() => { if (this.doc && this.zoom === 1) this.render(); }, 150);
    }).observe(this.stage);
    // Keys work anywhere on the page unless the user is typing somewhere else.
    document.addEventListener("keydown", (event) => {
      if (event.defaultPrevented || this.root.contains(event.target)) return;
      if (event.target.closest && event.target.closest("input, textarea, select, [contenteditable]")) return;
      this.key(event);
    });
  }

  key(event) {
    if (event.altKey || event.ctrlKey || event.metaKey || !this.doc) return;
    if (event.target === this.pageInput) return;
    const stage = this.stage;
    const scrollsVertically = stage.scrollHeight > stage.clientHeight + 2;
    const atTop = stage.scrollTop <= 0;
    const atBottom = stage.scrollTop + stage.clientHeight >= stage.scrollHeight - 2;
    let target = null;
    switch (event.key) {
      case "ArrowRight": case "PageDown": target = this.page + 1; break;
      case "ArrowLeft": case "PageUp": target = this.page - 1; break;
      case "ArrowDown": if (!scrollsVertically || atBottom) target = this.page + 1; break;
      case "ArrowUp": if (!scrollsVertically || atTop) target = this.page - 1; break;
      case " ": if (event.target.closest && event.target.closest("button, a")) return;
        target = event.shiftKey ? this.page - 1 : this.page + 1; break;
      case "Home": target = 1; break;
      case "End": target = this.doc.numPages; break;
      case "+": case "=": this.zoomBy(1); event.preventDefault(); return;
      case "-": this.zoomBy(-1); event.preventDefault(); return;
      default: return;
    }
    if (target === null) return;
    event.preventDefault();
    this.go(target);
  }

  async load() {
    this.say("Loading…");
    try {
      this.doc = await pdfjs.getDocument({
        // Same-origin requests carry the session anyway; a presigned S3 URL needs no credentials.
        url: this.src, withCredentials: false, standardFontDataUrl: STANDARD_FONTS,
        useWasm: false, enableXfa: false,
      }).promise;
    } catch (error) {
      this.root.classList.add("failed");
      this.say(error && error.name === "PasswordException"
        ? "This PDF is protected by a password and cannot be shown here."
        : "The document could not be opened in the browser. Use Download instead, if it is offered.");
      return;
    }
    const total = this.doc.numPages;
    if (this.page > total) this.page = 1;
    this.count.textContent = String(total);
    this.pageInput.max = String(total);
    this.root.dataset.pageCount = String(total);
    await this.render();
    this.buildRail();
    if (this.terms.length) this.findHitPages();
  }

  say(message) {
    this.status.textContent = message;
  }

  go(number) {
    if (!this.doc) return;
    const target = Math.min(this.doc.numPages, Math.max(1, number));
    if (target === this.page) {
      this.pageInput.value = String(this.page);
      return;
    }
    this.page = target;
    this.stage.scrollTop = 0;
    this.render();
  }

  zoomBy(step) {
    const index = ZOOMS.indexOf(this.zoom);
    const next = ZOOMS[Math.min(ZOOMS.length - 1, Math.max(0, (index < 0 ? 3 : index) + step))];
    if (next !== this.zoom) {
      this.zoom = next;
      this.render();
    }
  }

  fitScale(page) {
    const base = page.getViewport({ scale: 1 });
    const style = getComputedStyle(this.stage);
    const width = this.stage.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    const height = this.stage.clientHeight - parseFloat(style.paddingTop) - parseFloat(style.paddingBottom);
    const byWidth = Math.max(0.1, width / base.width);
    // Slides and landscape pages fit whole; portrait pages (and every page on a phone, where
    // the stage is as tall as its page) fit the width and scroll.
    const wide = window.matchMedia("(min-width: 800px)").matches;
    if (this.root.classList.contains("presenting") || (wide && base.width >= base.height)) {
      return Math.max(0.1, Math.min(byWidth, height / base.height));
    }
    return byWidth;
  }

  async render() {
    if (!this.doc) return;
    const seq = ++this.renderSeq;
    const number = this.page;
    if (this.renderTask) this.renderTask.cancel();
    if (this.textLayer) this.textLayer.cancel();
    const page = await this.doc.getPage(number);
    if (seq !== this.renderSeq) return;
    const scale = this.fitScale(page) * this.zoom;
    const viewport = page.getViewport({ scale });
    const ratio = window.devicePixelRatio || 1;
    const canvas = document.createElement("canvas");
    canvas.width = Math.floor(viewport.width * ratio);
    canvas.height = Math.floor(viewport.height * ratio);
    canvas.style.width = Math.floor(viewport.width) + "px";
    canvas.style.height = Math.floor(viewport.height) + "px";
    canvas.setAttribute("role", "img");
    canvas.setAttribute("aria-label", "Page " + number + " of " + this.doc.numPages + " of " + this.title);
    this.renderTask = page.render({
      canvas, viewport, transform: ratio !== 1 ? [ratio, 0, 0, ratio, 0, 0] : undefined,
    });
    try {
      await this.renderTask.promise;
    } catch (error) {
      if (error && error.name === "RenderingCancelledException") return;
      this.say("Page " + number + " could not be drawn.");
      return;
    }
    if (seq !== this.renderSeq) return;
    this.canvas.replaceWith(canvas);
    this.canvas = canvas;
    this.box.style.setProperty("--scale-factor", String(scale));
    this.box.style.width = canvas.style.width;
    this.box.style.height = canvas.style.height;
    this.shown(number);
    const text = document.createElement("div");
    text.className = "textLayer";
    this.text.replaceWith(text);
    this.text = text;
    this.textLayer = new pdfjs.TextLayer({ textContentSource: page.streamTextContent(), container: text, viewport });
    try {
      await this.textLayer.render();
    } catch (error) {
      return;  // cancelled by the next page, or a page without text
    }
    if (seq !== this.renderSeq) return;
    const found = highlightTerms(text, this.terms);
    if (this.terms.length) {
      this.hits.hidden = false;
      this.el("hit-count").textContent = found
        ? plural(found, "match", "matches") + " on this page"
        : "No match on this page";
    }
    this.root.dataset.hits = String(found);
  }

  shown(number) {
    // What people (and tests) see: the page number, the rail's current page, the address.
    this.pageInput.value = String(number);
    this.root.dataset.page = String(number);
    this.root.dataset.rendered = String(number);
    // When the first page became visible, in ms since navigation (bench/bench_viewer.py reads it).
    if (!this.root.dataset.firstPageMs) this.root.dataset.firstPageMs = String(Math.round(performance.now()));
    this.stage.setAttribute("aria-label", "Page " + number + " of " + this.doc.numPages);
    this.zoomLabel.textContent = this.zoom === 1 ? "Fit" : Math.round(this.zoom * 100) + "%";
    this.el("prev").disabled = number <= 1;
    this.el("next").disabled = number >= this.doc.numPages;
    this.say("Page " + number + " of " + this.doc.numPages);
    for (const current of this.thumbs.querySelectorAll("[aria-current]")) current.removeAttribute("aria-current");
    const thumb = this.thumbs.children[number - 1];
    if (thumb) {
      const button = thumb.querySelector("button");
      button.setAttribute("aria-current", "page");
      if (this.root.classList.contains("rail-open")) this.revealThumb(thumb);
    }
    const url = new URL(window.location.href);
    if (url.searchParams.get("page") !== String(number)) {
      url.searchParams.set("page", String(number));
      window.history.replaceState(window.history.state, "", url);
    }
    this.attention.show(number);
  }

  revealThumb(thumb) {
    // Scroll the rail only (scrollIntoView would scroll the page too).
    const item = thumb.getBoundingClientRect();
    const rail = this.rail.getBoundingClientRect();
    if (item.top < rail.top) this.rail.scrollTop += item.top - rail.top;
    else if (item.bottom > rail.bottom) this.rail.scrollTop += item.bottom - rail.bottom;
    if (item.left < rail.left) this.rail.scrollLeft += item.left - rail.left;
    else if (item.right > rail.right) this.rail.scrollLeft += item.right - rail.right;
  }

  setRail(open) {
    this.root.classList.toggle("rail-open", open);
    this.el("rail-toggle").setAttribute("aria-expanded", String(open));
  }

  buildRail() {
    const total = this.doc.numPages;
    const items = [];
    for (let n = 1; n <= total; n += 1) {
      const item = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.className = "viewer-thumb";
      button.dataset.number = String(n);
      button.setAttribute("aria-label", "Page " + n);
      const label = document.createElement("span");
      label.textContent = String(n);
      label.setAttribute("aria-hidden", "true");
      button.append(label);
      button.addEventListener("click", () => this.go(n));
      item.append(button);
      items.push(item);
    }
    this.thumbs.replaceChildren(...items);
    const current = this.thumbs.children[this.page - 1]?.querySelector("button");
    if (current) current.setAttribute("aria-current", "page");
    // Thumbnails are drawn only when they scroll into view, one at a time.
    const queue = [];
    let drawing = false;
    const drawNext = async () => {
      if (drawing || !queue.length) return;
      drawing = true;
      const button = queue.shift();
      try {
        await this.drawThumb(button);
      } catch (error) {
        // A thumbnail that cannot be drawn keeps its number.
      }
      drawing = false;
      drawNext();
    };
    const observer = new IntersectionObserver((entries) => {
      for (const entry of entries) {
        if (!entry.isIntersecting) continue;
        observer.unobserve(entry.target);
        queue.push(entry.target);
      }
      drawNext();
    }, { root: this.rail, rootMargin: "200px" });
    for (const button of this.thumbs.querySelectorAll("button")) observer.observe(button);
  }

  async drawThumb(button) {
    const page = await this.doc.getPage(parseInt(button.dataset.number, 10));
    const base = page.getViewport({ scale: 1 });
    const viewport = page.getViewport({ scale: THUMB_WIDTH / base.width });
    const canvas = document.createElement("canvas");
    canvas.width = Math.floor(viewport.width);
    canvas.height = Math.floor(viewport.height);
    canvas.setAttribute("aria-hidden", "true");
    await page.render({ canvas, viewport }).promise;
    button.prepend(canvas);
    button.classList.add("drawn");
  }

  async findHitPages() {
    // Which pages hold the terms, so "next match" can jump there (bounded: 500 pages).
    const pattern = termPattern(this.terms, "i");
    const pages = [];
    const last = Math.min(this.doc.numPages, 500);
    for (let n = 1; n <= last; n += 1) {
      const page = await this.doc.getPage(n);
      const content = await page.getTextContent();
      const text = content.items.map((item) => item.str || "").join(" ");
      if (pattern.test(text)) {
        pages.push(n);
        this.thumbs.children[n - 1]?.querySelector("button")?.classList.add("has-hit");
      }
    }
    this.hitPages = pages;
    this.el("hit-pages").textContent = "Found on " + plural(pages.length, "page", "pages");
    for (const name of ["next-hit", "prev-hit"]) this.el(name).disabled = pages.length === 0;
  }

  nextHit(direction) {
    if (!this.hitPages || !this.hitPages.length) return;
    const ordered = direction > 0 ? this.hitPages : [...this.hitPages].reverse();
    const target = ordered.find((n) => (direction > 0 ? n > this.page : n < this.page)) ?? ordered[0];
    this.go(target);
  }

  present() {
    if (document.fullscreenElement === this.root) {
      document.exitFullscreen();
    } else if (this.root.requestFullscreen) {
      this.root.requestFullscreen().catch(() => this.say("Full screen is not available here."));
    }
  }
}

for (const root of document.querySelectorAll("[data-viewer]")) {
  root.viewer = new Viewer(root);
}
