// The user's conversations, and a way to start one with another user.
import { h, field, when, submitting, toast, identityBadge } from "../dom.js";
import { api } from "../api.js";

const pageSize = 50;

export async function conversationsPage(main) {
  const item = (c) => {
    const href = c.is_assistant ? "#/chat" : "#/conversations/" + encodeURIComponent(c.conversation_id);
    const name = c.is_assistant ? "Assistant" : (c.other_user?.full_name || c.other_user?.username || c.conversation_id);
    // The badge comes from the server's badge field, beside the name, never
    // from the name: whoever is named "Assistant" has none.
    return h("li", { class: "card row" },
      h("a", { href }, name),
      identityBadge(c.other_user?.badge),
      c.unread_count > 0 && h("span", { class: "badge badge-unread" }, `${c.unread_count} unread`),
      c.last_message && h("span", { class: "muted" }, when(c.last_message.created_at), " — ", c.last_message.content.slice(0, 80)));
  };
  const list = h("ul", { class: "plain" });
  const more = h("button", { type: "button", class: "secondary", hidden: true }, "Show more");
  let shown = 0;
  const load = async () => {
    const { data, total } = await api("GET", `/auth/conversations?limit=${pageSize}&offset=${shown}`);
    list.append(...data.map(item));
    shown += data.length;
    more.hidden = shown >= total;
  };
  more.addEventListener("click", () => load().catch((e) => toast(e.message, true)));

  const form = h("form", { class: "card" },
    h("h2", {}, "Write to someone"),
    field("Recipient user id", { name: "recipient_id", type: "number", min: 1, required: true }),
    field("Message", { name: "content", multiline: true, required: true, maxlength: 10000 }),
    h("button", { type: "submit" }, "Send"));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    submitting(form, async (v) => {
      const { data: m } = await api("POST", "/messages", { recipient_id: Number(v.recipient_id), content: v.content });
      toast("Sent");
      location.hash = "#/conversations/" + encodeURIComponent(m.conversation_id);
    });
  });
  await load();
  main.append(h("h1", {}, "Conversations"), list, more, form);
}
