// The app: a hash router over the pages, and the navigation bar.
import { h, toast } from "./dom.js";
import { session, logout, can, loadPermissions } from "./api.js";
import { loginPage, registerPage } from "./pages/auth.js";
import { conversationPage, supportConversationPage } from "./pages/conversation.js";
import { supportPage } from "./pages/support.js";
import { conversationsPage } from "./pages/conversations.js";
import { reportsPage } from "./pages/reports.js";
import { adminUsersPage } from "./pages/admin-users.js";
import { adminReportsPage } from "./pages/admin-reports.js";
import { knowledgePage, articlePage } from "./pages/knowledge.js";
import { analyticsPage } from "./pages/analytics.js";

// routes map #/path patterns to pages; who says who may open them.
const routes = [
  { path: /^\/login$/, page: loginPage, who: "anyone" },
  { path: /^\/register$/, page: registerPage, who: "anyone" },
  { path: /^\/chat$/, page: (main, signal) => conversationPage(main, "ai:" + session.user().id, signal), who: "user" },
  { path: /^\/conversations$/, page: conversationsPage, who: "user" },
  { path: /^\/conversations\/([^/]+)$/, page: (main, id, signal) => conversationPage(main, decodeURIComponent(id), signal), who: "user" },
  { path: /^\/reports$/, page: reportsPage, who: "user" },
  { path: /^\/support$/, page: supportPage, who: "support" },
  { path: /^\/support\/([^/]+)$/, page: (main, id, signal) => supportConversationPage(main, decodeURIComponent(id), signal), who: "support" },
  { path: /^\/analytics$/, page: analyticsPage, who: "support" },
  { path: /^\/admin\/users$/, page: adminUsersPage, who: "superuser" },
  { path: /^\/admin\/reports$/, page: adminReportsPage, who: "triage" },
  { path: /^\/knowledge$/, page: knowledgePage, who: "knowledge" },
  { path: /^\/knowledge\/(new|\d+)$/, page: articlePage, who: "knowledge" },
];

// leave ends the page shown (its event stream, timers).
let leave = new AbortController();

async function render() {
  leave.abort();
  leave = new AbortController();
  const path = location.hash.replace(/^#/, "") || "/chat";
  const user = session.user();
  const route = routes.find((r) => r.path.test(path));
  if (!route) { location.hash = "#/chat"; return; }
  if (route.who !== "anyone" && !user) { location.hash = "#/login"; return; }
  if (route.who === "superuser" && !user.is_superuser) { location.hash = "#/chat"; return; }
  if (user && !session.get().permissions) await loadPermissions().catch(() => {});
  if (route.who === "support" && !can("support")) { location.hash = "#/chat"; return; }
  if (route.who === "triage" && !can("triage_reports")) { location.hash = "#/chat"; return; }
  if (route.who === "knowledge" && !can("knowledge")) { location.hash = "#/chat"; return; }
  renderNav(user, path);
  const main = document.getElementById("main");
  main.replaceChildren();
  const args = path.match(route.path).slice(1);
  try {
    await route.page(main, ...args, leave.signal);
  } catch (e) {
    if (session.get()) toast(e.message, true);
    return; // without a session the API client has gone to sign in
  }
  // Move focus to the new page so keyboard and screen reader users start
  // there, unless they are in it already (typing while it loaded).
  if (main.contains(document.activeElement)) return;
  main.querySelector("h1")?.setAttribute("tabindex", "-1");
  main.querySelector("h1")?.focus({ preventScroll: true });
}

function renderNav(user, path) {
  const nav = document.getElementById("nav");
  if (!user) { nav.replaceChildren(); return; }
  // A link is current on its page and on the pages below it (an article
  // of the knowledge base, a conversation).
  const here = (href) => path === href.slice(1) || path.startsWith(href.slice(1) + "/");
  const link = (href, text) => h("a", { href, "aria-current": here(href) ? "page" : undefined }, text);
  nav.replaceChildren(...[
    link("#/chat", "Assistant"),
    link("#/conversations", "Conversations"),
    link("#/reports", "My reports"),
    can("support") && link("#/support", "Support"),
    can("support") && link("#/analytics", "Analytics"),
    user.is_superuser && link("#/admin/users", "Users"),
    can("triage_reports") && link("#/admin/reports", "All reports"),
    can("knowledge") && link("#/knowledge", "Knowledge"),
    h("span", { class: "who" }, user.username),
    h("button", { type: "button", class: "link", onclick: async () => {
      await logout();
      location.hash = "#/login";
    } }, "Log out"),
  ].filter(Boolean));
}

window.addEventListener("hashchange", render);
render();
