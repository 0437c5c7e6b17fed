// One conversation: with the assistant (ai:<me>) or with another user.
// Replies appear live from the conversation's event stream.
import { h, field, when, badge, submitting } from "../dom.js";
import { api, follow, session } from "../api.js";

export async function conversationPage(main, conversationId, signal) {
  const me = session.user();
  const isAssistant = conversationId.startsWith("ai:");
  const title = isAssistant ? "Assistant" : "Conversation";
  const list = h("ol", { class: "messages", "aria-live": "polite", "aria-label": "Messages" });
  const shown = new Map();
  // The newest message from the other side: every message before it has
  // been answered, even if the copy being shown (the answer to our POST,
  // which can arrive after the stream brought the reply) still says pending.
  let answeredUpTo = 0;

  const show = (m) => {
    const mine = m.sender_id === me.id;
    if (!mine) answeredUpTo = Math.max(answeredUpTo, m.id);
    const pending = m.turn_status === "pending" && m.id > answeredUpTo;
    const item = h("li", { class: "message " + (mine ? "mine" : "theirs"), "data-id": m.id },
      h("div", { class: "meta" },
        h("span", { class: "sender" }, mine ? "You" : isAssistant ? "Assistant" : "User " + m.sender_id),
        badge(m.channel, "channel"),
        h("time", { datetime: m.created_at }, when(m.created_at)),
        pending && badge("thinking…", "pending"),
        m.turn_status === "failed" && badge("no answer", "failed")),
      h("p", { class: "content" }, m.content));
    const old = shown.get(m.id);
    if (old) old.replaceWith(item);
    else list.append(item);
    shown.set(m.id, item);
    item.scrollIntoView({ block: "end" });
  };

  const form = h("form", { class: "compose" },
    field("Message", { name: "content", multiline: true, required: true, maxlength: 10000, rows: 2 }),
    h("button", { type: "submit" }, "Send"));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    submitting(form, async (v) => {
      const { data } = await api("POST", `/auth/conversations/${encodeURIComponent(conversationId)}/messages`,
        { content: v.content });
      show(data);
      form.reset();
    }).then(() => form.querySelector("textarea").focus());
  });
  // Enter sends, Shift+Enter makes a new line.
  form.querySelector("textarea").addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); form.requestSubmit(); }
  });

  main.append(h("h1", {}, title), list, form);

  const { data } = await api("GET", `/auth/conversations/${encodeURIComponent(conversationId)}/messages?limit=100`);
  data.reverse().forEach(show);
  await api("PUT", `/auth/conversations/${encodeURIComponent(conversationId)}/read`).catch(() => {});

  // The reply being written: shown as it streams (typing, then deltas),
  // replaced by the saved message when it arrives.
  let draft = null;
  let draftSeq = 0;
  const dropDraft = () => { draft?.remove(); draft = null; draftSeq = 0; };
  const draftItem = () => {
    if (!draft) {
      draft = h("li", { class: "message theirs draft", "aria-busy": "true" },
        h("div", { class: "meta" },
          h("span", { class: "sender" }, isAssistant ? "Assistant" : "User"),
          badge("typing…", "pending")),
        h("p", { class: "content" }, ""));
      list.append(draft);
    }
    return draft;
  };
  const live = ({ event, data }) => {
    if (event === "typing") {
      if (data.active) draftItem().scrollIntoView({ block: "end" });
      else if (draft && !draft.querySelector(".content").textContent) dropDraft();
    } else if (event === "delta") {
      if (data.seq <= draftSeq) return; // already shown
      draftSeq = data.seq;
      const item = draftItem();
      item.querySelector(".content").append(data.text);
      item.scrollIntoView({ block: "end" });
    } else if (event === "reset") {
      if (draft) { draft.querySelector(".content").textContent = ""; draftSeq = 0; }
    }
  };

  const newest = data.length ? data[data.length - 1].id : 0;
  follow(conversationId, newest, (m) => {
    // The assistant answered: the questions before it are no longer pending,
    // and the saved reply takes the place of the one being written.
    if (m.sender_id !== me.id) {
      for (const [id, el] of shown) {
        if (id < m.id) el.querySelector(".badge-pending")?.remove();
      }
      dropDraft();
    }
    show(m);
  }, signal, live);
}
