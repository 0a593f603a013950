/*
 * Yard "commands" module page: the ledger of commands the user may view,
 * newest first, filtered by node, task, state, user (admins pick anyone;
 * everyone has "issued by me") and time;
 * a row opens its detail (every state change with its time, the agent's
 * output and exit status).  The first page refreshes every 3 s.
 * ?task=ID and ?node=ID preselect a filter.  A running deploy, update,
 * rollback or move shows its step and percent (the agent's progress) in
 * its row and in the detail, which is polled every second while it runs.
 *
 * Test hooks: <tr data-command-id data-type data-state>, #f-node,
 * #f-task, #f-state, #f-user (admins), #f-mine, #command-detail, #detail-events li[data-state],
 * #detail-output, .progress[data-step][data-percent] (row and
 * #detail-progress).
 */
(function () {
	"use strict";

	var Y = window.Yard;
	var t = Y.t;
	var el = Y.el;
	var PAGE = 50;
	var REFRESH_MS = 3000;
	var DETAIL_POLL_MS = 1000;
	var LIVE = ["queued", "dispatched", "running"];

	var S = { items: [], next: null, seq: 0, timer: null, open: null,
	    preset: {}, detailTimer: null };

	function $(id) {
		return document.getElementById(id);
	}

	Y.onReady(init);

	function init() {
		var p = new URLSearchParams(location.search);

		["task", "node"].forEach(function (k) {
			if (/^[0-9]{1,18}$/.test(p.get(k) || ""))
				S.preset[k] = p.get(k);
		});
		$("filters").addEventListener("change", function () {
			load(true);
		});
		$("filters").addEventListener("submit", function (ev) {
			ev.preventDefault();
		});
		$("load-more").addEventListener("click", function () {
			load(false);
		});
		document.querySelector('[data-action="close-detail"]')
		    .addEventListener("click", function () {
			S.open = null;
			clearTimeout(S.detailTimer);
			$("command-detail").hidden = true;
		});
		Promise.all([options("/nodes", "f-node", "node"),
		    options("/tasks", "f-task", "task"), users()]).then(function () {
			load(true);
		});
	}

	async function options(path, id, preset) {
		var res, sel = $(id);

		try {
			res = await Y.api("GET", path + Y.qs({ limit: 200 }));
		} catch (err) {
			return;
		}
		(res.items || []).forEach(function (x) {
			sel.appendChild(el("option", { value: String(x.id),
			    text: x.node_name ? x.name + " @ " + x.node_name :
			    x.name }));
		});
		if (S.preset[preset])
			sel.value = S.preset[preset];
	}

	/* Admins filter by any user (the user list is theirs to read). */
	async function users() {
		var res, sel = $("f-user");

		if (!Y.me || !Y.me.admin)
			return;
		try {
			res = await Y.api("GET", "/users" + Y.qs({ limit: 200 }));
		} catch (err) {
			return;
		}
		(res.items || []).forEach(function (u) {
			sel.appendChild(el("option", { value: String(u.id),
			    text: u.name ? u.name + " (" + u.sub + ")" : u.sub }));
		});
		sel.hidden = false;
	}

	function isoOf(v) {
		return v ? new Date(v).toISOString() : null;
	}

	async function load(reset) {
		var f = $("filters").elements, seq = ++S.seq, res;

		clearTimeout(S.timer);
		try {
			res = await Y.api("GET", "/commands" + Y.qs({
				node_id: f.node_id.value || null,
				task_id: f.task_id.value || null,
				state: f.state.value || null,
				user_id: f.user_id.value ||
				    (f.mine.checked && Y.me ? Y.me.id : null),
				from: isoOf(f.from.value),
				to: isoOf(f.to.value),
				limit: PAGE,
				cursor: reset ? null : S.next
			}));
		} catch (err) {
			if (seq !== S.seq)
				return;
			Y.banner($("banner"), "error", Y.errorText(err));
			Y.setPageState("error");
			return;
		}
		if (seq !== S.seq)
			return;
		Y.banner($("banner"), null);
		S.items = reset ? res.items || [] :
		    S.items.concat(res.items || []);
		S.next = res.next || null;
		$("commands-panel").hidden = false;
		$("load-more").hidden = S.next === null;
		render();
		Y.setPageState("ready");
		if (reset)
			S.timer = setTimeout(function () {
				load(true);
			}, REFRESH_MS);
		if (S.open !== null)
			detail(S.open);
	}

	function badge(state) {
		var kind = { succeeded: "success", failed: "danger",
		    timed_out: "danger", running: "info", dispatched: "info",
		    queued: "" }[state] || "";

		return el("span", { class: "badge" + (kind ? " badge--" + kind :
		    ""), dataset: { state: state },
		    text: t("tasks.cmdstate." + state) });
	}

	/* A running command's progress (deploy, update, rollback, move). */
	function progress(c) {
		if (c.state !== "running" || !c.progress)
			return null;
		return Y.progressBar(c.progress);
	}

	function took(c) {
		if (!c.finished_at)
			return "—";
		return ((Date.parse(c.finished_at) - Date.parse(c.issued_at)) /
		    1000).toFixed(1) + " s";
	}

	function render() {
		var body = $("commands-body");

		Y.clear(body);
		if (S.items.length === 0)
			body.appendChild(el("tr", { class: "empty-row" },
			    el("td", { colspan: "6", class: "empty",
				text: t("commands.empty") })));
		S.items.forEach(function (c) {
			var tr = el("tr", { class: "is-clickable" +
			    (c.id === S.open ? " is-selected" : ""),
			    dataset: { commandId: c.id, type: c.type,
			    state: c.state } },
			    el("td", { text: Y.formatTime(c.issued_at) }),
			    el("td", { text: c.type }),
			    el("td", { text: c.task_name ? c.task_name + " @ " +
				c.node_name : c.node_name }),
			    el("td", { dataset: { cell: "state" } }, badge(c.state),
				progress(c)),
			    el("td", { text: c.issued_by_sub || "—" }),
			    el("td", { class: "cell-num", text: took(c) }));
			tr.addEventListener("click", function () {
				S.open = c.id;
				render();
				detail(c.id);
			});
			body.appendChild(tr);
		});
	}

	async function detail(id) {
		var d, ev = $("detail-events"), pr, row;

		clearTimeout(S.detailTimer);
		try {
			d = await Y.api("GET", "/commands/" + id);
		} catch (err) {
			Y.banner($("banner"), "error", Y.errorText(err));
			return;
		}
		if (S.open !== id)
			return;
		$("command-detail").hidden = false;
		$("command-detail").dataset.state = d.state;
		$("detail-title").textContent = d.type + " · " +
		    (d.task_name ? d.task_name + " @ " : "") + d.node_name;
		$("detail-facts").textContent = t("commands.detail.facts", {
			user: d.issued_by_sub || "—",
			exit: d.exit_status === null ||
			    d.exit_status === undefined ? "—" :
			    String(d.exit_status),
			agent: d.agent_received_ms && d.agent_finished_ms ?
			    String(d.agent_finished_ms - d.agent_received_ms) :
			    "—"
		});
		Y.clear(ev);
		(d.events || []).forEach(function (e) {
			ev.appendChild(el("li", { dataset: { state: e.state } },
			    el("span", { class: "muted",
				text: Y.formatTimeFull(e.at) + " " }),
			    badge(e.state)));
		});
		$("detail-output").textContent = d.output || t("commands.noOutput");
		/* The list's row follows the detail between refreshes. */
		row = $("commands-body").querySelector('tr[data-command-id="' +
		    d.id + '"] td[data-cell="state"]');
		if (row !== null) {
			Y.clear(row);
			row.appendChild(badge(d.state));
			if (progress(d))
				row.appendChild(progress(d));
		}
		pr = $("detail-progress");
		Y.clear(pr);
		pr.hidden = d.state !== "running" || !d.progress;
		if (!pr.hidden)
			pr.appendChild(progress(d));
		/* Follow a command that has not ended, faster than the list. */
		if (LIVE.indexOf(d.state) !== -1)
			S.detailTimer = setTimeout(function () {
				if (S.open === id)
					detail(id);
			}, DETAIL_POLL_MS);
	}
})();
