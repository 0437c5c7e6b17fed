// Small DOM helpers: elements are built with h(), never from HTML strings,
// so text from the server can never become markup.

// h builds an element: h("button", {onclick: f, class: "x"}, "text", child).
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else if (v === true) el.setAttribute(k, "");
    else el.setAttribute(k, v);
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

// svg builds an SVG element as h() builds an HTML one (charts are drawn
// with it: SVG elements need their namespace).
export function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    el.setAttribute(k, v);
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

// field is a labelled input: the label names it for screen readers.
export function field(label, attrs) {
  const id = attrs.id || "f-" + attrs.name;
  const input = attrs.multiline
    ? h("textarea", { ...attrs, multiline: undefined, id })
    : h("input", { type: "text", ...attrs, id });
  return h("div", { class: "field" }, h("label", { for: id }, label), input);
}

// selectField is a labelled select of options given as [value, text].
export function selectField(label, attrs, options) {
  const id = attrs.id || "f-" + attrs.name;
  return h("div", { class: "field" }, h("label", { for: id }, label),
    h("select", { ...attrs, id }, options.map(([value, text]) => h("option", { value }, text))));
}

// formValues reads a form's named fields.
export function formValues(form) {
  return Object.fromEntries(new FormData(form).entries());
}

// when formats a timestamp for people.
export function when(iso) {
  if (!iso) return "";
  return new Date(iso).toLocaleString([], { dateStyle: "short", timeStyle: "short" });
}

// badge is a short label with a style of its own (status, channel).
export function badge(text, kind = text) {
  return h("span", { class: "badge badge-" + kind }, text);
}

// notDelivered marks a message its channel did not deliver, saying why in
// words (delivery_error is a code: gave_up, twilio_21211, ...).
const undeliveredWhy = {
  gave_up: "the channel was unavailable",
  outside_whatsapp_window: "outside WhatsApp's 24-hour window",
  opted_out: "they opted out (STOP)",
  no_address: "no address to send to",
  channel_not_configured: "the channel is not configured",
};
export function notDelivered(m) {
  if (m.delivery_status !== "failed" && m.delivery_status !== "undelivered") return null;
  const why = undeliveredWhy[m.delivery_error] || m.delivery_error;
  return h("span", { class: "badge badge-failed", title: m.delivery_error || "" },
    "not delivered" + (why ? ": " + why : ""));
}

// identities are the marks the server vouches for (the "badge" of a
// participant): the real assistant and the real staff. Their words and
// look come from here, never from the server's text.
const identities = {
  assistant: { label: "AI assistant", title: "The aimsg assistant: verified by aimsg" },
  staff: { label: "Staff", title: "A member of the aimsg team: verified by aimsg" },
};

// identityBadge is the mark of a badge the server set, next to a name and
// outside it: a check in a filled pill, a class of its own. An unknown or
// absent badge shows nothing, so no name can produce one.
export function identityBadge(kind) {
  if (typeof kind !== "string" || !Object.hasOwn(identities, kind)) return null;
  const { label, title } = identities[kind];
  return h("span", { class: "identity identity-" + kind, title },
    h("span", { class: "identity-check", "aria-hidden": "true" }), label);
}

// toast tells the user something, politely announced to screen readers.
export function toast(text, isError = false) {
  const el = document.getElementById("toast");
  el.textContent = text;
  el.className = isError ? "error" : "";
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { el.textContent = ""; }, 5000);
}

// submitting runs fn with the form's values, the form disabled meanwhile
// (values are read first: disabled fields are not part of a form's data),
// and reports a failure.
export async function submitting(form, fn) {
  const values = formValues(form);
  const fields = [...form.elements];
  fields.forEach((f) => { f.disabled = true; });
  try {
    await fn(values);
  } catch (e) {
    toast(e.message, true);
  } finally {
    fields.forEach((f) => { f.disabled = false; });
  }
}

// safeHref is url as a link's address when it is an http or https one,
// else null: an address from the server or an article never runs script
// (javascript:) or opens anything but a web page.
export function safeHref(url) {
  if (typeof url !== "string") return null;
  try {
    const u = new URL(url);
    return u.protocol === "http:" || u.protocol === "https:" ? u.href : null;
  } catch {
    return null;
  }
}

// outLink is a link to a web page elsewhere, opened in a new tab; when url
// is not an http(s) address, the children as plain text.
export function outLink(url, ...children) {
  const href = safeHref(url);
  if (!href) return h("span", {}, ...children);
  return h("a", { href, target: "_blank", rel: "noopener noreferrer" }, ...children);
}

// confirmAction asks before something that cannot be undone, in a modal
// dialog (Escape or Cancel keep things as they are); it resolves to
// whether the user confirmed. Focus starts on Cancel, and returns to where
// it was.
export function confirmAction(question, action = "Delete") {
  return new Promise((resolve) => {
    const back = document.activeElement;
    const id = "confirm-" + Date.now();
    const cancel = h("button", { type: "button", class: "secondary", onclick: () => dialog.close("") }, "Cancel");
    const dialog = h("dialog", { class: "confirm", "aria-labelledby": id },
      h("p", { id }, question),
      h("div", { class: "row" },
        h("button", { type: "button", class: "danger", onclick: () => dialog.close("yes") }, action),
        cancel));
    dialog.addEventListener("close", () => {
      dialog.remove();
      back?.focus?.();
      resolve(dialog.returnValue === "yes");
    });
    document.body.append(dialog);
    dialog.showModal();
    cancel.focus();
  });
}
