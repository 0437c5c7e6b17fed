// User management for superusers: search, disable and enable, superuser,
// roles.
import { h, field, formValues, submitting, toast } from "../dom.js";
import { api } from "../api.js";

const pageSize = 20;

export async function adminUsersPage(main) {
  let offset = 0;
  let roles = [];
  const search = h("form", { class: "row", role: "search" },
    field("Search users", { name: "search", type: "search" }),
    h("button", { type: "submit" }, "Search"));
  const table = h("table", {},
    h("caption", { class: "sr-only" }, "Users"),
    h("thead", {}, h("tr", {}, ...["User", "Email", "Status", "Roles", "Actions"].map((t) => h("th", { scope: "col" }, t)))),
    h("tbody"));
  const pager = h("div", { class: "row" });

  // Loads may overlap (a search while an action reloads); the latest wins.
  let latest = 0;
  const load = async () => {
    const mine = ++latest;
    const q = encodeURIComponent(formValues(search).search || "");
    const [{ data, total }, all] = await Promise.all([
      api("GET", `/auth/users?limit=${pageSize}&offset=${offset}&search=${q}`),
      api("GET", "/auth/roles"),
    ]);
    roles = all.data;
    const rows = await Promise.all(data.map(row));
    if (mine !== latest) return;
    table.tBodies[0].replaceChildren(...rows);
    pager.replaceChildren(
      h("button", { type: "button", class: "secondary", disabled: offset === 0, onclick: () => { offset -= pageSize; load(); } }, "Previous"),
      h("span", {}, `${total ? offset + 1 : 0}–${offset + data.length} of ${total}`),
      h("button", { type: "button", class: "secondary", disabled: offset + data.length >= total, onclick: () => { offset += pageSize; load(); } }, "Next"));
  };
  search.addEventListener("submit", (e) => { e.preventDefault(); offset = 0; load(); });

  const act = (fn, done) => async (e) => {
    e.target.disabled = true;
    try { await fn(); toast(done); await load(); } catch (err) { toast(err.message, true); e.target.disabled = false; }
  };

  const row = async (u) => {
    const { data: mine } = await api("GET", `/auth/users/${u.id}/roles`);
    const has = new Set(mine.map((r) => r.id));
    const roleBoxes = h("fieldset", { class: "roles" }, h("legend", { class: "sr-only" }, `Roles of ${u.username}`),
      ...roles.map((r) => h("label", { class: "check" },
        h("input", { type: "checkbox", value: r.id, checked: has.has(r.id) }), " " + r.name)),
      roles.length > 0 && h("button", { type: "button", class: "secondary", onclick: act(async () => {
        const ids = [...roleBoxes.querySelectorAll("input:checked")].map((i) => Number(i.value));
        await api("PUT", `/auth/users/${u.id}/roles`, { role_ids: ids });
      }, `Roles of ${u.username} saved`) }, "Save roles"));
    return h("tr", { "data-username": u.username },
      h("td", {}, u.username, u.full_name ? h("div", { class: "muted" }, u.full_name) : null),
      h("td", {}, u.email),
      h("td", {}, u.is_active ? "active" : "disabled", u.is_superuser ? " · superuser" : ""),
      h("td", {}, roleBoxes),
      h("td", { class: "actions" },
        h("button", { type: "button", class: u.is_active ? "danger" : "", onclick: act(
          () => api("PUT", `/auth/users/${u.id}/${u.is_active ? "disable" : "enable"}`),
          `${u.username} ${u.is_active ? "disabled" : "enabled"}`) }, u.is_active ? "Disable" : "Enable"),
        h("button", { type: "button", class: "secondary", onclick: act(
          () => api("PUT", `/auth/users/${u.id}/superuser`, { is_superuser: !u.is_superuser }),
          `${u.username} updated`) }, u.is_superuser ? "Remove superuser" : "Make superuser")));
  };

  const roleForm = h("form", { class: "card row" },
    field("New role", { name: "name", required: true, maxlength: 100 }),
    field("Description", { name: "description", maxlength: 255 }),
    h("button", { type: "submit" }, "Create role"));
  roleForm.addEventListener("submit", (e) => {
    e.preventDefault();
    submitting(roleForm, async (v) => {
      await api("POST", "/auth/roles", { name: v.name, description: v.description || null });
      roleForm.reset();
      toast("Role created");
      await load();
    });
  });

  // The Temporal Web UI decodes encrypted turns through the API's codec
  // endpoint with a cookie this browser gets here.
  const codec = h("p", { class: "card row" },
    h("span", {}, "Read encrypted turns in the Temporal Web UI from this browser:"),
    h("button", { type: "button", class: "secondary", onclick: async () => {
      try {
        await api("POST", "/auth/codec-session");
        toast("This browser may decode Temporal payloads until you log out");
      } catch (e) { toast(e.message, true); }
    } }, "Allow decoding"));

  main.append(h("h1", {}, "Users"), search, h("div", { class: "scroll" }, table), pager, roleForm, codec);
  await load();
}
