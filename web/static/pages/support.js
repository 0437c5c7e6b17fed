// The support inbox: every conversation with the assistant, latest first,
// who answers it and what the team has not read; it follows the inbox's
// event stream, so a new message or a handoff shows at once.
import { h, when, badge, notDelivered } from "../dom.js";
import { api, follow } from "../api.js";

export async function supportPage(main, signal) {
  const filters = [["", "All"], ["human", "With a person"], ["ai", "With the AI"]];
  let mode = "human";
  const list = h("ul", { class: "plain inbox", "aria-live": "polite" });
  const nav = h("div", { class: "row", role: "group", "aria-label": "Show" }, filters.map(([value, label]) =>
    h("button", { type: "button", class: "link", "data-mode": value, onclick: () => { mode = value; load(); } }, label)));

  // Loads overlap (a filter clicked while the first page or an event's
  // reload is on its way); only the latest may draw, or a slow answer for
  // the filter left would replace the one chosen.
  let latest = 0;
  async function load() {
    const mine = ++latest;
    const { data, total } = await api("GET", "/support/conversations?limit=100" + (mode ? "&mode=" + mode : ""));
    if (mine !== latest) return;
    for (const b of nav.querySelectorAll("button")) b.setAttribute("aria-pressed", String(b.dataset.mode === mode));
    list.replaceChildren(...data.map((c) => h("li", { class: "card row", "data-conversation": c.conversation_id },
      h("a", { href: "#/support/" + encodeURIComponent(c.conversation_id) },
        c.user?.full_name || c.user?.username || c.conversation_id),
      badge(c.mode === "human" ? "with a person" : "with the AI", c.mode === "human" ? "pending" : "channel"),
      c.unread_count > 0 && h("span", { class: "badge badge-unread" }, `${c.unread_count} unread`),
      c.reason && h("span", { class: "muted" }, c.reason),
      c.last_message && h("span", { class: "muted" }, when(c.last_message.created_at), " — ", c.last_message.content.slice(0, 80)),
      c.last_message && notDelivered(c.last_message))));
    if (!data.length) list.append(h("li", { class: "muted" }, "Nothing here."));
    if (total > data.length) list.append(h("li", { class: "muted" }, `${data.length} of ${total}`));
  }

  main.append(h("h1", {}, "Support inbox"), nav, list);
  await load();
  // Many events can come at once (a burst of messages): reload once.
  let due = null;
  const soon = () => { due ??= setTimeout(() => { due = null; load().catch(() => {}); }, 200); };
  follow("/support/events", null, soon, signal, soon);
}
