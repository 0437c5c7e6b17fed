// The knowledge base the assistant answers from and cites, for holders of
// the knowledge permission: its articles (filter, page through, delete),
// files to import, and a search showing what the assistant would read for
// a question. An article is written at #/knowledge/<id> (a new one at
// #/knowledge/new), in markdown, with a preview beside it.
import { h, field, formValues, submitting, toast, when, badge, outLink, confirmAction } from "../dom.js";
import { api, upload } from "../api.js";
import { renderMarkdown } from "../markdown.js";

const pageSize = 20;
const importable = ".md,.markdown,.html,.htm,.txt,.zip";

// collections are the collection names seen so far, offered as choices
// wherever a collection is typed (the API has no list of them).
const collections = new Set(["general"]);

// collectionChoices is the datalist of the collections seen, kept up to
// date as more are seen.
function collectionChoices(id) {
  const list = h("datalist", { id });
  const update = (names = []) => {
    names.forEach((n) => n && collections.add(n));
    list.replaceChildren(...[...collections].sort().map((c) => h("option", { value: c })));
  };
  update();
  return { el: list, update };
}

// query is a query string of the values given, the empty ones left out.
function query(values) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(values)) if (v !== undefined && v !== null && v !== "") q.set(k, v);
  return q.toString();
}

// deleteArticle asks, then deletes, the button that asked disabled
// meanwhile; it resolves to whether it did. A failure is told.
async function deleteArticle(a, button) {
  if (!await confirmAction(`Delete “${a.title}”? The assistant will no longer read or cite it. This cannot be undone.`)) return false;
  button.disabled = true;
  try {
    await api("DELETE", `/knowledge/articles/${a.id}`);
  } catch (err) {
    toast(err.message, true);
    return false;
  } finally {
    button.disabled = false;
  }
  toast(`“${a.title}” deleted`);
  return true;
}

export async function knowledgePage(main) {
  const choices = collectionChoices("kb-collections");
  main.append(
    h("div", { class: "page-head" },
      h("h1", {}, "Knowledge base"),
      h("a", { class: "button", href: "#/knowledge/new" }, "New article")),
    h("p", { class: "muted lead" }, "The help articles the assistant answers from and cites. ",
      "Each heading of an article starts a passage it can quote."),
    choices.el);
  const articles = articlesSection(choices);
  main.append(articles.el, searchSection(), importSection(choices, articles.load));
  await articles.load();
}

// articlesSection lists the articles, a page at a time, with a filter.
function articlesSection(choices) {
  let offset = 0;
  const filter = h("form", { class: "row filters", role: "search", "aria-label": "Articles" },
    field("Filter articles", { name: "q", id: "kb-filter", type: "search", placeholder: "Part of the title" }),
    field("Collection", { name: "collection", id: "kb-filter-collection", list: "kb-collections", placeholder: "All collections", maxlength: 100 }),
    h("button", { type: "submit" }, "Filter"));
  const table = h("table", { class: "articles" },
    h("caption", { class: "sr-only" }, "Articles"),
    h("thead", {}, h("tr", {}, ...["Article", "Collection", "Updated", "Actions"].map((t) => h("th", { scope: "col" }, t)))),
    h("tbody"));
  const pager = h("div", { class: "row pager" });

  // Loads may overlap (a filter while a delete reloads); the latest wins.
  let latest = 0;
  const load = async () => {
    const mine = ++latest;
    const v = formValues(filter);
    const { data, total } = await api("GET", "/knowledge/articles?" + query({ q: v.q, collection: v.collection, limit: pageSize, offset }));
    if (mine !== latest) return;
    choices.update(data.map((a) => a.collection));
    const count = total ?? data.length;
    table.tBodies[0].replaceChildren(...(data.length ? data.map(row)
      : [h("tr", {}, h("td", { colspan: 4, class: "muted" }, v.q || v.collection ? "No article matches." : "No articles yet: write one or import files."))]));
    pager.replaceChildren(
      h("button", { type: "button", class: "secondary", disabled: offset === 0, onclick: () => { offset = Math.max(0, offset - pageSize); load(); } }, "Previous"),
      h("span", {}, `${count ? offset + 1 : 0}–${offset + data.length} of ${count}`),
      h("button", { type: "button", class: "secondary", disabled: offset + data.length >= count, onclick: () => { offset += pageSize; load(); } }, "Next"));
  };
  filter.addEventListener("submit", (e) => {
    e.preventDefault();
    offset = 0;
    load().catch((err) => toast(err.message, true));
  });

  const row = (a) => h("tr", { "data-id": a.id },
    h("td", {},
      h("a", { class: "title", href: "#/knowledge/" + a.id }, a.title),
      a.url && h("div", { class: "muted url" }, outLink(a.url, a.url)),
      a.source && h("div", { class: "muted" }, "From " + a.source)),
    h("td", {}, badge(a.collection, "collection")),
    h("td", {}, h("time", { datetime: a.updated_at }, when(a.updated_at))),
    h("td", { class: "actions" },
      h("a", { class: "button secondary", href: "#/knowledge/" + a.id, "aria-label": `Edit ${a.title}` }, "Edit"),
      h("button", { type: "button", class: "danger", "aria-label": `Delete ${a.title}`, onclick: async (e) => {
        if (await deleteArticle(a, e.currentTarget)) await load().catch((err) => toast(err.message, true));
      } }, "Delete")));

  const el = h("section", { "aria-labelledby": "kb-articles" },
    h("h2", { id: "kb-articles" }, "Articles"), filter, h("div", { class: "scroll" }, table), pager);
  return { el, load };
}

// searchSection searches as the assistant does and shows the passages it
// would be given, best first.
function searchSection() {
  const results = h("ol", { class: "plain hits", "aria-label": "Passages found" });
  const status = h("p", { class: "muted", role: "status" });
  const form = h("form", { class: "row filters", role: "search", "aria-label": "Knowledge base" },
    field("Question", { name: "q", id: "kb-question", type: "search", required: true, maxlength: 1000,
      placeholder: "Ask as a customer would" }),
    field("Collection", { name: "collection", id: "kb-search-collection", list: "kb-collections", placeholder: "All collections", maxlength: 100 }),
    h("button", { type: "submit" }, "Search"));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    submitting(form, async (v) => {
      status.className = "muted";
      status.textContent = "Searching…";
      try {
        const { data } = await api("GET", "/knowledge/search?" + query({ q: v.q, collection: v.collection, limit: 10 }));
        results.replaceChildren(...data.map(hit));
        status.textContent = data.length
          ? `${data.length} ${data.length === 1 ? "passage" : "passages"}, best first: what the assistant reads to answer “${v.q}”.`
          : "No passage matches: the assistant would find nothing to answer from.";
      } catch (err) {
        results.replaceChildren();
        status.className = "error-text";
        status.textContent = err.message;
      }
    });
  });
  return h("section", { class: "card", "aria-labelledby": "kb-search" },
    h("h2", { id: "kb-search" }, "What the assistant would read"),
    h("p", { class: "muted" }, "Search the way the assistant does when a question comes in; it is given these passages to answer from."),
    form, status, results);
}

// hit is one passage found: where it is, the words that matched, and the
// whole text the assistant is given.
function hit(x, i) {
  return h("li", { class: "hit" },
    h("div", { class: "row hit-head" },
      h("span", { class: "hit-n", "aria-hidden": "true" }, `${i + 1}`),
      h("h3", {}, h("a", { href: "#/knowledge/" + x.article_id }, x.title)),
      x.heading_path && h("span", { class: "heading-path" }, x.heading_path),
      badge(x.collection, "collection")),
    h("p", { class: "snippet" }, highlighted(x.snippet || x.text)),
    x.url && h("p", { class: "muted url" }, outLink(x.url, x.url)),
    h("details", {}, h("summary", {}, "The whole passage"), h("p", { class: "content" }, x.text)));
}

// highlighted is a snippet with the words between « and » marked.
function highlighted(snippet) {
  const out = [];
  let mark = null;
  for (const part of String(snippet).split(/([«»])/)) {
    if (part === "«") mark = h("mark");
    else if (part === "»") { if (mark) out.push(mark); mark = null; } else if (mark) mark.append(part);
    else if (part) out.push(part);
  }
  if (mark) out.push(mark);
  return out;
}

// importSection uploads files, showing how far the upload is, then what
// each file became.
function importSection(choices, reload) {
  const files = h("input", { type: "file", name: "files", id: "kb-files", multiple: true, accept: importable, required: true });
  const progress = h("progress", { max: 100, value: 0, "aria-labelledby": "kb-progress-label" });
  const progressLabel = h("span", { id: "kb-progress-label" }, "");
  const progressRow = h("div", { class: "row progress", hidden: true }, progress, progressLabel);
  const results = h("div", { class: "import-results", "aria-live": "polite" });
  const form = h("form", { class: "card", "aria-labelledby": "kb-import" },
    h("h2", { id: "kb-import" }, "Import files"),
    h("p", { class: "muted" }, "Markdown, HTML or text files, several at once, or one .zip of them. ",
      "A file imported again replaces the article it made."),
    h("div", { class: "row" },
      h("div", { class: "field" }, h("label", { for: "kb-files" }, "Files"), files),
      field("Collection", { name: "collection", id: "kb-import-collection", list: "kb-collections", placeholder: "general", maxlength: 100 })),
    h("button", { type: "submit" }, "Import"),
    progressRow, results);

  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const chosen = [...files.files];
    if (!chosen.length) return;
    const body = new FormData();
    chosen.forEach((f) => body.append("files", f, f.name));
    const collection = form.elements.collection.value.trim();
    if (collection) body.append("collection", collection);
    const what = chosen.length === 1 ? chosen[0].name : `${chosen.length} files`;
    results.replaceChildren();
    progressRow.hidden = false;
    progress.value = 0;
    progressLabel.textContent = `Uploading ${what}…`;
    submitting(form, async () => {
      try {
        const { data } = await upload("/knowledge/import", body, (sent, total) => {
          progress.value = Math.round((sent / total) * 100);
          progressLabel.textContent = sent < total
            ? `Uploading ${what}… ${progress.value}%`
            : `Uploaded ${what}; reading ${chosen.length === 1 ? "it" : "them"}…`;
        });
        progressRow.hidden = true;
        results.replaceChildren(...importReport(data));
        choices.update(collection ? [collection] : []);
        form.reset();
        await reload();
      } catch (err) {
        progressRow.hidden = true;
        results.replaceChildren(h("p", { class: "error-text", role: "alert" }, err.message),
          ...(err.data?.refused?.length ? importReport({ refused: err.data.refused }).slice(1) : []));
      }
    });
  });
  return form;
}

// importReport says what each file became: an article created or
// replaced, or why it was refused.
function importReport(data) {
  const created = data?.created || [];
  const replaced = data?.replaced || [];
  const refused = data?.refused || [];
  const article = (x) => h("li", {}, h("a", { href: "#/knowledge/" + x.article_id }, x.title || x.file),
    h("span", { class: "muted" }, " from " + x.file));
  const group = (title, kind, items, item) => items.length > 0 && h("section", { class: "import-group " + kind },
    h("h3", {}, `${title} (${items.length})`), h("ul", {}, items.map(item)));
  const n = (k, word) => `${k} ${word}`;
  return [
    h("p", { class: "import-summary" },
      [n(created.length, "created"), n(replaced.length, "replaced"), n(refused.length, "refused")].join(" · ")),
    group("Created", "created", created, article),
    group("Replaced", "replaced", replaced, article),
    group("Refused", "refused", refused, (x) => h("li", {}, h("strong", {}, x.file), " — " + x.reason)),
  ].filter(Boolean);
}

// articlePage writes an article (id "new": a new one): title, address,
// collection and the text in markdown, previewed as it is typed.
export async function articlePage(main, id) {
  const isNew = id === "new";
  const article = isNew
    ? { title: "", url: null, collection: "general", body: "" }
    : (await api("GET", `/knowledge/articles/${encodeURIComponent(id)}`)).data;
  const choices = collectionChoices("kb-collections");
  choices.update([article.collection]);

  const title = h("h1", { id: "kb-title" }, isNew ? "New article" : article.title);
  const preview = h("div", { class: "markdown", id: "kb-preview" });
  const form = h("form", { class: "card article-form", "aria-labelledby": "kb-title" },
    h("div", { class: "row" },
      field("Title", { name: "title", id: "kb-article-title", value: article.title, required: true, maxlength: 300 }),
      field("Collection", { name: "collection", id: "kb-article-collection", value: article.collection, list: "kb-collections", maxlength: 100 })),
    field("Address of the published page (optional)", { name: "url", id: "kb-article-url", type: "url", value: article.url || undefined,
      maxlength: 2048, placeholder: "https://", pattern: "https?://.+", title: "An http:// or https:// address" }),
    h("div", { class: "editor" },
      field("Text (markdown)", { name: "body", id: "kb-article-body", multiline: true, required: true, rows: 18, spellcheck: "true" }),
      h("div", { class: "field preview" },
        h("span", { class: "label", id: "kb-preview-label" }, "Preview"),
        h("div", { class: "preview-pane", role: "region", "aria-labelledby": "kb-preview-label" }, preview))),
    h("div", { class: "row" },
      h("button", { type: "submit" }, isNew ? "Create article" : "Save"),
      h("a", { class: "button secondary", href: "#/knowledge" }, isNew ? "Cancel" : "Back to the list"),
      !isNew && h("button", { type: "button", class: "danger push-right", onclick: async (e) => {
        if (await deleteArticle(article, e.currentTarget)) location.hash = "#/knowledge";
      } }, "Delete")));
  const body = form.elements.body;
  body.value = article.body || "";
  const status = h("p", { class: "muted", role: "status" });
  const describe = (a) => {
    if (isNew) return "Start with a short paragraph; use ## headings for the parts a question may be about.";
    const passages = a.passage_count === undefined ? "" : `${a.passage_count} ${a.passage_count === 1 ? "passage" : "passages"} the assistant can cite · `;
    return `${passages}updated ${when(a.updated_at)}` + (a.source ? ` · from ${a.source}` : "");
  };
  status.textContent = describe(article);

  // The preview follows the text, redrawn once the typing pauses.
  let due = null;
  const draw = () => { due = null; preview.replaceChildren(renderMarkdown(body.value)); };
  body.addEventListener("input", () => { clearTimeout(due); due = setTimeout(draw, 120); });
  draw();

  form.addEventListener("submit", (e) => {
    e.preventDefault();
    submitting(form, async (v) => {
      const payload = { title: v.title.trim(), body: v.body, url: v.url.trim() || null,
        collection: v.collection.trim() || undefined, format: "markdown" };
      if (isNew) {
        const { data } = await api("POST", "/knowledge/articles", payload);
        toast(`“${data.title}” created: ${data.passage_count} ${data.passage_count === 1 ? "passage" : "passages"}`);
        location.hash = "#/knowledge/" + data.id;
        return;
      }
      const { data } = await api("PUT", `/knowledge/articles/${article.id}`, payload);
      Object.assign(article, data);
      title.textContent = article.title;
      status.textContent = describe(article);
      toast(`“${data.title}” saved`);
    });
  });

  main.append(
    h("p", { class: "crumbs" }, h("a", { href: "#/knowledge" }, "Knowledge base"), " ›"),
    title, status, choices.el, form);
}
