// The Temporal Web UI in Debian's Chromium, driven by playwright-core,
// decoding a turn through aimsg's codec endpoint for a superuser, as
// `make run` sets it up; e2e/webui_test.go starts the stack, the UI and
// the turn, and passes their addresses in the environment.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { launch } from "./chromium.mjs";

const base = process.env.BASE_URL;
const ui = process.env.UI_URL;
const workflow = ui + process.env.WORKFLOW_PATH;
const question = process.env.QUESTION;
const questionID = process.env.QUESTION_ID;
const answer = process.env.ANSWER;
const shots = process.env.SCREENSHOT_DIR;
const admin = { username: process.env.SUPERUSER_NAME, password: process.env.SUPERUSER_PASSWORD };
const timeout = 30_000;

let browser;

before(async () => {
  mkdirSync(shots, { recursive: true });
  browser = await launch();
});

after(async () => { await browser?.close(); });

// openTurn opens the turn's page in the UI and returns its text, once
// the UI has asked the codec endpoint for its payloads.
async function openTurn(page) {
  await page.goto(workflow);
  await page.getByText("TurnWorkflow").first().waitFor();
  await page.waitForLoadState("networkidle");
  return page.locator("body").innerText();
}

test("a superuser allows decoding in the web app and reads the turn in the Web UI", async () => {
  const context = await browser.newContext({ viewport: { width: 1400, height: 1400 } });
  // Nothing but the stack and the UI: both work offline.
  await context.route("**/*", (route) => {
    const origin = new URL(route.request().url()).origin;
    return origin === new URL(base).origin || origin === new URL(ui).origin ? route.continue() : route.abort();
  });
  const page = await context.newPage();
  page.setDefaultTimeout(timeout);
  const codecCalls = [];
  page.on("response", (r) => { if (r.url().startsWith(base + "/codec/")) codecCalls.push(r.status()); });

  // Before: the payloads are sealed, the codec endpoint refuses.
  const text = await openTurn(page);
  assert.ok(!text.includes(question) && !text.includes(`"message_ids"`), "a payload reads in clear without the cookie");
  await page.screenshot({ path: `${shots}/webui-01-encrypted.png`, fullPage: true });
  assert.ok(codecCalls.length > 0 && codecCalls.every((s) => s === 401), `codec answers: ${codecCalls}`);

  await page.goto(base + "/app#/login");
  await page.getByLabel("Username or email").fill(admin.username);
  await page.getByLabel("Password").fill(admin.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(/#\/chat$/);
  await page.getByRole("link", { name: "Users" }).click();
  await page.getByRole("button", { name: "Allow decoding" }).click();
  await page.getByText("This browser may decode Temporal payloads").waitFor();

  codecCalls.length = 0;
  await openTurn(page);
  // The turn's input names the question by id (its text stays in the
  // database); the LLM's answer, which echoes it, is in the history.
  await page.getByText(`"message_ids"`).first().waitFor();
  await page.getByText(questionID).first().waitFor();
  const answered = page.getByText(answer).first();
  await answered.waitFor();
  // The history scrolls inside the page: the shot shows where the answer is.
  await answered.scrollIntoViewIfNeeded();
  await page.screenshot({ path: `${shots}/webui-02-decoded.png` });
  assert.ok(codecCalls.length > 0 && codecCalls.every((s) => s === 200), `codec answers: ${codecCalls}`);
  await context.close();
});
