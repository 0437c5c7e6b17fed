// Sign in and registration.
import { h, field, submitting } from "../dom.js";
import { api, login } from "../api.js";

export function loginPage(main) {
  const form = h("form", { class: "card narrow", "aria-labelledby": "login-title" },
    field("Username or email", { name: "username", autocomplete: "username", required: true }),
    field("Password", { name: "password", type: "password", autocomplete: "current-password", required: true }),
    h("button", { type: "submit" }, "Sign in"),
    h("p", {}, "No account yet? ", h("a", { href: "#/register" }, "Register")));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    submitting(form, async ({ username, password }) => {
      await login(username, password);
      location.hash = "#/chat";
    });
  });
  main.append(h("h1", { id: "login-title" }, "Sign in"), form);
}

export function registerPage(main) {
  const form = h("form", { class: "card narrow", "aria-labelledby": "register-title" },
    field("Username", { name: "username", autocomplete: "username", required: true, minlength: 3, maxlength: 100 }),
    field("Email", { name: "email", type: "email", autocomplete: "email", required: true }),
    field("Full name (optional)", { name: "full_name", autocomplete: "name" }),
    field("Password (at least 8 characters)", { name: "password", type: "password", autocomplete: "new-password", required: true, minlength: 8 }),
    h("button", { type: "submit" }, "Create account"),
    h("p", {}, "Have an account? ", h("a", { href: "#/login" }, "Sign in")));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    submitting(form, async (v) => {
      await api("POST", "/auth/register", {
        username: v.username, email: v.email, password: v.password, full_name: v.full_name || null,
      });
      await login(v.username, v.password);
      location.hash = "#/chat";
    });
  });
  main.append(h("h1", { id: "register-title" }, "Create an account"), form);
}
