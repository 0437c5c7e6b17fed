// A small markdown renderer for previews of knowledge base articles. It
// builds DOM nodes with h(), never HTML strings: markup written in an
// article (<script>, <img onerror>) shows as the text it is, and a link
// is made only to an http(s) address. It knows the markdown articles are
// written in: headings, paragraphs, lists (nested by indenting), block
// quotes, fenced code, rules, and inline code, emphasis, strong, struck
// text and links; anything else shows as text.
import { h, safeHref } from "./dom.js";

const fence = /^ {0,3}(`{3,}|~{3,})\s*([^`\s]*)[^`]*$/;
const heading = /^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$/;
const rule = /^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$/;
const quote = /^ {0,3}> ?(.*)$/;
const item = /^( {0,3})([-*+]|\d{1,9}[.)])(?:[ \t]+(.*))?$/;

// renderMarkdown is the markdown text as a fragment of elements. A heading
// of level n becomes h(n + shift), so that an article's "#" sits below
// the page's own h1 (at most h6).
export function renderMarkdown(text, shift = 1) {
  const fragment = document.createDocumentFragment();
  fragment.append(...blocks(String(text ?? "").replace(/\r\n?/g, "\n").split("\n"), shift));
  return fragment;
}

// startsBlock says whether a line ends a paragraph by starting a block.
function startsBlock(line) {
  return fence.test(line) || heading.test(line) || rule.test(line) || quote.test(line) || item.test(line);
}

function blocks(lines, shift) {
  const out = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    let m;
    if (!line.trim()) { i++; continue; }
    if ((m = line.match(fence))) {
      const marker = m[1];
      const code = [];
      for (i++; i < lines.length; i++) {
        const end = lines[i].trim();
        if (end.startsWith(marker[0].repeat(marker.length)) && !end.replace(new RegExp("\\" + marker[0], "g"), "")) break;
        code.push(lines[i]);
      }
      i++; // the closing fence (or the end of the text)
      out.push(h("pre", {}, h("code", { "data-language": m[2] || undefined }, code.join("\n"))));
      continue;
    }
    if ((m = line.match(heading))) {
      out.push(h("h" + Math.min(6, m[1].length + shift), {}, inline(m[2] || "")));
      i++;
      continue;
    }
    if (rule.test(line)) { out.push(h("hr")); i++; continue; }
    if (quote.test(line)) {
      const inner = [];
      while (i < lines.length && lines[i].trim() && (m = lines[i].match(quote) || [null, lines[i]])) {
        inner.push(m[1]);
        i++;
      }
      out.push(h("blockquote", {}, blocks(inner, shift)));
      continue;
    }
    if ((m = line.match(item))) {
      const [list, next] = listAt(lines, i, shift);
      out.push(list);
      i = next;
      continue;
    }
    const para = [];
    while (i < lines.length && lines[i].trim() && (para.length === 0 || !startsBlock(lines[i]))) {
      para.push(lines[i].trimStart()); // trailing spaces may break the line
      i++;
    }
    out.push(h("p", {}, inline(para.join("\n").trimEnd())));
  }
  return out;
}

// listAt reads the list starting at lines[i]: its items, each with the
// lines indented under it (a nested list, more paragraphs) rendered as
// blocks of their own. It returns the list and the index after it.
function listAt(lines, i, shift) {
  const first = lines[i].match(item);
  const ordered = /\d/.test(first[2]);
  const items = [];
  let loose = false;
  while (i < lines.length) {
    const m = lines[i].match(item);
    if (!m || /\d/.test(m[2]) !== ordered) break;
    const indent = m[1].length + m[2].length + 1;
    const content = [m[3] || ""];
    let blank = false;
    for (i++; i < lines.length; i++) {
      const line = lines[i];
      if (!line.trim()) { blank = true; content.push(""); continue; }
      const lead = line.match(/^ */)[0].length;
      if (lead >= Math.min(indent, 4)) { content.push(line.slice(Math.min(lead, indent))); blank = false; continue; }
      // A line not indented continues the item's paragraph (lazily), unless
      // a blank line came before it or it starts a block of its own.
      if (!blank && !startsBlock(line)) { content.push(line.trim()); continue; }
      break;
    }
    while (content.length && !content[content.length - 1].trim()) content.pop();
    if (content.some((l) => !l.trim())) loose = true;
    items.push(content);
    if (!blank) continue;
    if (i < lines.length && item.test(lines[i])) loose = true; // a blank line between items
    else break;
  }
  const list = h(ordered ? "ol" : "ul", { start: ordered && parseInt(first[2], 10) !== 1 ? parseInt(first[2], 10) : undefined },
    items.map((content) => {
      const inner = blocks(content, shift);
      // A tight list's item is its text, not a paragraph.
      return h("li", {}, !loose && inner[0]?.tagName === "P" ? [...inner[0].childNodes, ...inner.slice(1)] : inner);
    }));
  return [list, i];
}

// inline turns the text of a paragraph, heading or item into nodes.
function inline(s, inLink = false) {
  const out = [];
  let text = "";
  const flush = () => { if (text) out.push(text); text = ""; };
  let i = 0;
  while (i < s.length) {
    const c = s[i];
    // A backslash before punctuation makes it plain text.
    if (c === "\\" && i + 1 < s.length && /[!-/:-@[-`{-~]/.test(s[i + 1])) {
      text += s[i + 1];
      i += 2;
      continue;
    }
    if (c === "`") {
      const run = s.slice(i).match(/^`+/)[0];
      const end = s.indexOf(run, i + run.length);
      if (end > 0) {
        flush();
        out.push(h("code", {}, s.slice(i + run.length, end).replace(/\n/g, " ").replace(/^ (.*) $/, "$1")));
        i = end + run.length;
        continue;
      }
      text += run;
      i += run.length;
      continue;
    }
    if (c === "!" && s[i + 1] === "[") {
      // An image shows as its description: articles link, they do not embed.
      const link = linkAt(s, i + 1);
      if (link) {
        text += link.label;
        i = link.end;
        continue;
      }
    }
    if (c === "[" && !inLink) {
      const link = linkAt(s, i);
      if (link) {
        flush();
        const href = safeHref(link.url);
        out.push(href
          ? h("a", { href, target: "_blank", rel: "noopener noreferrer", title: link.title || undefined }, inline(link.label, true))
          : h("span", { class: "unsafe-link", title: "Not a link: only http(s) addresses are linked" }, inline(link.label)));
        i = link.end;
        continue;
      }
    }
    if (c === "<" && !inLink) {
      const auto = s.slice(i).match(/^<(https?:\/\/[^\s<>]+)>/i);
      if (auto && safeHref(auto[1])) {
        flush();
        out.push(h("a", { href: safeHref(auto[1]), target: "_blank", rel: "noopener noreferrer" }, auto[1]));
        i += auto[0].length;
        continue;
      }
    }
    if ((c === "h" || c === "H") && !inLink && !/\w/.test(s[i - 1] || "")) {
      // A bare address is a link, without the punctuation that ends a sentence.
      const bare = s.slice(i).match(/^https?:\/\/[^\s<>]+/i);
      if (bare) {
        const url = bare[0].replace(/[.,;:!?)'"]+$/, "");
        if (safeHref(url)) {
          flush();
          out.push(h("a", { href: safeHref(url), target: "_blank", rel: "noopener noreferrer" }, url));
          i += url.length;
          continue;
        }
      }
    }
    if (c === "*" || c === "_" || c === "~") {
      const span = emphasisAt(s, i);
      if (span) {
        flush();
        out.push(h(span.tag, {}, inline(span.inner, inLink)));
        i = span.end;
        continue;
      }
      const run = s.slice(i).match(/^([*_~])\1*/)[0];
      text += run;
      i += run.length;
      continue;
    }
    if (c === "\n") {
      // Two spaces or a backslash at a line's end break the line.
      if (/( {2,}|\\)$/.test(text)) {
        text = text.replace(/( {2,}|\\)$/, "");
        flush();
        out.push(h("br"));
      } else text += "\n";
      i++;
      continue;
    }
    text += c;
    i++;
  }
  flush();
  return out;
}

// linkAt reads [label](url "title") at s[i] === "[": the label may hold
// brackets in pairs, the url parentheses in pairs. Null when it is not one.
function linkAt(s, i) {
  let depth = 0;
  let j = i;
  for (; j < s.length; j++) {
    if (s[j] === "\\") { j++; continue; }
    if (s[j] === "[") depth++;
    else if (s[j] === "]" && --depth === 0) break;
  }
  if (j >= s.length || s[j + 1] !== "(") return null;
  let k = j + 2;
  depth = 1;
  for (; k < s.length; k++) {
    if (s[k] === "(") depth++;
    else if (s[k] === ")" && --depth === 0) break;
  }
  if (k >= s.length) return null;
  const target = s.slice(j + 2, k).trim().match(/^<?([^\s>]*)>?(?:\s+["'(](.*)["')])?$/);
  if (!target) return null;
  return { label: s.slice(i + 1, j), url: target[1], title: target[2], end: k + 1 };
}

// emphasisAt reads **strong**, __strong__, *em*, _em_ or ~~struck~~ at
// s[i]. The text inside may not start or end with a space, and an
// underscore inside a word (snake_case) is no emphasis.
function emphasisAt(s, i) {
  const c = s[i];
  const double = s[i + 1] === c;
  if (c === "~" && !double) return null;
  const delim = double ? c + c : c;
  const from = i + delim.length;
  if (!s[from] || /\s/.test(s[from])) return null;
  if (c === "_" && /\w/.test(s[i - 1] || "")) return null;
  for (let j = s.indexOf(delim, from + 1); j >= 0; j = s.indexOf(delim, j + 1)) {
    // A single delimiter does not close on half of a double one.
    if (!double && (s[j + 1] === c || s[j - 1] === c)) {
      j++;
      continue;
    }
    if (/\s/.test(s[j - 1])) continue;
    if (c === "_" && /\w/.test(s[j + delim.length] || "")) continue;
    const tag = c === "~" ? "del" : double ? "strong" : "em";
    return { tag, inner: s.slice(from, j), end: j + delim.length };
  }
  return null;
}
