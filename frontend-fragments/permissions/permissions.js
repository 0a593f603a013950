/*
 * Yard "permissions" module page (admin only): pick a user (or ?user=ID),
 * or type an EWS account name (for someone who has never signed in: the
 * first grant creates them, POST /grants {"user_sub"}), list their grants,
 * add a grant on a node or task, revoke one.  After
 * every change the list is fetched again from the server.  Uses window.Yard
 * from shared/bridge.js; builds DOM with Yard.el (text only, no HTML).
 *
 * Test hooks: select#grant-user, input#grant-sub, #user-note[data-note],
 * form#grant-create with
 * select#grant-target-type (node|task), select#grant-target,
 * select#grant-level (view|operate|manage); <tr data-grant-id data-target-type
 * data-target-id data-level>, buttons data-action="revoke";
 * #grants-panel[data-state=none|loading|ready|error], #banner, #forbidden,
 * body[data-yard-page=loading|ready|forbidden|error].
 */
(function () {
	"use strict";

	var Y = window.Yard;
	var t = Y.t;
	var el = Y.el;
	var USERS_PAGE = 200;
	var GRANTS_PAGE = 100;
	var TARGETS_PAGE = 200;
	var MAX_PAGES = 5;		/* lists for the selects: 1,000 entries */
	var FILTER_DELAY_MS = 300;

	var S = {
		userId: null,		/* selected user id, as a string */
		sub: null,		/* or an account name not listed yet */
		users: [],
		usersQ: "",
		usersTruncated: false,
		known: new Map(),	/* id -> user, every user ever listed */
		userSeq: 0,
		filterTimer: null,
		grants: [],
		grantsNext: null,
		grantsSeq: 0,
		targets: { node: null, task: null },
		truncated: { node: false, task: false },
		targetSeq: 0
	};

	function $(id) {
		return document.getElementById(id);
	}

	function idValue(s) {
		return /^[0-9]+$/.test(String(s)) ? Number(s) : s;
	}

	function nameSub(name, sub) {
		return name && name !== sub ? name + " (" + sub + ")" :
		    String(sub);
	}

	function userLabel(u) {
		return u ? nameSub(u.name, u.sub) : "";
	}

	function selectedLabel() {
		var u = S.known.get(S.userId);
		var g;

		if (u)
			return userLabel(u);
		g = S.grants.find(function (x) {
			return String(x.user_id) === S.userId;
		});
		if (g && g.user_sub)
			return nameSub(g.user_name, g.user_sub);
		return t("perm.user.unknown", { id: S.userId });
	}

	Y.onReady(init);

	function init() {
		var pre = new URLSearchParams(location.search).get("user");
		var filter = $("user-filter");

		if (pre !== null && /^[0-9]{1,19}$/.test(pre))
			S.userId = pre;

		$("grant-user").addEventListener("change", function (ev) {
			fieldError("user_id", null);
			fieldError("user_sub", null);
			$("grant-sub").value = "";
			S.sub = null;
			selectUser(ev.currentTarget.value);
		});
		$("grant-sub").addEventListener("input", function (ev) {
			typedSub(ev.currentTarget.value);
		});
		filter.addEventListener("input", function () {
			clearTimeout(S.filterTimer);
			S.filterTimer = setTimeout(function () {
				loadUsers(filter.value.trim());
			}, FILTER_DELAY_MS);
		});
		$("grants-more").addEventListener("click", function () {
			loadGrants(false);
		});
		$("grant-target-type").addEventListener("change", function () {
			fieldError("target", null);
			loadTargets($("grant-target-type").value);
		});
		$("grant-target").addEventListener("change", function () {
			fieldError("target", null);
		});
		$("grant-create").addEventListener("submit", onAdd);

		$("user-panel").hidden = false;
		loadUsers("").then(function (ok) {
			if (!ok)
				return;
			$("grants-panel").hidden = false;
			$("add-panel").hidden = false;
			loadGrants(true);
			loadTargets($("grant-target-type").value);
			if (S.userId !== null && !S.known.has(S.userId))
				loadOneUser(S.userId);
		});
	}

	/* A preselected user beyond the listed ones: fetch their name. */
	async function loadOneUser(id) {
		var u;

		try {
			u = await Y.api("GET", "/users/" + encodeURIComponent(id));
		} catch (err) {
			return;		/* keep "User #id"; grants still load */
		}
		if (u === null || typeof u !== "object" || u.sub === undefined)
			return;
		S.known.set(String(u.id), u);
		if (S.userId !== String(u.id))
			return;
		renderUserSelect();
		renderUserNote();
		renderGrants();
	}

	/* Every page of a list, up to MAX_PAGES. */
	async function fetchAll(path, query) {
		var items = [], cursor = null, pages = 0, res;

		do {
			query.cursor = cursor;
			res = await Y.api("GET", path + Y.qs(query));
			if (res && Array.isArray(res.items))
				items = items.concat(res.items);
			cursor = res && res.next !== undefined &&
			    res.next !== null && res.next !== "" ? res.next : null;
			pages++;
		} while (cursor !== null && pages < MAX_PAGES);
		return { items: items, truncated: cursor !== null };
	}

	function showForbidden() {
		["user-panel", "grants-panel", "add-panel"].forEach(function (id) {
			$(id).hidden = true;
		});
		Y.banner($("banner"));
		$("forbidden").hidden = false;
		Y.setPageState("forbidden");
	}

	/* ---- users --------------------------------------------------------- */

	/* Resolves true once the user list is shown, false on failure. */
	async function loadUsers(q) {
		var seq = ++S.userSeq, r;

		try {
			r = await fetchAll("/users", { q: q, limit: USERS_PAGE });
		} catch (err) {
			if (seq !== S.userSeq)
				return false;
			if (err.status === 403) {
				showForbidden();
				return false;
			}
			Y.banner($("banner"), "error", Y.errorText(err));
			Y.setPageState("error");
			return false;
		}
		if (seq !== S.userSeq)
			return false;
		S.users = r.items;
		S.usersQ = q;
		S.usersTruncated = r.truncated;
		r.items.forEach(function (u) {
			S.known.set(String(u.id), u);
		});
		renderUserSelect();
		renderUserNote();
		Y.setPageState("ready");
		return true;
	}

	function renderUserSelect() {
		var sel = Y.clear($("grant-user"));
		var found = false;

		sel.appendChild(el("option", { value: "",
		    text: t("perm.user.placeholder") }));
		S.users.forEach(function (u) {
			var id = String(u.id);
			if (id === S.userId)
				found = true;
			sel.appendChild(el("option", { value: id,
			    dataset: { userSub: u.sub },
			    text: userLabel(u) + (u.disabled ? " · " +
				t("users.status.disabled") : "") +
				(u.last_seen ? "" : " · " + t("perm.never.mark")) }));
		});
		/* Keep the selected user even when the filter hides them. */
		if (S.userId !== null && !found)
			sel.insertBefore(el("option", { value: S.userId,
			    text: selectedLabel() }), sel.options[1] || null);
		sel.value = S.userId !== null ? S.userId : "";
	}

	function renderUserNote() {
		var box = Y.clear($("user-note"));
		var lines = [];
		var u = S.userId !== null ? S.known.get(S.userId) : null;

		if (S.users.length <= 1 && S.usersQ === "" && S.sub === null)
			lines.push(t("perm.users.empty"));
		if (S.sub !== null && S.userId === null)
			lines.push(t("perm.sub.new", { sub: S.sub }));
		if (u && !u.last_seen)
			lines.push(t("perm.user.never", { user: userLabel(u) }));
		if (S.usersTruncated)
			lines.push(t("perm.users.truncated",
			    { n: S.users.length }));
		if (u && (u.admin || u.role_admin))
			lines.push(t("perm.user.admin", { user: userLabel(u) }));
		if (u && u.disabled)
			lines.push(t("perm.user.disabled", { user: userLabel(u) }));
		lines.forEach(function (l) {
			box.appendChild(el("div", { text: l }));
		});
		box.hidden = lines.length === 0;
	}

	function selectUser(id) {
		var p = new URLSearchParams(location.search);
		var q;

		S.userId = id === "" ? null : String(id);
		/* Keep the choice in the address so that a reload keeps it. */
		if (S.userId !== null)
			p.set("user", S.userId);
		else
			p.delete("user");
		q = p.toString();
		history.replaceState(history.state, "",
		    location.pathname + (q !== "" ? "?" + q : ""));
		renderUserNote();
		loadGrants(true);
	}

	/* ---- grants -------------------------------------------------------- */

	async function loadGrants(reset) {
		var seq = ++S.grantsSeq;
		var panel = $("grants-panel");
		var more = $("grants-more");
		var res, items;

		if (S.userId === null) {
			S.grants = [];
			S.grantsNext = null;
			renderGrants();
			panel.dataset.state = "none";
			return;
		}
		panel.dataset.state = "loading";
		more.disabled = true;
		if (reset && S.grants.length === 0)
			renderGrantsLoading();
		try {
			res = await Y.api("GET", "/grants" + Y.qs({
				user_id: S.userId,
				limit: GRANTS_PAGE,
				cursor: reset ? null : S.grantsNext
			}));
		} catch (err) {
			if (seq !== S.grantsSeq)
				return;
			more.disabled = false;
			panel.dataset.state = "error";
			if (err.status === 403) {
				showForbidden();
				return;
			}
			Y.banner($("banner"), "error", Y.errorText(err));
			return;
		}
		if (seq !== S.grantsSeq)
			return;
		more.disabled = false;
		items = res && Array.isArray(res.items) ? res.items : [];
		S.grants = reset ? items : S.grants.concat(items);
		S.grantsNext = res && res.next !== undefined &&
		    res.next !== null && res.next !== "" ? res.next : null;
		renderGrants();
		panel.dataset.state = "ready";
	}

	function renderGrantsLoading() {
		Y.clear($("grants-body")).appendChild(el("tr",
		    { class: "empty-row" }, el("td", { colspan: "6",
			class: "empty loading", text: t("common.loading") })));
	}

	function renderGrants() {
		var body = Y.clear($("grants-body"));
		var sel = $("grant-user");
		var opt;

		$("grants-title").textContent = S.userId === null ?
		    (S.sub !== null ? t("perm.grants.title", { user: S.sub }) :
		    t("perm.grants.titleNone")) :
		    t("perm.grants.title", { user: selectedLabel() });
		/* A preselected user outside the list: name them from grants. */
		if (S.userId !== null && !S.known.has(S.userId)) {
			opt = Array.prototype.find.call(sel.options,
			    function (o) {
				    return o.value === S.userId;
			    });
			if (opt)
				opt.textContent = selectedLabel();
		}
		if (S.grants.length === 0) {
			body.appendChild(el("tr", { class: "empty-row" },
			    el("td", { colspan: "6", class: "empty",
				text: S.userId !== null ? t("perm.empty") :
				    S.sub !== null ? t("perm.sub.new", { sub: S.sub }) :
				    t("perm.user.none") })));
		}
		S.grants.forEach(function (g) {
			body.appendChild(grantRow(g));
		});
		$("grants-count").textContent = S.userId === null ? "" :
		    t(S.grantsNext !== null ? "common.shownMore" :
			"common.shown", { n: S.grants.length });
		$("grants-more").hidden = S.grantsNext === null;
	}

	function grantType(g) {
		return g.task_id !== null && g.task_id !== undefined ?
		    "task" : "node";
	}

	function grantTarget(g) {
		if (grantType(g) === "task")
			return g.task_name || "#" + g.task_id;
		return g.node_name || "#" + g.node_id;
	}

	/* The node of a task grant: node_name, else task_node_id's name. */
	function taskNode(g) {
		var n;

		if (g.node_name)
			return g.node_name;
		if (g.task_node_id === null || g.task_node_id === undefined)
			return null;
		n = (S.targets.node || []).find(function (x) {
			return String(x.id) === String(g.task_node_id);
		});
		return n ? n.name : "#" + g.task_node_id;
	}

	function levelLabel(level) {
		return ["view", "operate", "manage"].indexOf(level) !== -1 ?
		    t("perm.level." + level) : String(level);
	}

	function grantedBy(v) {
		var u;

		if (v === null || v === undefined || v === "")
			return t("common.none");
		if (typeof v === "object")
			return v.name || v.sub || (v.id !== undefined ?
			    "#" + v.id : t("common.none"));
		u = S.known.get(String(v));
		if (typeof v === "number" && u)
			return userLabel(u);
		return typeof v === "number" ? "#" + v : String(v);
	}

	function grantRow(g) {
		var type = grantType(g);

		return el("tr", {
			dataset: {
				grantId: g.id,
				targetType: type,
				targetId: type === "task" ? g.task_id : g.node_id,
				level: g.level
			}
		},
		    el("td", null, el("span", {
			class: type === "task" ? "badge badge--info" : "badge",
			text: t("perm.type." + type) })),
		    el("td", { class: "cell-main cell-wrap" },
			el("span", { text: grantTarget(g) }),
			type === "task" && taskNode(g) !== null ? el("span", {
			    class: "muted", text: " · " +
				t("perm.target.onNode", { node: taskNode(g) })
			}) : null),
		    el("td", null, el("span", {
			class: g.level === "manage" ? "badge badge--danger" :
			    g.level === "operate" ? "badge badge--warning" :
			    "badge badge--success",
			title: ["view", "operate", "manage"].indexOf(g.level) !==
			    -1 ? t("perm.level." + g.level + ".title") : null,
			text: levelLabel(g.level) })),
		    el("td", { title: Y.formatTimeFull(g.created_at),
			text: Y.formatTime(g.created_at) }),
		    el("td", { class: "cell-ellipsis",
			text: grantedBy(g.created_by) }),
		    el("td", { class: "cell-actions" }, el("div",
			{ class: "row-actions" },
			el("button", { type: "button",
			    class: "btn btn--small btn--danger-text",
			    dataset: { action: "revoke" },
			    text: t("perm.action.revoke"),
			    onclick: function (ev) {
				    revoke(g, ev.currentTarget);
			    } }))));
	}

	async function revoke(g, btn) {
		var type = grantType(g);

		if (!await Y.confirm({
			text: t("perm.confirm.revoke", {
				user: selectedLabel(),
				type: t("perm.typeIn." + type),
				target: grantTarget(g),
				level: levelLabel(g.level)
			}),
			ok: t("perm.action.revoke"),
			danger: true,
			anchor: btn
		}))
			return;
		btn.disabled = true;
		btn.setAttribute("aria-busy", "true");
		try {
			await Y.api("DELETE", "/grants/" + encodeURIComponent(g.id));
		} catch (err) {
			btn.disabled = false;
			btn.removeAttribute("aria-busy");
			Y.banner($("banner"), "error", Y.errorText(err));
			/* Gone already (404)?  Show the server's truth. */
			if (err.status === 404)
				loadGrants(true);
			return;
		}
		Y.banner($("banner"), "success", t("perm.revoked"));
		loadGrants(true);
	}

	/* ---- targets (nodes or tasks) -------------------------------------- */

	async function loadTargets(type) {
		var seq = ++S.targetSeq, r;

		if (S.targets[type] !== null) {
			renderTargets(type);
			return;
		}
		renderTargetsLoading();
		try {
			r = await fetchAll(type === "task" ? "/tasks" : "/nodes",
			    { limit: TARGETS_PAGE });
		} catch (err) {
			if (seq !== S.targetSeq)
				return;
			Y.banner($("banner"), "error", Y.errorText(err));
			renderTargetsFailed();
			return;
		}
		S.targets[type] = r.items;
		S.truncated[type] = r.truncated;
		if (seq === S.targetSeq)
			renderTargets(type);
		/* Task grants name their node from this list. */
		if (type === "node" && S.grants.length > 0)
			renderGrants();
	}

	function renderTargetsLoading() {
		var sel = Y.clear($("grant-target"));
		sel.appendChild(el("option", { value: "",
		    text: t("common.loading") }));
		$("grant-target-empty").hidden = true;
	}

	function renderTargetsFailed() {
		var sel = Y.clear($("grant-target"));
		sel.appendChild(el("option", { value: "",
		    text: t("perm.target.placeholder") }));
	}

	function renderTargets(type) {
		var sel = Y.clear($("grant-target"));
		var hint = $("grant-target-empty");
		var items = S.targets[type] || [];
		var groups = new Map();

		sel.appendChild(el("option", { value: "",
		    text: t("perm.target.placeholder") }));
		if (type === "node") {
			items.forEach(function (n) {
				sel.appendChild(el("option", { value: String(n.id),
				    text: n.name + (n.hostname &&
					n.hostname !== n.name ?
					" (" + n.hostname + ")" : "") }));
			});
		} else {
			/* Tasks grouped by node, in the order the API gave. */
			items.forEach(function (k) {
				var key = k.node_name || "#" + k.node_id;
				if (!groups.has(key))
					groups.set(key, el("optgroup",
					    { label: key }));
				groups.get(key).appendChild(el("option", {
					value: String(k.id),
					text: k.name + (k.kind ? " · " +
					    kindLabel(k.kind) : "") }));
			});
			groups.forEach(function (g) {
				sel.appendChild(g);
			});
		}
		if (items.length === 0) {
			hint.textContent = t(type === "task" ?
			    "perm.tasks.empty" : "perm.nodes.empty");
			hint.hidden = false;
		} else if (S.truncated[type]) {
			hint.textContent = t("perm.targets.truncated",
			    { n: items.length });
			hint.hidden = false;
		} else {
			hint.hidden = true;
		}
	}

	/* A task kind in the page language (console, jar, tomcat). */
	function kindLabel(kind) {
		var s = t("tasks.kind." + kind);
		return s === "tasks.kind." + kind ? String(kind) : s;
	}

	function targetName(type, id) {
		var x = (S.targets[type] || []).find(function (o) {
			return String(o.id) === String(id);
		});
		return x ? x.name : "#" + id;
	}

	/* ---- add ----------------------------------------------------------- */

	function fieldError(name, text) {
		var box = document.querySelector(
		    '[data-field-error="' + name + '"]');
		var input = name === "user_id" ? $("grant-user") :
		    name === "user_sub" ? $("grant-sub") :
		    name === "target" ? $("grant-target") :
		    name === "level" ? $("grant-level") : null;

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

	async function onAdd(ev) {
		var form = ev.currentTarget;
		var submit = form.querySelector('button[type="submit"]');
		var type = $("grant-target-type").value === "task" ? "task" : "node";
		var target = $("grant-target").value;
		var level = $("grant-level").value;
		var body, r, who;

		ev.preventDefault();
		["user_id", "user_sub", "target", "level"].forEach(function (f) {
			fieldError(f, null);
		});
		Y.banner($("banner"));
		if (S.userId === null && S.sub !== null && !subOk(S.sub)) {
			fieldError("user_sub", t("perm.sub.bad"));
			$("grant-sub").focus();
			return;
		}
		if (S.userId === null && S.sub === null) {
			fieldError("user_id", t("perm.add.needUser"));
			$("grant-user").focus();
			return;
		}
		if (target === "") {
			fieldError("target", t("error.required"));
			$("grant-target").focus();
			return;
		}
		body = S.userId !== null ? { user_id: idValue(S.userId) } :
		    { user_sub: S.sub };
		body.level = level;
		body[type === "task" ? "task_id" : "node_id"] = idValue(target);
		who = S.userId !== null ? selectedLabel() : S.sub;

		submit.disabled = true;
		submit.setAttribute("aria-busy", "true");
		try {
			r = await Y.request("POST", "/grants", body);
		} catch (err) {
			submit.disabled = false;
			submit.removeAttribute("aria-busy");
			showAddError(err);
			return;
		}
		submit.disabled = false;
		submit.removeAttribute("aria-busy");
		Y.banner($("banner"), "success", t(r.data && r.data.user_created ?
		    "perm.sub.created" : r.status === 200 ?
		    "perm.replaced" : "perm.added", {
			user: who,
			sub: who,
			type: t("perm.typeIn." + type),
			target: targetName(type, target),
			level: levelLabel(level)
		}));
		$("grant-target").value = "";
		if (S.userId === null && r.data && r.data.user_id !== undefined) {
			/* The account is a user now: choose them, list again. */
			S.sub = null;
			$("grant-sub").value = "";
			S.userId = String(r.data.user_id);
			loadUsers(S.usersQ).then(function () {
				if (!S.known.has(S.userId))
					loadOneUser(S.userId);
			});
			selectUser(S.userId);
			return;
		}
		loadGrants(true);
	}

	/*
	 * An account name typed: a listed user of that name is chosen;
	 * another name waits for its first grant, which creates the user.
	 */
	function typedSub(v) {
		var found = null;

		v = v.trim();
		fieldError("user_sub", null);
		fieldError("user_id", null);
		S.known.forEach(function (u) {
			if (u.sub === v)
				found = u;
		});
		if (found !== null) {
			S.sub = null;
			if (S.userId !== String(found.id)) {
				S.userId = String(found.id);
				renderUserSelect();
				selectUser(S.userId);
			}
			announce(t("perm.sub.existing", { sub: v }));
			return;
		}
		S.sub = v === "" ? null : v;
		if (S.userId !== null) {
			S.userId = null;
			renderUserSelect();
			selectUser("");
		} else {
			renderUserNote();
			renderGrants();
		}
		if (S.sub !== null && !subOk(S.sub))
			fieldError("user_sub", t("perm.sub.bad"));
	}

	function announce(text) {
		var box = $("user-note");

		renderUserNote();
		box.appendChild(el("div", { text: text }));
		box.hidden = false;
	}

	/* The server's rule (api_sub_ok): 1-255 bytes, no controls, trimmed. */
	function subOk(v) {
		return v !== "" && new TextEncoder().encode(v).length <= 255 &&
		    !/[\u0000-\u001f\u007f]/.test(v) && v.trim() === v;
	}

	function showAddError(err) {
		var f = err.field;
		var map = { node_id: "target", task_id: "target",
		    target: "target", user_id: "user_id", level: "level",
		    user_sub: "user_sub" };

		if (err.status === 404 && !f)
			f = "target";
		if ((err.status === 400 || err.status === 404 ||
		    err.status === 409) && f && map[f] &&
		    fieldError(map[f], Y.errorText(err)))
			return;
		Y.banner($("banner"), "error", Y.errorText(err));
	}
})();
