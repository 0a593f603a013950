/*
 * Yard "users" module page (admin only): list, search and page through
 * users (all, or those who never signed in), create one, mark/unmark
 * admin, disable/enable.  The admin's own row offers neither (the server
 * refuses both with 409 self); a user who never signed in is marked.  Uses window.Yard
 * from shared/bridge.js; builds DOM with Yard.el (text only, no HTML).
 *
 * Test hooks: <tr data-user-sub data-user-id data-admin data-disabled
 * data-never data-self>, [data-badge=never], buttons data-action=
 * "toggle-admin" | "toggle-disabled" | "grants", [data-self-note],
 * form#user-create, #load-more, #user-search, #user-seen, #banner, #forbidden,
 * body[data-yard-page=loading|ready|forbidden|error].
 */
(function () {
	"use strict";

	var Y = window.Yard;
	var t = Y.t;
	var el = Y.el;
	var PAGE = 50;
	var SEARCH_DELAY_MS = 300;
	var FIELDS = ["sub", "name", "email", "admin"];

	var S = {
		q: "",
		never: false,
		items: [],
		next: null,
		seq: 0,
		loaded: false,
		highlight: null,
		searchTimer: null
	};

	function $(id) {
		return document.getElementById(id);
	}

	Y.onReady(init);

	function init() {
		var search = $("user-search");

		search.addEventListener("input", function () {
			clearTimeout(S.searchTimer);
			S.searchTimer = setTimeout(function () {
				setQuery(search.value);
			}, SEARCH_DELAY_MS);
		});
		search.addEventListener("keydown", function (ev) {
			if (ev.key === "Enter") {
				ev.preventDefault();
				clearTimeout(S.searchTimer);
				setQuery(search.value);
			}
		});
		$("user-seen").addEventListener("change", function (ev) {
			S.never = ev.currentTarget.value === "1";
			load(true);
		});
		$("load-more").addEventListener("click", function () {
			load(false);
		});
		$("user-create").addEventListener("submit", onCreate);
		FIELDS.forEach(function (f) {
			var input = fieldInput(f);
			if (input !== null)
				input.addEventListener("input", function () {
					fieldError(f, null);
				});
		});
		renderLoading();
		load(true);
	}

	function setQuery(v) {
		v = v.trim();
		if (v === S.q && S.loaded)
			return;
		S.q = v;
		load(true);
	}

	/* ---- list ---------------------------------------------------------- */

	async function load(reset) {
		var seq = ++S.seq;
		var more = $("load-more");
		var res;

		more.disabled = true;
		more.setAttribute("aria-busy", "true");
		try {
			res = await Y.api("GET", "/users" + Y.qs({
				q: S.q,
				never_signed_in: S.never ? 1 : null,
				limit: PAGE,
				cursor: reset ? null : S.next
			}));
		} catch (err) {
			if (seq !== S.seq)
				return;
			more.disabled = false;
			more.removeAttribute("aria-busy");
			if (err.status === 403) {
				showForbidden();
				return;
			}
			Y.banner($("banner"), "error", Y.errorText(err));
			if (!S.loaded) {
				S.loaded = true;
				showPanels();
				render();
				Y.setPageState("error");
			}
			return;
		}
		if (seq !== S.seq)
			return;
		more.disabled = false;
		more.removeAttribute("aria-busy");
		var items = res && Array.isArray(res.items) ? res.items : [];
		S.items = reset ? items : addItems(S.items, items);
		S.next = res && res.next !== undefined && res.next !== null &&
		    res.next !== "" ? res.next : null;
		S.loaded = true;
		showPanels();
		render();
		Y.setPageState("ready");
	}

	/* Append a page, skipping users already shown (e.g. just created). */
	function addItems(have, page) {
		var ids = new Set(have.map(function (u) {
			return u.id;
		}));
		return have.concat(page.filter(function (u) {
			return !ids.has(u.id);
		}));
	}

	function showPanels() {
		$("forbidden").hidden = true;
		$("users-panel").hidden = false;
		$("create-panel").hidden = false;
	}

	function showForbidden() {
		$("users-panel").hidden = true;
		$("create-panel").hidden = true;
		Y.banner($("banner"));
		$("forbidden").hidden = false;
		Y.setPageState("forbidden");
	}

	function renderLoading() {
		var body = Y.clear($("users-body"));
		body.appendChild(el("tr", { class: "empty-row" },
		    el("td", { colspan: "7", class: "empty loading",
			text: t("common.loading") })));
		$("users-panel").hidden = false;
	}

	function render() {
		var body = Y.clear($("users-body"));
		var count = $("users-count");
		var more = $("load-more");
		var never;

		if (S.items.length === 0) {
			body.appendChild(el("tr", { class: "empty-row" },
			    el("td", { colspan: "7", class: "empty",
				text: S.q !== "" ?
				    t("users.empty.search", { q: S.q }) :
				    S.never ? t("users.empty.never") :
				    t("users.empty") })));
		}
		S.items.forEach(function (u) {
			body.appendChild(row(u));
		});
		never = S.items.filter(function (u) {
			return !u.last_seen;
		}).length;
		count.textContent = t(S.next !== null ? "common.shownMore" :
		    "common.shown", { n: S.items.length }) +
		    (never > 0 && !S.never ? " · " +
			t("users.count.never", { count: never }) : "");
		more.hidden = S.next === null;
	}

	function isSelf(u) {
		return Y.me !== null && Y.me !== undefined &&
		    (u.id === Y.me.id || (u.sub && u.sub === Y.me.sub));
	}

	function row(u) {
		var self = isSelf(u);
		var adminBadges = [];

		if (u.admin)
			adminBadges.push(el("span", { class: "badge badge--accent",
			    dataset: { badge: "yard-admin" },
			    title: t("users.badge.yard.title"),
			    text: t("users.badge.yard") }));
		if (u.role_admin)
			adminBadges.push(el("span", { class: "badge badge--info",
			    dataset: { badge: "ews-admin" },
			    title: t("users.badge.ews.title"),
			    text: t("users.badge.ews") }));
		if (adminBadges.length === 0)
			adminBadges.push(el("span", { class: "muted",
			    text: t("common.none") }));

		var tr = el("tr", {
			class: [u.disabled ? "is-disabled" : null,
			    S.highlight !== null && S.highlight === u.sub ?
			    "is-highlight" : null],
			dataset: {
				userSub: u.sub,
				userId: u.id,
				admin: Boolean(u.admin),
				roleAdmin: Boolean(u.role_admin),
				disabled: Boolean(u.disabled),
				never: !u.last_seen,
				self: self
			}
		},
		    el("td", { class: "cell-main mono" }, u.sub,
			self ? el("span", { class: "muted",
			    text: " " + t("users.you") }) : null),
		    el("td", { class: "cell-main cell-ellipsis cell-ellipsis--narrow",
			title: u.name || "", text: u.name || "" }),
		    el("td", { class: "cell-ellipsis", title: u.email || "",
			text: u.email || "" }),
		    el("td", null, adminBadges),
		    el("td", null, u.disabled ?
			el("span", { class: "badge badge--danger",
			    text: t("users.status.disabled") }) :
			el("span", { class: "badge badge--success",
			    text: t("users.status.active") })),
		    u.last_seen ? el("td", { title: Y.formatTimeFull(u.last_seen),
			text: Y.formatTime(u.last_seen) }) :
			el("td", null, el("span", { class: "badge badge--warning",
			    dataset: { badge: "never" },
			    title: t("users.never.title"),
			    text: t("users.never") })),
		    el("td", { class: "cell-actions" }, el("div",
			{ class: "row-actions" }, self ? el("span", {
			    class: "muted", dataset: { selfNote: "" },
			    text: t("users.self.note") }) : [
			el("button", { type: "button",
			    class: "btn btn--small",
			    dataset: { action: "toggle-admin" },
			    text: t(u.admin ? "users.action.removeAdmin" :
				"users.action.makeAdmin"),
			    onclick: function (ev) {
				    toggle(u, "admin", ev.currentTarget);
			    } }),
			el("button", { type: "button",
			    class: u.disabled ? "btn btn--small" :
				"btn btn--small btn--danger-text",
			    dataset: { action: "toggle-disabled" },
			    text: t(u.disabled ? "users.action.enable" :
				"users.action.disable"),
			    onclick: function (ev) {
				    toggle(u, "disabled", ev.currentTarget);
			    } })],
			el("button", { type: "button",
			    class: "btn btn--small btn--link",
			    dataset: { action: "grants" },
			    title: t("users.action.grants.title"),
			    text: t("users.action.grants"),
			    onclick: function () {
				    Y.navigate("permissions", { user: u.id });
			    } }))));
		return tr;
	}

	function label(u) {
		return u.name && u.name !== u.sub ? u.name + " (" + u.sub + ")" :
		    u.sub;
	}

	async function toggle(u, what, btn) {
		var key, body, updated, i, tr;

		if (what === "admin") {
			key = u.admin ? "removeAdmin" : "makeAdmin";
			body = { admin: !u.admin };
		} else {
			key = u.disabled ? "enable" : "disable";
			body = { disabled: !u.disabled };
		}
		if (!await Y.confirm({
			text: t("users.confirm." + key, { user: label(u) }),
			ok: t("users.action." + key),
			danger: key === "disable" || key === "removeAdmin",
			anchor: btn
		}))
			return;
		btn.disabled = true;
		btn.setAttribute("aria-busy", "true");
		try {
			updated = await Y.api("PATCH", "/users/" +
			    encodeURIComponent(u.id), body);
		} catch (err) {
			btn.disabled = false;
			btn.removeAttribute("aria-busy");
			Y.banner($("banner"), "error", Y.errorText(err));
			return;
		}
		if (updated === null || typeof updated !== "object" ||
		    updated.sub === undefined) {
			/* Unexpected answer: trust the server's list instead. */
			load(true);
			return;
		}
		i = S.items.indexOf(u);
		if (i !== -1)
			S.items[i] = updated;
		tr = btn.closest("tr");
		if (tr !== null)
			tr.replaceWith(row(updated));
		Y.banner($("banner"), "success",
		    t("users.done." + key, { user: label(updated) }));
	}

	/* ---- create -------------------------------------------------------- */

	function fieldInput(name) {
		return $("user-create").elements.namedItem(name);
	}

	function fieldError(name, text) {
		var box = $("user-create").querySelector(
		    '[data-field-error="' + name + '"]');
		var input = fieldInput(name);

		if (box === null)
			return false;
		box.textContent = text || "";
		box.hidden = !text;
		if (input !== null) {
			if (text)
				input.setAttribute("aria-invalid", "true");
			else
				input.removeAttribute("aria-invalid");
		}
		return true;
	}

	async function onCreate(ev) {
		var form = ev.currentTarget;
		var submit = form.querySelector('button[type="submit"]');
		var sub, name, email, body, user;

		ev.preventDefault();
		FIELDS.forEach(function (f) {
			fieldError(f, null);
		});
		Y.banner($("banner"));
		sub = fieldInput("sub").value.trim();
		name = fieldInput("name").value.trim();
		email = fieldInput("email").value.trim();
		if (sub === "") {
			fieldError("sub", t("error.required"));
			fieldInput("sub").focus();
			return;
		}
		body = { sub: sub, admin: fieldInput("admin").checked };
		if (name !== "")
			body.name = name;
		if (email !== "")
			body.email = email;

		submit.disabled = true;
		submit.setAttribute("aria-busy", "true");
		try {
			user = await Y.api("POST", "/users", body);
		} catch (err) {
			submit.disabled = false;
			submit.removeAttribute("aria-busy");
			showCreateError(err);
			return;
		}
		submit.disabled = false;
		submit.removeAttribute("aria-busy");
		form.reset();
		Y.banner($("banner"), "success",
		    t("users.created", { user: user ? label(user) : sub }));
		if (user === null || typeof user !== "object" ||
		    user.sub === undefined) {
			load(true);
			return;
		}
		/*
		 * Show the new user at the top, highlighted, whatever the
		 * filter or page; later pages skip it (see addItems).
		 */
		S.highlight = user.sub;
		S.items = [user].concat(S.items.filter(function (u) {
			return u.id !== user.id;
		}));
		render();
	}

	function showCreateError(err) {
		var field = err.field;

		if (err.status === 409 && err.code === "exists" && !field)
			field = "sub";
		if ((err.status === 400 || err.status === 409) && field &&
		    fieldError(field, Y.errorText(err))) {
			var input = fieldInput(field);
			if (input !== null && typeof input.focus === "function")
				input.focus();
			return;
		}
		Y.banner($("banner"), "error", Y.errorText(err));
	}
})();
