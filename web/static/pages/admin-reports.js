// Every report, for superusers: comment, start, resolve.
import { h, field, submitting, toast } from "../dom.js";
import { api } from "../api.js";
import { reportCard } from "./reports.js";

export async function adminReportsPage(main) {
  const status = h("select", { id: "status-filter", name: "status" },
    h("option", { value: "" }, "Any status"),
    ...["open", "in_progress", "resolved"].map((s) => h("option", { value: s }, s.replace("_", " "))));
  const list = h("ul", { class: "plain", "aria-label": "Reports" });

  const load = async () => {
    const q = status.value ? `&status=${status.value}` : "";
    const { data, total } = await api("GET", `/reports/admin/all?limit=100${q}`);
    list.replaceChildren(...(data.length ? data.map(card) : [h("li", { class: "muted" }, "No reports.")]));
    list.setAttribute("aria-label", `Reports (${total})`);
  };
  status.addEventListener("change", load);

  const card = (r) => {
    if (r.status === "resolved") return reportCard(r, h("p", { class: "muted" }, `Reporter: user ${r.reporter_id}`));
    const form = h("form", { class: "edit" },
      field("Comment", { name: "comment", id: `comment-${r.id}`, multiline: true, maxlength: 20000 }),
      r.status === "open" && h("label", { class: "check" },
        h("input", { type: "checkbox", name: "start" }), " Mark in progress"),
      h("button", { type: "submit", name: "action", value: "comment" }, "Comment"),
      h("button", { type: "button", class: "danger", onclick: () => resolve(r, form) }, "Resolve"));
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      submitting(form, async (v) => {
        if (!v.comment) throw new Error("Write a comment first");
        await api("POST", `/reports/${r.id}/comment`, { comment: v.comment, status: v.start ? "in_progress" : undefined });
        toast("Comment saved");
        await load();
      });
    });
    return reportCard(r, h("p", { class: "muted" }, `Reporter: user ${r.reporter_id}`), form);
  };

  const resolve = (r, form) => submitting(form, async (v) => {
    const comment = v.comment;
    await api("PUT", `/reports/${r.id}/resolve`, comment ? { comment } : {});
    toast("Report resolved");
    await load();
  });

  main.append(h("h1", {}, "All reports"),
    h("div", { class: "field inline" }, h("label", { for: "status-filter" }, "Status"), status), list);
  await load();
}
