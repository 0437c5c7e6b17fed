// The web app at /app in Debian's Chromium, driven by playwright-core,
// against the real stack started by e2e/browser_test.go (which passes the
// address and a superuser's credentials in the environment).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { chromium } from "playwright-core";

const base = process.env.BASE_URL;
const shots = process.env.SCREENSHOT_DIR;
const admin = { username: process.env.SUPERUSER_NAME, password: process.env.SUPERUSER_PASSWORD };
const user = { username: "webuser" + Date.now() % 100000, password: "correct horse battery" };
const timeout = 30_000;
// A turn goes through Temporal, the worker and the LLM: on a loaded machine
// (CI runs the other packages' tests at the same time) it can take longer
// than a click.
const replyTimeout = 90_000;

let browser;
let userPage;

before(async () => {
  mkdirSync(shots, { recursive: true });
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
      "--disable-sync", "--no-first-run"],
  });
});

after(async () => { await browser?.close(); });

// newPage is a page in a fresh context that may reach the stack and nothing
// else: the app must work offline.
async function newPage(viewport = { width: 1200, height: 900 }) {
  const context = await browser.newContext({ viewport });
  await context.route("**/*", (route) => {
    const url = new URL(route.request().url());
    return url.origin === new URL(base).origin ? route.continue() : route.abort();
  });
  const page = await context.newPage();
  page.setDefaultTimeout(timeout);
  page.errors = [];
  page.on("pageerror", (e) => page.errors.push(e));
  page.on("console", (m) => { if (m.type() === "error") console.log("browser console:", m.text()); });
  return page;
}

// apiCall calls the API from the test itself, as another client would.
async function apiCall(method, path, body, token) {
  const headers = { "Content-Type": "application/json" };
  if (token) headers.Authorization = "Bearer " + token;
  const res = await fetch(base + path, { method, headers, body: body && JSON.stringify(body) });
  return { status: res.status, body: await res.json().catch(() => null) };
}

const shotRaw = (page, name) => page.screenshot({ path: `${shots}/${name}.png`, fullPage: true });

// shot saves a screenshot of the page, after checking that no value leaked
// into the text unrendered.
async function shot(page, name) {
  const text = await page.locator("body").innerText();
  assert.doesNotMatch(text, /undefined|\bnull\b|false|true|NaN|\[object /, `${name}: a raw value on the page`);
  await page.screenshot({ path: `${shots}/${name}.png`, fullPage: true });
}

test("register, sign in and talk to the assistant, the reply arriving live", async () => {
  const page = await newPage();
  userPage = page;
  await page.goto(base + "/app");
  await page.waitForURL(/#\/login$/);
  await shot(page, "01-sign-in");

  await page.getByRole("link", { name: "Register" }).click();
  await page.getByLabel("Username").fill(user.username);
  await page.getByLabel("Email").fill(user.username + "@example.com");
  await page.getByLabel("Full name (optional)").fill("Web User");
  await page.getByLabel(/^Password/).fill(user.password);
  await shot(page, "02-register");
  await page.getByRole("button", { name: "Create account" }).click();

  await page.waitForURL(/#\/chat$/);
  await page.getByRole("heading", { name: "Assistant" }).waitFor();
  const url = page.url();
  await page.getByLabel("Message", { exact: true }).fill("Hello there");
  await page.getByRole("button", { name: "Send" }).click();
  const mine = page.locator(".message.mine", { hasText: "Hello there" });
  await mine.waitFor();
  await page.locator(".message.theirs:not(.draft)", { hasText: "You said: Hello there" }).waitFor({ timeout: replyTimeout });
  assert.equal(page.url(), url, "no navigation: the reply came through the event stream");
  assert.equal(await mine.locator(".badge-channel").textContent(), "web", "each message shows its channel");
  const reply = page.locator(".message.theirs:not(.draft)", { hasText: "You said: Hello there" });
  assert.equal(await reply.locator(".identity-assistant").textContent(), "AI assistant", "the assistant's badge");
  assert.equal(await mine.locator(".identity").count(), 0, "no badge on the user's own messages");
  await page.locator(".message.mine .badge-pending").waitFor({ state: "detached" });
  await shot(page, "03-chat");
  assert.deepEqual(page.errors, []);
});

test("the reply appears as it is written, before it is saved", async () => {
  const page = userPage;
  await page.getByLabel("Message", { exact: true }).fill("Tell me slowly");
  await page.getByRole("button", { name: "Send" }).click();
  const draft = page.locator(".message.draft");
  await draft.locator(".content", { hasText: "I am" }).waitFor({ timeout: replyTimeout });
  const saved = page.locator(".message.theirs:not(.draft)", { hasText: "I am writing this slowly for you." });
  assert.equal(await saved.count(), 0, "the first fragment shows before the reply is saved");
  assert.equal(await draft.locator(".badge-pending").textContent(), "typing…");
  await shot(page, "03b-reply-being-written");
  await saved.waitFor({ timeout: replyTimeout });
  await draft.waitFor({ state: "detached" });
  assert.deepEqual(page.errors, []);
});

test("file and edit a report, and the assistant lists it", async () => {
  const page = userPage;
  await page.getByRole("link", { name: "My reports" }).click();
  await page.getByRole("heading", { name: "My reports" }).waitFor();
  const form = page.locator("form", { has: page.getByRole("heading", { name: "File a report" }) });
  await form.getByLabel("Title").fill("Login page broken");
  await form.getByLabel("Description").fill("It shows an error after I sign in.");
  await form.getByRole("button", { name: "File report" }).click();
  const card = page.locator(".report", { hasText: "Login page broken" });
  await card.locator(".badge-open").waitFor();

  await card.getByRole("button", { name: "Edit" }).click();
  await card.getByLabel("Title").fill("Login page is broken");
  await card.getByRole("button", { name: "Save" }).click();
  await page.locator(".report h3", { hasText: "Login page is broken" }).waitFor();
  await shot(page, "04-my-reports");

  await page.getByRole("link", { name: "Assistant" }).click();
  await page.getByLabel("Message", { exact: true }).fill("What reports do I have?");
  await page.getByLabel("Message", { exact: true }).press("Enter");
  try {
    await page.locator(".message.theirs:not(.draft)", { hasText: 'Your reports: "Login page is broken" (open)' }).waitFor({ timeout: replyTimeout });
  } catch (e) {
    console.log("messages on the page:", await page.locator(".messages").innerText());
    await shotRaw(page, "failure-assistant-lists-reports");
    throw e;
  }
  await shot(page, "05-assistant-lists-reports");
});

test("my conversations lists the assistant first, with badges no name can get", async () => {
  const page = userPage;
  const me = await page.evaluate(() => JSON.parse(localStorage.getItem("aimsg.session")).user.id);
  // Someone registering as the assistant or the team is refused...
  const impostor = { username: "impostor" + Date.now() % 100000, password: "correct horse battery" };
  const account = (fullName) => ({ username: impostor.username, email: impostor.username + "@example.com",
    password: impostor.password, full_name: fullName });
  for (const name of ["AI Assistant", "Support Team", "Web User\u202e"]) {
    const { status, body } = await apiCall("POST", "/auth/register", account(name));
    assert.equal(status, 422, name);
    assert.deepEqual(body.detail[0].loc, ["body", "full_name"], name);
  }
  // ...and a name that only claims it shows without the badge.
  assert.equal((await apiCall("POST", "/auth/register", account("Assistant Manager ✓"))).status, 201);
  const send = async (who, content) => {
    const { body } = await apiCall("POST", "/auth/login", { username: who.username, password: who.password });
    assert.equal((await apiCall("POST", "/messages", { recipient_id: me, content }, body.access_token)).status, 201);
  };
  await send(impostor, "Send your password here");
  await send(admin, "Hello from the aimsg team");

  await page.getByRole("link", { name: "Conversations" }).click();
  await page.getByRole("heading", { name: "Conversations" }).waitFor();
  const first = page.locator("ul.plain li").first();
  assert.equal(await first.getByRole("link").textContent(), "Assistant");
  assert.equal(await first.locator(".identity-assistant").textContent(), "AI assistant");
  const staff = page.locator("ul.plain li", { hasText: admin.username });
  assert.equal(await staff.locator(".identity-staff").textContent(), "Staff");
  const named = page.locator("ul.plain li", { hasText: "Assistant Manager ✓" });
  await named.waitFor();
  assert.equal(await named.locator(".identity").count(), 0, "a name gets no badge");
  await shot(page, "06-conversations");
});

test("typing while a page loads keeps the focus in the message box", async () => {
  const page = userPage;
  // The conversation's messages come a second late, as on a busy server.
  const slow = "**/auth/conversations/*/messages?limit=100";
  await page.route(slow, async (route) => {
    await new Promise((r) => setTimeout(r, 1000));
    await route.continue();
  });
  try {
    const loaded = page.waitForResponse((r) => r.url().includes("/read") && r.request().method() === "PUT");
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Assistant" }).click();
    // The chat page is there (its messages still loading): the page left
    // behind has a "Message" box too, which typing must not land in.
    await page.getByRole("heading", { name: "Assistant" }).waitFor();
    const box = page.getByLabel("Message", { exact: true });
    await box.fill("typed before the page loaded");
    await loaded;
    await page.waitForTimeout(100); // the page's last steps after loading
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute("name")), "content",
      "the page took the focus away from the message being typed");
    await box.fill("");
  } finally {
    await page.unroute(slow);
  }
});

test("a superuser signs in with the keyboard, manages the user and resolves the report", async () => {
  const page = await newPage();
  await page.goto(base + "/app#/login");
  await page.getByRole("heading", { name: "Sign in" }).waitFor();
  // The page puts focus on its heading; the form comes next.
  await page.keyboard.press("Tab");
  assert.equal(await page.evaluate(() => document.activeElement.name), "username");
  await page.keyboard.type(admin.username);
  await page.keyboard.press("Tab");
  await page.keyboard.type(admin.password);
  await page.keyboard.press("Enter");
  await page.waitForURL(/#\/chat$/);

  await page.getByRole("link", { name: "Users" }).click();
  await page.getByRole("heading", { name: "Users" }).waitFor();
  await page.getByLabel("New role").fill("support");
  await page.getByRole("button", { name: "Create role" }).click();
  await page.getByLabel("Search users").fill(user.username);
  await page.getByRole("button", { name: "Search" }).click();
  const row = page.locator(`tr[data-username="${user.username}"]`);
  await row.waitFor();
  await page.waitForFunction(() => document.querySelectorAll("tbody tr").length === 1); // search finds the one user
  await row.getByLabel("support").check();
  await row.getByRole("button", { name: "Save roles" }).click();
  await page.getByText(`Roles of ${user.username} saved`).waitFor();
  await row.getByRole("button", { name: "Disable" }).click();
  await row.getByRole("button", { name: "Enable" }).waitFor();
  await row.getByRole("button", { name: "Enable" }).click();
  await row.getByRole("button", { name: "Disable" }).waitFor();
  assert.ok(await row.getByLabel("support").isChecked(), "the role stays assigned");
  await shot(page, "07-admin-users");

  await page.getByRole("link", { name: "All reports" }).click();
  const card = page.locator(".report", { hasText: "Login page is broken" });
  await card.getByLabel("Comment").fill("Thanks, we are on it.");
  await card.getByLabel("Mark in progress").check();
  await card.getByRole("button", { name: "Comment" }).click();
  await card.locator(".badge-in_progress").waitFor();
  await card.getByLabel("Comment").fill("Fixed in the latest release.");
  await card.getByRole("button", { name: "Resolve" }).click();
  await card.locator(".badge-resolved").waitFor();
  await shot(page, "08-admin-reports");
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test("the user sees the status change", async () => {
  const page = userPage;
  // The user was disabled and enabled meanwhile: disabling ended the session,
  // the page's event stream ended with it, and the app sent the user to sign
  // in again by itself, without a click.
  await page.waitForURL(/#\/login$/);
  await page.getByLabel("Username or email").fill(user.username);
  await page.getByLabel("Password").fill(user.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(/#\/chat$/);
  await page.getByRole("link", { name: "My reports" }).click();
  const card = page.locator(".report", { hasText: "Login page is broken" });
  await card.locator(".badge-resolved").waitFor();
  assert.match(await card.textContent(), /Fixed in the latest release\./);
  assert.equal(await card.getByRole("button", { name: "Edit" }).count(), 0, "a resolved report cannot be edited");
  await shot(page, "09-report-resolved");
});

test("a person from the support team takes over the chat, answers and hands it back", async () => {
  const page = userPage;
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Assistant" }).click();
  await page.getByRole("heading", { name: "Assistant" }).waitFor();
  assert.equal(await page.getByRole("link", { name: "Support" }).count(), 0, "no inbox for a user");

  const agent = await newPage();
  await agent.goto(base + "/app#/login");
  await agent.getByLabel("Username or email").fill(admin.username);
  await agent.getByLabel("Password").fill(admin.password);
  await agent.getByRole("button", { name: "Sign in" }).click();
  await agent.waitForURL(/#\/chat$/);
  // The inbox's first page (the conversations with a person) comes a
  // second late: the filter chosen meanwhile must stay on screen.
  const firstPage = "**/support/conversations?limit=100&mode=human";
  await agent.route(firstPage, async (route) => {
    await new Promise((r) => setTimeout(r, 1000));
    await route.continue();
  });
  const late = agent.waitForResponse((r) => r.url().endsWith("mode=human"));
  await agent.getByRole("link", { name: "Support" }).click();
  await agent.getByRole("heading", { name: "Support inbox" }).waitFor();
  await agent.getByRole("button", { name: "With the AI" }).click();
  await agent.getByRole("link", { name: "Web User" }).waitFor();
  await late;
  await agent.unroute(firstPage);
  await agent.waitForTimeout(100); // the page's steps after the late answer
  assert.equal(await agent.getByRole("button", { name: "With the AI" }).getAttribute("aria-pressed"), "true");
  assert.equal(await agent.getByRole("link", { name: "Web User" }).count(), 1,
    "the late first page replaced the list of the filter chosen");
  await agent.getByRole("link", { name: "Web User" }).click();
  await agent.getByRole("button", { name: "Take over" }).click();

  // The user's chat says so at once, and shows the acknowledgement.
  const banner = page.getByText("A person from the support team is answering you here.");
  await banner.waitFor();
  await page.locator(".message.theirs", { hasText: "A person will answer you here." }).waitFor();
  await agent.getByRole("button", { name: "Resume AI" }).waitFor();

  await agent.getByLabel("Message", { exact: true }).fill("Hi, I am a person. How can I help?");
  await agent.getByRole("button", { name: "Send" }).click();
  const answer = page.locator(".message.theirs.human", { hasText: "Hi, I am a person. How can I help?" });
  await answer.waitFor();
  assert.equal(await answer.locator(".sender").textContent(), "Support team (a person)");
  assert.equal(await answer.locator(".identity-staff").textContent(), "Staff");

  await page.getByLabel("Message", { exact: true }).fill("Thanks, a person at last");
  await page.getByRole("button", { name: "Send" }).click();
  await agent.locator(".message.theirs", { hasText: "Thanks, a person at last" }).waitFor();
  await page.waitForTimeout(500);
  assert.equal(await page.locator(".message.mine .badge-pending").count(), 0, "nobody is thinking: a person answers");
  await shot(page, "12-chat-with-a-person");
  await shot(agent, "13-support-conversation");

  await agent.getByRole("button", { name: "Resume AI" }).click();
  await banner.waitFor({ state: "hidden" });
  await agent.getByRole("button", { name: "Take over" }).waitFor();
  await agent.getByRole("link", { name: "Support" }).click();
  await agent.getByRole("button", { name: "With the AI" }).click();
  await agent.locator(".inbox li", { hasText: "Web User" }).waitFor();
  await shot(agent, "14-support-inbox");
  assert.deepEqual(page.errors, []);
  assert.deepEqual(agent.errors, []);
  await agent.context().close();
});

test("an expired access token is refreshed without the user noticing", async () => {
  const page = userPage;
  const before = await page.evaluate(() => JSON.parse(localStorage.getItem("aimsg.session")));
  await page.evaluate(() => {
    const s = JSON.parse(localStorage.getItem("aimsg.session"));
    s.access_token = "expired." + s.access_token.split(".").slice(1).join(".") + "x";
    localStorage.setItem("aimsg.session", JSON.stringify(s));
  });
  await page.getByRole("link", { name: "Conversations" }).click();
  await page.getByRole("heading", { name: "Conversations" }).waitFor();
  await page.getByRole("link", { name: "Assistant" }).first().waitFor();
  const afterRefresh = await page.evaluate(() => JSON.parse(localStorage.getItem("aimsg.session")));
  assert.notEqual(afterRefresh.refresh_token, before.refresh_token, "the refresh token was rotated");
  assert.match(page.url(), /#\/conversations$/, "still on the page asked for");
});

test("log out ends the session on the server", async () => {
  const page = userPage;
  const { access_token: token } = await page.evaluate(() => JSON.parse(localStorage.getItem("aimsg.session")));
  await page.getByRole("button", { name: "Log out" }).click();
  await page.waitForURL(/#\/login$/);
  assert.equal(await page.evaluate(() => localStorage.getItem("aimsg.session")), null);
  const status = await page.evaluate(async (t) => (await fetch("/auth/me", { headers: { Authorization: "Bearer " + t } })).status, token);
  assert.equal(status, 401, "the old access token no longer works");
  await page.context().close();
});

test("readable on a phone-sized screen", async () => {
  const page = await newPage({ width: 390, height: 844 });
  await page.goto(base + "/app#/login");
  await page.getByLabel("Username or email").fill(user.username);
  await page.getByLabel("Password").fill(user.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.locator(".message.theirs:not(.draft)").first().waitFor();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `no sideways scrolling (overflow ${overflow}px)`);
  await shot(page, "10-phone-chat");
  await page.context().close();
});

test("the API documentation page renders offline", async () => {
  const page = await newPage();
  await page.goto(base + "/docs");
  await page.locator(".swagger-ui .info .title", { hasText: "aimsg" }).waitFor();
  await page.locator(".opblock-summary-path", { hasText: "/auth/login" }).first().waitFor();
  await shot(page, "11-api-docs");
  assert.deepEqual(page.errors, []);
  await page.context().close();
});
