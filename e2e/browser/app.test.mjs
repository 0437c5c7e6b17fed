// The web app at /app in Debian's Chromium, driven by playwright-core,
// against the real stack started by e2e/browser_test.go (which passes the
// address and a superuser's credentials in the environment).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { launch } from "./chromium.mjs";

const base = process.env.BASE_URL;
const shots = process.env.SCREENSHOT_DIR;
const admin = { username: process.env.SUPERUSER_NAME, password: process.env.SUPERUSER_PASSWORD };
const user = { username: "webuser" + Date.now() % 100000, password: "correct horse battery" };
// casey's conversations ended over the last days; the last asks the survey.
const casey = { username: process.env.SURVEY_USER_NAME, password: process.env.SURVEY_USER_PASSWORD };
const timeout = 30_000;
// A turn goes through Temporal, the worker and the LLM: on a loaded machine
// (CI runs the other packages' tests at the same time) it can take longer
// than a click.
const replyTimeout = 90_000;

let browser;
let userPage;

before(async () => {
  mkdirSync(shots, { recursive: true });
  browser = await launch();
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

// chairPNG is a small picture, as a phone's camera would send a bigger one.
const chairPNG = Buffer.from("iVBORw0KGgoAAAANSUhEUgAAADAAAAAgCAIAAADbtmxLAAAAjElEQVR4nM3CIRYBAABEwT3YP4QgCIIgCIIgCIIgCIIgCIIgCIIgCIIg/" +
  "OBQrrHzJg6oGodUjSOqxjFV44SqcUrVOKNqnFM1Lqgal1SNK6rGNVXjhqpxS9W4o2rcUzUeqBqPVI0nqsYzVeOFqvFK1XijarxTNT6oGp9UjS+qxjdV44eq8Uv" +
  "VKFXjj6p/+W1siO1/Gg8AAAAASUVORK5CYII=", "base64");

test("a picture goes with a message, and shows in the chat", async () => {
  const page = userPage;
  await page.getByLabel("Pictures").setInputFiles({ name: "broken-chair.png", mimeType: "image/png", buffer: chairPNG });
  await page.getByLabel("Message", { exact: true }).fill("The chair arrived broken");
  await page.getByRole("button", { name: "Send" }).click();
  const mine = page.locator(".message.mine", { hasText: "The chair arrived broken" });
  const picture = mine.locator("img.attachment");
  await picture.waitFor();
  await page.waitForFunction((img) => img.complete && img.naturalWidth === 48, await picture.elementHandle());
  await page.locator(".message.theirs", { hasText: "You said: The chair arrived broken" }).waitFor({ timeout: replyTimeout });
  assert.equal(await page.getByLabel("Pictures").evaluate((i) => i.files.length), 0, "the picker is cleared");
  await shot(page, "22-chat-with-a-picture");
  assert.deepEqual(page.errors, []);
});

test("an answer is rated with a thumb, and a word when it was wrong", async () => {
  const page = userPage;
  const answer = page.locator(".message.theirs", { hasText: "You said: The chair arrived broken" });
  await answer.getByRole("button", { name: "Helpful", exact: true }).click();
  await answer.getByRole("button", { name: "Helpful", exact: true, pressed: true }).waitFor();
  await answer.getByRole("button", { name: "Not helpful" }).click();
  await answer.getByLabel("What was wrong? (optional)").fill("It did not offer a replacement");
  await answer.getByRole("button", { name: "Send" }).click();
  await answer.getByRole("button", { name: "Not helpful", pressed: true }).waitFor();
  await answer.getByText("It did not offer a replacement").waitFor();
  assert.equal(await answer.getByRole("button", { name: "Helpful", exact: true, pressed: true }).count(), 0, "one rating at a time");
  assert.equal(await page.locator(".message.mine .rate").count(), 0, "nobody rates their own words");
  await shot(page, "23-rated-answer");
  const { data } = await page.evaluate(async () => {
    const s = JSON.parse(localStorage.getItem("aimsg.session"));
    const me = s.user.id;
    const res = await fetch(`/auth/conversations/ai:${me}/messages?limit=1`, { headers: { Authorization: "Bearer " + s.access_token } });
    return { data: await res.json() };
  });
  assert.equal(data[0].feedback.rating, "down", "the server keeps the rating");
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

test("the assistant's survey is answered with a button, once", async () => {
  const page = await newPage();
  await signIn(page, casey);
  const question = page.locator(".message.theirs", { hasText: "How did we do?" });
  const scores = question.getByRole("group", { name: "Your score" });
  await scores.waitFor();
  assert.deepEqual(await scores.getByRole("button").allTextContents(),
    ["1 – poor", "2 – fair", "3 – okay", "4 – good", "5 – great"]);
  assert.equal(await question.locator(".rate").count(), 0, "the question is scored, not rated");
  await shot(page, "25a-survey-asked");
  await scores.getByRole("button", { name: "4 – good" }).click();
  await question.getByText("Thanks — you gave 4/5").waitFor();
  assert.equal(await scores.count(), 0, "the buttons are gone");
  assert.equal(await page.evaluate(() => document.activeElement?.textContent), "Thanks — you gave 4/5",
    "the focus goes to the thanks, not the page's start");
  await shot(page, "25-survey");

  // The server keeps the score: the page shows it again, and a second
  // answer is refused.
  await page.reload();
  await page.locator(".message.theirs", { hasText: "How did we do?" }).getByText("Thanks — you gave 4/5").waitFor();
  const id = await page.locator(".message.theirs", { hasText: "How did we do?" }).getAttribute("data-id");
  const { body: login } = await apiCall("POST", "/auth/login", casey);
  assert.equal((await apiCall("POST", `/messages/${id}/csat`, { score: 1 }, login.access_token)).status, 409);

  // Analytics are for the support team: no link, and the page sends a
  // user back to the chat.
  assert.equal(await page.getByRole("link", { name: "Analytics" }).count(), 0, "no analytics for a user");
  await page.goto(base + "/app#/analytics");
  await page.waitForURL(/#\/chat$/);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

// period is the API's from and to for the last days UTC days.
function period(days) {
  const to = new Date().toISOString().slice(0, 10);
  return { from: new Date(Date.parse(to) - (days - 1) * 864e5).toISOString().slice(0, 10), to };
}

test("the support team sees how the assistant did: figures, outcomes and the days in a chart", async () => {
  const page = await adminPage();
  const { body: login } = await apiCall("POST", "/auth/login", admin);
  const summary = async (days, channel) => {
    const q = new URLSearchParams(period(days));
    if (channel) q.set("channel", channel);
    const { status, body } = await apiCall("GET", "/analytics/summary?" + q, undefined, login.access_token);
    assert.equal(status, 200);
    return body;
  };
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Analytics" }).click();
  await page.getByRole("heading", { name: "Analytics", exact: true }).waitFor();
  const figure = (tile) => page.locator(`[data-tile="${tile}"] .figure`);
  await figure("conversations").waitFor();

  // The last 30 days: the figures are the API's.
  const month = await summary(30);
  assert.ok(month.conversations >= 5, "the conversations that ended over the last days");
  assert.equal(await figure("conversations").textContent(), String(month.conversations));
  assert.equal(await figure("csat").textContent(), `${month.csat.average.toFixed(1)} / 5`, "the survey answered");
  assert.equal(await figure("ai-resolution").textContent(), `${Math.round(month.ai_resolution_rate * 1000) / 10}%`);
  assert.match(await figure("first-reply-ai").textContent(), /^\d+(\.\d)? (ms|s|min|h) median$/);
  assert.match(await figure("cost").textContent(), /^\$0\.\d{2,4}$/);
  for (const [outcome, n] of Object.entries(month.outcomes)) {
    assert.equal(await page.locator(`tr[data-outcome="${outcome}"] td.num`).first().textContent(), String(n), outcome);
  }
  // The chart: one column a day, a bar for each outcome of a day, a title
  // for each, a legend, and the axes named.
  const chart = page.locator("svg.chart");
  assert.equal(await chart.getAttribute("role"), "img");
  assert.equal(await chart.locator("#an-chart-title").textContent(), "Conversations per day, by outcome");
  assert.equal(await chart.locator("g.day").count(), 30);
  assert.equal(await chart.locator("g.day > title").count(), 30);
  assert.ok(await chart.locator("rect.bar").count() >= 4, "bars for the days with conversations");
  assert.deepEqual(await chart.locator("text.axis-title").allTextContents(), ["Conversations", "Day (UTC)"]);
  assert.deepEqual(await page.getByRole("list", { name: "Legend" }).getByRole("listitem").allTextContents(),
    ["Resolved by the AI", "Resolved by a person", "Handed off, unanswered", "Abandoned"]);
  await shot(page, "24-analytics");

  // A week, one channel.
  await page.getByLabel("Period", { exact: true }).selectOption("7");
  await page.waitForFunction(() => document.querySelectorAll("svg.chart g.day").length === 7);
  await page.getByLabel("Channel", { exact: true }).selectOption("twilio");
  await page.getByRole("status").filter({ hasText: "Last 7 days" }).filter({ hasText: "twilio" }).waitFor();
  await figure("conversations").waitFor();
  assert.equal(await figure("conversations").textContent(), String((await summary(7, "twilio")).conversations));
  // A channel nobody used: nothing to show, and it says so.
  await page.getByLabel("Channel", { exact: true }).selectOption("telegram");
  await page.getByRole("heading", { name: "No conversations in this period" }).waitFor();
  assert.equal(await page.locator("svg.chart, .tiles").count(), 0);

  // The permission taken away meanwhile: the API's 403 is told in words.
  await page.route("**/analytics/summary?*", (route) => route.fulfill({ status: 403, contentType: "application/json",
    body: JSON.stringify({ detail: "Not enough permissions" }) }));
  await page.getByLabel("Channel", { exact: true }).selectOption("");
  await page.getByRole("alert").getByRole("heading", { name: "No access to analytics" }).waitFor();
  await page.unroute("**/analytics/summary?*");

  // It fits a phone's screen.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(base + "/app#/support");
  await page.goto(base + "/app#/analytics");
  await figure("conversations").waitFor();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `no sideways scrolling (overflow ${overflow}px)`);
  await shot(page, "24b-phone-analytics");
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

// adminPage is a new browser signed in as the superuser, on the chat.
async function adminPage() {
  const agent = await newPage();
  await agent.goto(base + "/app#/login");
  await agent.getByLabel("Username or email").fill(admin.username);
  await agent.getByLabel("Password").fill(admin.password);
  await agent.getByRole("button", { name: "Sign in" }).click();
  await agent.waitForURL(/#\/chat$/);
  return agent;
}

test("a person from the support team takes over the chat, answers and hands it back", async () => {
  const page = userPage;
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Assistant" }).click();
  await page.getByRole("heading", { name: "Assistant" }).waitFor();
  assert.equal(await page.getByRole("link", { name: "Support" }).count(), 0, "no inbox for a user");

  const agent = await adminPage();
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

test("a reply its channel did not deliver is marked, in the inbox and the conversation", async () => {
  const agent = await adminPage();
  await agent.getByRole("link", { name: "Support" }).click();
  await agent.getByRole("button", { name: "All" }).click();
  const row = agent.locator(".inbox li", { hasText: "Sam Texter" });
  await row.locator(".badge-failed", { hasText: "not delivered: the channel was unavailable" }).waitFor();
  await shot(agent, "20-not-delivered-inbox");
  await row.getByRole("link", { name: "Sam Texter" }).click();
  const reply = agent.locator(".message", { hasText: "it left the warehouse" });
  await reply.locator(".badge-failed", { hasText: "not delivered: the channel was unavailable" }).waitFor();
  assert.equal(await agent.locator(".message .badge-failed").count(), 1, "only the reply that did not go out");
  await shot(agent, "21-not-delivered-conversation");
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

// signIn signs who in on page, at the app's sign-in page.
async function signIn(page, who) {
  await page.goto(base + "/app#/login");
  await page.getByLabel("Username or email").fill(who.username);
  await page.getByLabel("Password").fill(who.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(/#\/chat$/);
}

const lockers = `Parcel lockers stand in train stations and supermarkets: the app shows the nearest one.

## How long a parcel stays

A locker keeps your parcel for 72 hours. After that it goes *back to the sender*, and you can ask for a new delivery.

## Opening the door

1. Open the app and pick the parcel.
2. Scan the code shown on the locker's screen.
3. Take the parcel and close the door.

See [the map of lockers](https://help.example.com/lockers/map), or call \`0800 123 456\`.
`;

test("a superuser writes the knowledge base, and the assistant answers from it citing its sources", async () => {
  const page = await newPage();
  await signIn(page, admin);
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Knowledge" }).click();
  await page.getByRole("heading", { name: "Knowledge base" }).waitFor();

  // Write an article. The preview is drawn from the markdown as it is
  // typed; markup and unsafe links in it stay text.
  await page.getByRole("link", { name: "New article" }).click();
  await page.getByRole("heading", { name: "New article" }).waitFor();
  const body = page.getByLabel("Text (markdown)");
  const preview = page.locator("#kb-preview");
  await body.fill("# Hostile\n\n<img src=x onerror=alert(1)> [click](javascript:alert(1)) <script>alert(2)</script>");
  await preview.getByText("<img src=x onerror=alert(1)>", { exact: false }).waitFor();
  assert.equal(await preview.locator("img, script, a").count(), 0, "no element from an article's text but its markdown");
  await page.getByLabel("Title").fill("Parcel lockers");
  await page.getByLabel(/^Address/).fill("https://help.example.com/lockers");
  await body.fill(lockers);
  await preview.getByRole("heading", { name: "How long a parcel stays" }).waitFor();
  assert.equal(await preview.locator("ol li").count(), 3);
  assert.equal(await preview.locator("em").textContent(), "back to the sender");
  assert.equal(await preview.getByRole("link", { name: "the map of lockers" }).getAttribute("href"),
    "https://help.example.com/lockers/map");
  await page.getByRole("button", { name: "Create article" }).click();
  await page.waitForURL(/#\/knowledge\/\d+$/);
  await page.getByRole("heading", { name: "Parcel lockers" }).waitFor();
  await page.getByText(/\d+ passages? the assistant can cite/).waitFor();
  await page.getByRole("button", { name: "Save" }).click();
  await page.getByText("“Parcel lockers” saved").waitFor();
  await shot(page, "16-knowledge-edit");

  // Import files: two become articles, one is refused. The upload goes
  // through XMLHttpRequest, which tells how far it is.
  await page.getByRole("link", { name: "Back to the list" }).click();
  await page.getByRole("heading", { name: "Knowledge base" }).waitFor();
  const dir = mkdtempSync(join(tmpdir(), "aimsg-kb-"));
  try {
    writeFileSync(join(dir, "opening-hours.md"),
      "# Opening hours\n\nOur service desk is open from 9:00 to 17:00 on weekdays.\n\n## Holidays\n\nOn public holidays the desk is closed.\n");
    writeFileSync(join(dir, "returns.txt"), "Returns\n\nSend an item back within 30 days for a full refund.\n");
    writeFileSync(join(dir, "scan.pdf"), "%PDF-1.4 not an article");
    await page.getByLabel("Files", { exact: true }).setInputFiles(["opening-hours.md", "returns.txt", "scan.pdf"].map((f) => join(dir, f)));
    const sent = page.waitForRequest((r) => r.url().endsWith("/knowledge/import") && r.resourceType() === "xhr");
    await page.getByRole("button", { name: "Import" }).click();
    await sent;
    // The browser reads the files while it uploads them: they stay until
    // the answer is on the page.
    await page.locator(".import-summary", { hasText: "2 created · 0 replaced · 1 refused" }).waitFor();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  await page.locator(".import-group.refused li", { hasText: "scan.pdf" }).waitFor();
  const articles = page.locator("table.articles tbody tr");
  await page.waitForFunction(() => document.querySelectorAll("table.articles tbody tr[data-id]").length === 3);

  // Delete the returns article, after saying so in the dialog.
  const returns = (await page.locator(".import-group.created li", { hasText: "returns.txt" }).getByRole("link").textContent()).trim();
  await articles.filter({ hasText: returns }).getByRole("button", { name: "Delete" }).click();
  const dialog = page.getByRole("dialog");
  await dialog.getByText(`Delete “${returns}”?`).waitFor();
  await dialog.getByRole("button", { name: "Delete" }).click();
  await page.getByText(`“${returns}” deleted`).waitFor();
  await page.waitForFunction(() => document.querySelectorAll("table.articles tbody tr[data-id]").length === 2);
  await page.locator("#toast:empty").waitFor({ state: "attached" }); // out of the screenshots to come

  // The filter keeps the articles about lockers.
  await page.getByLabel("Filter articles").fill("lockers");
  await page.getByRole("button", { name: "Filter" }).click();
  await page.waitForFunction(() => document.querySelectorAll("table.articles tbody tr[data-id]").length === 1);
  assert.equal(await articles.first().locator("a.title").textContent(), "Parcel lockers");
  await page.getByLabel("Filter articles").fill("");
  await page.getByRole("button", { name: "Filter" }).click();
  await page.waitForFunction(() => document.querySelectorAll("table.articles tbody tr[data-id]").length === 2);
  await shot(page, "15-knowledge");

  // What the assistant would read for the question.
  await page.getByLabel("Question").fill("how long does a locker keep my parcel");
  await page.getByRole("button", { name: "Search", exact: true }).click();
  const first = page.locator(".hit").first();
  await first.waitFor();
  assert.equal(await first.locator("h3").textContent(), "Parcel lockers");
  assert.equal(await first.locator(".heading-path").textContent(), "How long a parcel stays");
  assert.ok(await first.locator(".snippet mark").count() > 0, "the matched words are marked");
  assert.doesNotMatch(await first.locator(".snippet").textContent(), /[«»]/);
  assert.equal(await first.getByRole("link", { name: "https://help.example.com/lockers" }).getAttribute("href"),
    "https://help.example.com/lockers");
  await shot(page, "17-knowledge-search");

  // The assistant answers from it, and shows where the answer comes from.
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Assistant" }).click();
  await page.getByRole("heading", { name: "Assistant" }).waitFor();
  await page.getByLabel("Message", { exact: true }).fill("How long does a locker keep my parcel?");
  await page.getByRole("button", { name: "Send" }).click();
  const reply = page.locator(".message.theirs:not(.draft)", { hasText: "A locker keeps your parcel for 72 hours" });
  try {
    await reply.locator(".sources").waitFor({ timeout: replyTimeout });
  } catch (e) {
    console.log("messages on the page:", await page.locator(".messages").innerText());
    await shotRaw(page, "failure-chat-with-sources");
    throw e;
  }
  const source = reply.locator(".sources li").first();
  assert.match(await source.textContent(), /^\[1\] Parcel lockers — How long a parcel stays$/);
  assert.equal(await source.getByRole("link", { name: "Parcel lockers" }).getAttribute("href"), "https://help.example.com/lockers");
  assert.equal(await reply.locator("sup.cite a").getAttribute("href"), "https://help.example.com/lockers", "the [1] in the text links too");
  await shot(page, "18-chat-with-sources");
  // The support team sees the same sources in the conversation.
  const me = await page.evaluate(() => JSON.parse(localStorage.getItem("aimsg.session")).user.id);
  await page.goto(base + "/app#/support/" + encodeURIComponent("ai:" + me));
  await page.locator(".message.theirs", { hasText: "A locker keeps your parcel for 72 hours" })
    .locator('.sources a[href="https://help.example.com/lockers"]').waitFor();

  // The pages fit a phone's screen.
  await page.setViewportSize({ width: 390, height: 844 });
  for (const path of ["#/knowledge", "#/knowledge/new"]) {
    await page.goto(base + "/app" + path);
    await page.locator("h1").waitFor();
    await page.waitForTimeout(200);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `${path}: no sideways scrolling (overflow ${overflow}px)`);
  }
  await page.goto(base + "/app#/knowledge");
  await page.locator("table.articles tbody tr[data-id]").first().waitFor();
  await shot(page, "19-phone-knowledge");
  assert.deepEqual(page.errors, []);
  await page.context().close();

  // Without the knowledge permission there is no link to it, nor the page.
  const other = await newPage();
  await signIn(other, user);
  assert.equal(await other.getByRole("link", { name: "Knowledge" }).count(), 0);
  await other.goto(base + "/app#/knowledge");
  await other.waitForURL(/#\/chat$/);
  await other.context().close();
});
