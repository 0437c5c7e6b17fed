// The user's reports: file one, edit it while open, follow its status.
import { h, field, when, badge, submitting, toast } from "../dom.js";
import { api } from "../api.js";

// reportCard shows a report; actions are the buttons or forms under it.
export function reportCard(r, ...actions) {
  return h("li", { class: "card report", "data-id": r.id },
    h("div", { class: "row" },
      h("h3", {}, r.title),
      badge(r.status.replace("_", " "), r.status)),
    h("p", { class: "content" }, r.content),
    h("p", { class: "muted" }, `#${r.id} · filed ${when(r.created_at)}`,
      r.resolved_at ? ` · resolved ${when(r.resolved_at)}` : ""),
    r.comment && h("div", { class: "comment" }, h("strong", {}, "Comment: "), r.comment),
    ...actions);
}

export async function reportsPage(main) {
  const list = h("ul", { class: "plain", "aria-label": "My reports" });
  const load = async () => {
    const { data } = await api("GET", "/reports?limit=100");
    list.replaceChildren(...(data.length ? data.map(card) : [h("li", { class: "muted" }, "No reports yet.")]));
  };

  const card = (r) => {
    if (r.status !== "open") return reportCard(r);
    const edit = h("button", { type: "button", class: "secondary" }, "Edit");
    const item = reportCard(r, edit);
    edit.addEventListener("click", () => {
      const form = h("form", { class: "edit" },
        field("Title", { name: "title", id: `title-${r.id}`, value: r.title, required: true, maxlength: 255 }),
        field("Description", { name: "content", id: `content-${r.id}`, multiline: true, required: true, maxlength: 20000 }),
        h("button", { type: "submit" }, "Save"),
        h("button", { type: "button", class: "secondary", onclick: load }, "Cancel"));
      form.querySelector("textarea").value = r.content;
      form.addEventListener("submit", (e) => {
        e.preventDefault();
        submitting(form, async (v) => {
          await api("PUT", `/reports/${r.id}`, v);
          toast("Report saved");
          await load();
        });
      });
      edit.replaceWith(form);
      form.querySelector("input").focus();
    });
    return item;
  };

  const form = h("form", { class: "card" },
    h("h2", {}, "File a report"),
    field("Title", { name: "title", required: true, maxlength: 255 }),
    field("Description", { name: "content", multiline: true, required: true, maxlength: 20000 }),
    h("button", { type: "submit" }, "File report"));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    submitting(form, async (v) => {
      await api("POST", "/reports", v);
      form.reset();
      toast("Report filed");
      await load();
    });
  });

  main.append(h("h1", {}, "My reports"), form, h("h2", {}, "Filed"), list);
  await load();
}
