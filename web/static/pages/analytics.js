// Analytics, for the support team: whether the assistant is any good. The
// conversations that ended in a period (the last 7, 30 or 90 UTC days,
// today included), on one channel or all: how they came out, how fast the
// first answers came, what people thought of them and what they cost, and
// the outcomes day by day in a chart drawn here as SVG.
import { h, svg, selectField, formValues, toast } from "../dom.js";
import { api } from "../api.js";

// outcomes in the order they are stacked and listed, best first: the
// API's name, its label, and what it means.
const outcomes = [
  ["resolved_by_ai", "Resolved by the AI", "The AI answered and the person went quiet, rating no answer down."],
  ["resolved_by_person", "Resolved by a person", "A person took it over and gave it back to the AI."],
  ["handed_off", "Handed off, unanswered", "Handed to a person, and back to the AI with no person's answer."],
  ["abandoned", "Abandoned", "Left unresolved: quiet after a thumbs down, or after a person had answered."],
];

const periods = [["7", "Last 7 days"], ["30", "Last 30 days"], ["90", "Last 90 days"]];
const channels = [["", "All channels"], ["web", "Web"], ["twilio", "Twilio"], ["telegram", "Telegram"]];

// outcomesOf are the outcomes to show: the known ones, and any the API
// adds later, under their own name.
function outcomesOf(counts) {
  const known = new Set(outcomes.map(([k]) => k));
  return [...outcomes, ...Object.keys(counts || {}).filter((k) => !known.has(k)).map((k) => [k, k.replaceAll("_", " "), ""])];
}

// period is the last days UTC days, today included, as the API's dates.
function period(days) {
  const to = new Date().toISOString().slice(0, 10);
  const from = new Date(Date.parse(to) - (days - 1) * 864e5).toISOString().slice(0, 10);
  return { from, to };
}

const count = (n) => new Intl.NumberFormat().format(n);
const compact = (n) => new Intl.NumberFormat(undefined, { notation: "compact", maximumFractionDigits: 1 }).format(n);
const pct = (rate) => `${Math.round(rate * 1000) / 10}%`;
const dayLabel = (date) => new Date(date + "T00:00:00Z").toLocaleDateString([], { month: "short", day: "numeric", timeZone: "UTC" });

// usd shows cents, or fractions of a cent for the small sums tokens cost.
function usd(v) {
  return new Intl.NumberFormat("en-US", { style: "currency", currency: "USD", minimumFractionDigits: 2,
    maximumFractionDigits: v > 0 && v < 1 ? 4 : 2 }).format(v);
}

// duration says milliseconds in the unit that reads best.
function duration(ms) {
  if (ms === null || ms === undefined) return "—";
  if (ms < 1000) return `${ms} ms`;
  const units = [[1000, "s", 60], [60_000, "min", 60], [3_600_000, "h", Infinity]];
  const [size, unit] = units.find(([size, , upTo]) => ms / size < upTo);
  const v = ms / size;
  return `${v.toFixed(v < 10 ? 1 : 0)} ${unit}`;
}

export async function analyticsPage(main) {
  const form = h("form", { class: "row filters analytics-filters", "aria-label": "Period and channel" },
    selectField("Period", { name: "days", id: "an-period" }, periods),
    selectField("Channel", { name: "channel", id: "an-channel" }, channels));
  form.elements.days.value = "30";
  const status = h("p", { class: "muted", role: "status" });
  const body = h("div", { class: "analytics" });
  main.append(
    h("h1", {}, "Analytics"),
    h("p", { class: "muted lead" }, "How the assistant did: the conversations that ended in the period, counted by UTC day. ",
      "A conversation is one request, from a person's first message to its outcome."),
    form, status, body);

  // Changes may overlap (a period picked while the last one loads): only
  // the latest may draw.
  let latest = 0;
  const load = async () => {
    const mine = ++latest;
    const v = formValues(form);
    const p = period(Number(v.days));
    const q = new URLSearchParams(p);
    if (v.channel) q.set("channel", v.channel);
    body.setAttribute("aria-busy", "true");
    let sum, days;
    try {
      [{ data: sum }, { data: days }] = await Promise.all([
        api("GET", "/analytics/summary?" + q), api("GET", "/analytics/daily?" + q)]);
    } catch (e) {
      if (mine !== latest) return;
      body.removeAttribute("aria-busy");
      if (e.status !== 403) throw e;
      form.hidden = true;
      status.textContent = "";
      body.replaceChildren(h("div", { class: "card notice", role: "alert" },
        h("h2", {}, "No access to analytics"),
        h("p", {}, "Analytics are for the support team: they need the support permission, which your account does not have. ",
          "Ask an administrator for a role with it.")));
      return;
    }
    if (mine !== latest) return;
    body.removeAttribute("aria-busy");
    const where = channels.find(([c]) => c === v.channel)[1].toLowerCase();
    status.textContent = `${periods.find(([d]) => d === v.days)[1]}: ${dayLabel(p.from)} – ${dayLabel(p.to)} (UTC), ${where}.`;
    if (!sum.conversations) {
      body.replaceChildren(h("div", { class: "card empty" },
        h("h2", {}, "No conversations in this period"),
        h("p", { class: "muted" }, "None ended ", v.channel ? "on this channel " : "", "in these days. ",
          "A conversation counts once it ends: the person went quiet after the AI's answer, or a person handed it back.")));
      return;
    }
    // The chart is drawn at the width it has (less a card's padding), so
    // its words keep their size on a phone.
    const width = Math.min(720, Math.max(320, (body.clientWidth || 720) - 30));
    body.replaceChildren(tiles(sum), outcomesTable(sum), dailyChart(days, p, width));
  };
  form.addEventListener("change", () => load().catch((e) => toast(e.message, true)));
  form.addEventListener("submit", (e) => e.preventDefault());
  await load();
}

// tiles are the period's figures, each with a word on what it is made of.
function tiles(s) {
  const tile = (key, label, figure, note) => h("div", { class: "tile", "data-tile": key },
    h("dt", {}, label), h("dd", { class: "figure" }, figure), h("dd", { class: "muted" }, note));
  const reply = (key, label, r, none) => r.count
    ? tile(key, label, [duration(r.median_ms), h("span", { class: "unit" }, " median")], `p90 ${duration(r.p90_ms)} · ${count(r.count)} answered`)
    : tile(key, label, "—", none);
  const rated = s.feedback.up + s.feedback.down;
  return h("section", { "aria-labelledby": "an-summary" },
    h("h2", { id: "an-summary", class: "sr-only" }, "Summary"),
    h("dl", { class: "tiles" },
      tile("conversations", "Conversations", count(s.conversations), `${count(s.turns)} turns`),
      tile("ai-resolution", "AI resolution rate", pct(s.ai_resolution_rate),
        `${count(s.outcomes.resolved_by_ai ?? 0)} resolved by the AI`),
      tile("handoff", "Handoff rate", pct(s.handoff_rate), "went to a person"),
      reply("first-reply-ai", "First reply by the AI", s.first_reply, "No reply yet"),
      reply("first-reply-person", "First answer by a person", s.person_first_reply, "No person answered"),
      tile("ratings", "Thumbs up / down", `${count(s.feedback.up)} / ${count(s.feedback.down)}`,
        rated ? `${pct(s.feedback.up / rated)} helpful` : "No answer rated"),
      tile("csat", "Satisfaction (CSAT)", s.csat.average === null ? "—" : [s.csat.average.toFixed(1), h("span", { class: "unit" }, " / 5")],
        s.csat.asked ? `${count(s.csat.answered)} of ${count(s.csat.asked)} answered (${pct(s.csat.answer_rate)})` : "Not asked in this period"),
      tile("tokens", "LLM tokens", compact(s.tokens.total), `${count(s.tokens.prompt)} prompt · ${count(s.tokens.completion)} completion`),
      tile("cost", "Cost", usd(s.cost_usd), "US dollars, at the configured prices")));
}

// outcomesTable says how the conversations came out, and what that means.
function outcomesTable(s) {
  return h("section", { class: "card", "aria-labelledby": "an-outcomes" },
    h("h2", { id: "an-outcomes" }, "Outcomes"),
    h("div", { class: "scroll" }, h("table", { class: "outcomes" },
      h("thead", {}, h("tr", {},
        h("th", { scope: "col" }, "Outcome"), h("th", { scope: "col", class: "num" }, "Conversations"),
        h("th", { scope: "col", class: "num" }, "Share"), h("th", { scope: "col", class: "means" }, "What it means"))),
      h("tbody", {}, outcomesOf(s.outcomes).map(([key, label, means]) => {
        const n = s.outcomes[key] ?? 0;
        return h("tr", { "data-outcome": key },
          h("th", { scope: "row" }, h("span", { class: "swatch outcome-" + key, "aria-hidden": "true" }), label,
            // On a phone the meaning goes under the name, its column hidden.
            h("span", { class: "muted means-under" }, means)),
          h("td", { class: "num" }, count(n)),
          h("td", { class: "num" }, pct(n / s.conversations)),
          h("td", { class: "muted means" }, means));
      })),
      h("tfoot", {}, h("tr", {},
        h("th", { scope: "row" }, "All"), h("td", { class: "num" }, count(s.conversations)),
        h("td", { class: "num" }, "100%"), h("td", { class: "means" }))))));
}

// niceStep is the step between the chart's gridlines: 1, 2 or 5 times a
// power of ten, whole, for about four of them (four at least: a day of one
// conversation is no full-height bar).
function niceStep(max) {
  const raw = max / 4;
  const power = 10 ** Math.floor(Math.log10(raw));
  return Math.max(1, [1, 2, 5, 10].map((f) => f * power).find((step) => step >= raw));
}

// dailyChart stacks each day's outcomes in a bar, with the counts on the
// left, the days below, a legend, a title per bar that shows on hover, and
// the same figures as a table for those who cannot see it.
function dailyChart(days, p, W) {
  const H = 260, m = { top: 14, right: 10, bottom: 46, left: 50 };
  const pw = W - m.left - m.right, ph = H - m.top - m.bottom;
  const max = Math.max(4, ...days.map((d) => d.conversations));
  const step = niceStep(max);
  const top = Math.ceil(max / step) * step;
  const y = (v) => m.top + ph - (v / top) * ph;
  const slot = pw / days.length;
  const barWidth = Math.max(1, slot * 0.7);
  const labelEvery = Math.ceil(days.length / Math.max(2, Math.floor(pw / 60)));
  const kinds = outcomesOf(Object.assign({}, ...days.map((d) => d.outcomes)));

  const grid = [];
  for (let v = 0; v <= top; v += step) {
    grid.push(svg("line", { class: v ? "grid" : "axis", x1: m.left, x2: W - m.right, y1: y(v), y2: y(v) }),
      svg("text", { x: m.left - 6, y: y(v), "text-anchor": "end", "dominant-baseline": "middle" }, count(v)));
  }
  const bars = days.map((d, i) => {
    const x = m.left + i * slot;
    let base = y(0);
    const parts = kinds.map(([key]) => {
      const n = d.outcomes?.[key] ?? 0;
      if (!n) return null;
      const height = (n / top) * ph;
      base -= height;
      return svg("rect", { class: "bar outcome-" + key, x: x + (slot - barWidth) / 2, y: base, width: barWidth, height });
    });
    const said = kinds.filter(([key]) => d.outcomes?.[key]).map(([key, label]) => `${label.toLowerCase()} ${d.outcomes[key]}`);
    return svg("g", { class: "day", "data-date": d.date },
      svg("title", {}, `${dayLabel(d.date)}: ${d.conversations === 1 ? "1 conversation" : count(d.conversations) + " conversations"}`
        + (said.length ? " — " + said.join(", ") : "")),
      // The whole column shows the title, an empty day's too.
      svg("rect", { class: "hit", x, y: m.top, width: slot, height: ph }),
      parts,
      i % labelEvery === 0 && svg("text", { x: x + slot / 2, y: m.top + ph + 16, "text-anchor": "middle" }, dayLabel(d.date)));
  });
  const total = days.reduce((n, d) => n + d.conversations, 0);
  const busiest = days.reduce((a, d) => (d.conversations > a.conversations ? d : a), days[0]);
  const chart = svg("svg", { class: "chart", viewBox: `0 0 ${W} ${H}`, role: "img", "aria-labelledby": "an-chart-title an-chart-desc" },
    svg("title", { id: "an-chart-title" }, "Conversations per day, by outcome"),
    svg("desc", { id: "an-chart-desc" }, `Stacked bars for the ${days.length} days from ${dayLabel(p.from)} to ${dayLabel(p.to)}: `
      + `${count(total)} conversations, the most on ${dayLabel(busiest.date)} (${count(busiest.conversations)}).`),
    grid, bars,
    svg("text", { class: "axis-title", x: 14, y: m.top + ph / 2, "text-anchor": "middle", transform: `rotate(-90 14 ${m.top + ph / 2})` }, "Conversations"),
    svg("text", { class: "axis-title", x: m.left + pw / 2, y: H - 6, "text-anchor": "middle" }, "Day (UTC)"));

  const busy = days.filter((d) => d.conversations);
  return h("section", { class: "card", "aria-labelledby": "an-daily" },
    h("h2", { id: "an-daily" }, "Day by day"),
    h("ul", { class: "legend", "aria-label": "Legend" }, kinds.map(([key, label]) =>
      h("li", {}, h("span", { class: "swatch outcome-" + key, "aria-hidden": "true" }), label))),
    chart,
    h("details", {},
      h("summary", {}, "The days with conversations, as a table"),
      h("div", { class: "scroll" }, h("table", { class: "daily" },
        h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Day"), h("th", { scope: "col", class: "num" }, "Conversations"),
          kinds.map(([, label]) => h("th", { scope: "col", class: "num" }, label)))),
        h("tbody", {}, busy.map((d) => h("tr", {},
          h("th", { scope: "row" }, h("time", { datetime: d.date }, dayLabel(d.date))),
          h("td", { class: "num" }, count(d.conversations)),
          kinds.map(([key]) => h("td", { class: "num" }, count(d.outcomes?.[key] ?? 0))))))))));
}
