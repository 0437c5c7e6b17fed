// One conversation: with the assistant (ai:<me>) or with another user, and
// the same view for the support team answering a user's conversation with
// the assistant. Replies appear live from the conversation's event stream.
import { h, field, when, badge, identityBadge, notDelivered, submitting, outLink, safeHref, toast } from "../dom.js";
import { api, authedFetch, follow, session, upload } from "../api.js";

// modeBanner says, on a conversation with the assistant, who answers it.
function modeBanner(text) {
  const el = h("p", { class: "banner", role: "status", hidden: true }, text);
  return { el, set(mode) { el.hidden = mode !== "human"; } };
}

export async function conversationPage(main, conversationId, signal) {
  const me = session.user();
  const isAssistant = conversationId.startsWith("ai:");
  const base = `/auth/conversations/${encodeURIComponent(conversationId)}`;
  const banner = modeBanner("A person from the support team is answering you here.");
  await conversationView(main, signal, {
    title: isAssistant ? "Assistant" : "Conversation",
    base, banner: isAssistant ? banner.el : null,
    mine: (m) => m.sender_id === me.id,
    human: () => !banner.el.hidden,
    sender: (m) => m.sender_id === me.id ? "You"
      : m.agent_id ? "Support team (a person)" : isAssistant ? "Assistant" : "User " + m.sender_id,
    // Only the server says who wrote: agent_id is set on what the support
    // team wrote, and the other side of ai:<me> is the assistant.
    badge: (m) => m.sender_id === me.id ? null : m.agent_id ? "staff" : isAssistant ? "assistant" : null,
    onMode: banner.set,
  });
  await api("PUT", `${base}/read`).catch(() => {});
  if (isAssistant) {
    // The assistant's conversation is the first entry of the first page.
    const { data } = await api("GET", "/auth/conversations?limit=1");
    banner.set(data.find((c) => c.is_assistant)?.mode);
  }
}

// supportConversationPage is a user's conversation with the assistant as
// the support team sees it: take over, answer as a person, hand back.
export async function supportConversationPage(main, conversationId, signal) {
  const me = session.user();
  const base = `/support/conversations/${encodeURIComponent(conversationId)}`;
  const state = h("span", { class: "badge badge-mode", "aria-live": "polite" }, "");
  let takeover, resume;
  const setMode = (mode) => {
    state.textContent = mode === "human" ? "a person answers" : "the AI answers";
    takeover.hidden = mode === "human";
    resume.hidden = mode !== "human";
  };
  const act = (path, label) => h("button", { type: "button", onclick: async (e) => {
    e.target.disabled = true;
    try { await api("POST", `${base}/${path}`); } finally { e.target.disabled = false; }
  } }, label);
  takeover = act("takeover", "Take over");
  resume = act("resume", "Resume AI");
  resume.hidden = true;
  await conversationView(main, signal, {
    title: "Support: " + conversationId,
    base, banner: h("div", { class: "row" }, state, takeover, resume),
    mine: (m) => m.agent_id === me.id,
    human: () => !resume.hidden,
    sender: (m) => m.agent_id === me.id ? "You" : m.agent_id ? "Agent " + m.agent_id
      : conversationId === "ai:" + m.sender_id ? "User" : "Assistant",
    badge: (m) => m.agent_id === me.id ? null : m.agent_id ? "staff"
      : conversationId === "ai:" + m.sender_id ? null : "assistant",
    onMode: setMode,
  });
  const { data } = await api("GET", "/support/conversations?mode=human&limit=200");
  setMode(data.some((c) => c.conversation_id === conversationId) ? "human" : "ai");
}

// citedText is a reply's text with its references to sources ([1], [2][3],
// [1, 4]) made small raised marks, each a link to its source's page when
// it has one. A number no source has stays as it was written.
function citedText(content, citations) {
  if (!Array.isArray(citations) || !citations.length) return content;
  const byN = new Map(citations.map((c) => [c.n, c]));
  const out = [];
  let from = 0;
  for (const m of content.matchAll(/\[(\d{1,3}(?:\s*,\s*\d{1,3})*)\]/g)) {
    const ns = m[1].split(",").map((n) => Number(n.trim()));
    if (!ns.every((n) => byN.has(n))) continue;
    out.push(content.slice(from, m.index));
    for (const n of ns) {
      const c = byN.get(n);
      const label = `Source ${n}: ${c.title}` + (c.heading ? ` — ${c.heading}` : "");
      const href = safeHref(c.url);
      out.push(h("sup", { class: "cite" }, href
        ? h("a", { href, target: "_blank", rel: "noopener noreferrer", title: label, "aria-label": label }, `[${n}]`)
        : h("span", { title: label }, `[${n}]`)));
    }
    from = m.index + m[0].length;
  }
  out.push(content.slice(from));
  return out;
}

// rating lets the person an answer of the assistant was for rate it:
// a thumb up, or down with a word on what was wrong; the thumb pressed
// again takes the rating back. redraw shows the message rated.
function rating(m, redraw) {
  const me = session.user();
  if (!me || m.recipient_id !== me.id || !m.conversation_id?.startsWith("ai:")) return null;
  if (m.survey) return null; // the survey's question is scored, not rated
  const current = m.feedback?.rating;
  const rate = async (body) => {
    const { data } = await api("POST", `/messages/${m.id}/feedback`, body);
    redraw({ ...m, feedback: data });
  };
  const takeBack = async () => {
    await api("DELETE", `/messages/${m.id}/feedback`);
    redraw({ ...m, feedback: null });
  };
  const comment = h("form", { class: "feedback-comment", hidden: true },
    field("What was wrong? (optional)", { name: "comment", id: `comment-${m.id}`, maxlength: 2000 }),
    h("button", { type: "submit" }, "Send"));
  comment.addEventListener("submit", (e) => {
    e.preventDefault();
    const text = comment.querySelector("input").value.trim();
    rate(text ? { rating: "down", comment: text } : { rating: "down" }).catch(() => {});
  });
  const thumb = (value, label) => h("button", {
    type: "button", class: "thumb thumb-" + value, "aria-label": label, "aria-pressed": String(current === value),
    onclick: () => {
      if (current === value) takeBack().catch(() => {});
      else if (value === "up") rate({ rating: "up" }).catch(() => {});
      else { comment.hidden = false; comment.querySelector("input").focus(); }
    },
  }, label);
  return h("div", { class: "rate", role: "group", "aria-label": "Rate this answer" },
    thumb("up", "Helpful"), thumb("down", "Not helpful"),
    m.feedback?.comment && h("span", { class: "muted" }, "“", m.feedback.comment, "”"),
    comment);
}

// scores name the survey's answers, from 1 up.
const scores = ["poor", "fair", "okay", "good", "great"];

// survey shows, under the assistant's "How did we do?", five buttons for
// the person it asks to score the answers they had, then their score; the
// support team sees the score, or that there is none yet. redraw shows
// the message answered.
function survey(m, redraw) {
  if (!m.survey) return null;
  const score = m.survey.score;
  if (m.recipient_id !== session.user()?.id) {
    return h("p", { class: "muted survey" }, score ? `Survey answered: ${score}/5` : "Survey not answered yet");
  }
  if (score) return h("p", { class: "survey survey-thanks", tabindex: "-1" }, `Thanks — you gave ${score}/5`);
  const answered = (s) => {
    redraw({ ...m, survey: s });
    // The button pressed is gone: the thanks that replaced it takes the focus.
    document.querySelector(`.message[data-id="${m.id}"] .survey-thanks`)?.focus();
  };
  const answer = async (n) => {
    buttons.forEach((b) => { b.disabled = true; });
    try {
      const { data } = await api("POST", `/messages/${m.id}/csat`, { score: n });
      answered(data);
    } catch (e) {
      if (e.status === 409) { // answered already (a number written back, another tab): show that score
        const { data } = await api("GET", `/messages/${m.id}`).catch(() => ({ data: {} }));
        if (data.survey?.score) return answered(data.survey);
      }
      toast(e.message, true);
      buttons.forEach((b) => { b.disabled = false; });
    }
  };
  const buttons = scores.map((word, i) => h("button", { type: "button", class: "secondary score", onclick: () => answer(i + 1) },
    `${i + 1} – ${word}`));
  const label = `survey-${m.id}`;
  return h("div", { class: "survey", role: "group", "aria-labelledby": label },
    h("span", { id: label, class: "muted" }, "Your score:"), buttons);
}

// attachments shows the files a message carried: pictures and voice
// notes as they were kept (read with the session's token, shown from
// memory), a voice note's transcript, and what was not kept, and why.
function attachments(m) {
  if (!m.attachments?.length) return null;
  return h("div", { class: "attachments" }, m.attachments.map((a) => {
    const kind = a.content_type.startsWith("audio/") ? "Voice note" : a.content_type.startsWith("image/") ? "Picture" : "File";
    if (a.status !== "stored") {
      return h("p", { class: "muted attachment-missing" }, `${kind} not kept (${(a.reason || a.status).replaceAll("_", " ")})`);
    }
    const path = `/messages/${m.id}/attachments/${a.n}`;
    if (kind === "Picture") {
      const img = h("img", { class: "attachment", alt: `Picture ${a.n + 1} of the message` });
      fromServer(img, path);
      return img;
    }
    if (kind === "Voice note") {
      const audio = h("audio", { controls: true, "aria-label": "Voice note" });
      fromServer(audio, path);
      return h("figure", { class: "attachment" }, audio, a.transcript && h("figcaption", {}, "“", a.transcript, "”"));
    }
    return h("p", { class: "muted" }, "A file");
  }));
}

// fromServer loads a protected file into an element: its address needs
// the bearer token, which an <img> would not send.
async function fromServer(el, path) {
  const res = await authedFetch(path);
  if (res.ok) el.src = URL.createObjectURL(await res.blob());
}

// sources lists what a reply cites: [n] the article's title, linked to its
// page when it has an http(s) one, and the heading of the passage.
function sources(citations) {
  if (!Array.isArray(citations) || !citations.length) return null;
  return h("div", { class: "sources" },
    h("span", { class: "sources-title", "aria-hidden": "true" }, "Sources"),
    h("ol", { "aria-label": "Sources" }, [...citations].sort((a, b) => a.n - b.n).map((c) => h("li", {},
      h("span", { class: "cite-n" }, `[${c.n}]`), " ",
      outLink(c.url, c.title),
      c.heading && h("span", { class: "muted" }, " — " + c.heading)))));
}

// conversationView shows a conversation's messages, a box to write in and
// the reply being written, all at o.base (GET and POST messages, events).
async function conversationView(main, signal, o) {
  const list = h("ol", { class: "messages", "aria-live": "polite", "aria-label": "Messages" });
  const shown = new Map();
  // The newest message from the other side: every message before it has
  // been answered, even if the copy being shown (the answer to our POST,
  // which can arrive after the stream brought the reply) still says pending.
  let answeredUpTo = 0;

  const show = (m) => {
    const mine = o.mine(m);
    if (!mine) answeredUpTo = Math.max(answeredUpTo, m.id);
    // With a person, no AI turn answers: nothing is "thinking".
    const pending = m.turn_status === "pending" && m.id > answeredUpTo && !o.human();
    const item = h("li", { class: "message " + (mine ? "mine" : "theirs") + (m.agent_id ? " human" : ""), "data-id": m.id },
      h("div", { class: "meta" },
        h("span", { class: "sender" }, o.sender(m)),
        identityBadge(o.badge(m)),
        badge(m.channel, "channel"),
        h("time", { datetime: m.created_at }, when(m.created_at)),
        pending && badge("thinking…", "pending"),
        m.turn_status === "failed" && badge("no answer", "failed"),
        notDelivered(m)),
      h("p", { class: "content" }, citedText(m.content, m.citations)),
      attachments(m),
      sources(m.citations),
      survey(m, show),
      rating(m, show));
    const old = shown.get(m.id);
    if (old) old.replaceWith(item);
    else list.append(item);
    shown.set(m.id, item);
    item.scrollIntoView({ block: "end" });
  };

  // Pictures go with a message in one's own conversations (the support
  // team answers in words).
  const picker = o.base.startsWith("/auth/conversations/")
    ? h("input", { type: "file", name: "files", id: "f-files", accept: "image/*", multiple: true })
    : null;
  const form = h("form", { class: "compose" },
    field("Message", { name: "content", multiline: true, required: true, maxlength: 10000, rows: 2 }),
    picker && h("div", { class: "field attach" }, h("label", { for: "f-files" }, "Pictures"), picker),
    h("button", { type: "submit" }, "Send"));
  // A picture may go without words.
  picker?.addEventListener("change", () => { form.querySelector("textarea").required = picker.files.length === 0; });
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    submitting(form, async (v) => {
      let data;
      if (picker?.files.length) {
        const body = new FormData();
        for (const f of picker.files) body.append("files", f);
        if (v.content.trim()) body.append("content", v.content);
        ({ data } = await upload(`${o.base}/files`, body));
      } else {
        ({ data } = await api("POST", `${o.base}/messages`, { content: v.content }));
      }
      show(data);
      form.reset();
      form.querySelector("textarea").required = true;
    }).then(() => form.querySelector("textarea").focus());
  });
  // Enter sends, Shift+Enter makes a new line.
  form.querySelector("textarea").addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); form.requestSubmit(); }
  });

  main.append(h("h1", {}, o.title), o.banner, list, form);

  const { data } = await api("GET", `${o.base}/messages?limit=100`);
  data.reverse().forEach(show);

  // The reply being written: shown as it streams (typing, then deltas),
  // replaced by the saved message when it arrives.
  let draft = null;
  let draftSeq = 0;
  const dropDraft = () => { draft?.remove(); draft = null; draftSeq = 0; };
  const draftItem = () => {
    if (!draft) {
      draft = h("li", { class: "message theirs draft", "aria-busy": "true" },
        h("div", { class: "meta" },
          h("span", { class: "sender" }, "Assistant"),
          identityBadge("assistant"),
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
    } else if (event === "mode") {
      o.onMode(data.mode);
      if (data.mode === "human") { // a person took over: no AI reply comes
        dropDraft();
        list.querySelectorAll(".badge-pending").forEach((b) => b.remove());
      }
    }
  };

  const newest = data.length ? data[data.length - 1].id : 0;
  follow(`${o.base}/events`, newest, (m) => {
    // An answer came: the questions before it are no longer pending, and
    // the saved reply takes the place of the one being written.
    if (!o.mine(m)) {
      for (const [id, el] of shown) {
        if (id < m.id) el.querySelector(".badge-pending")?.remove();
      }
      dropDraft();
    }
    show(m);
  }, signal, live);
}
