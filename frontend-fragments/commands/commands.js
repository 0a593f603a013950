/*
 * Yard "commands" module page: the ledger of commands the user may view,
 * newest first, filtered by node, task, state, user (admins pick anyone;
 * everyone has "issued by me") and time.  Each row shows when the
 * command was issued and how long each stage took (queued, delivered,
 * run); its disclosure button opens the detail in a row right under it
 * (every state change, the result in the page language, the agent's own
 * output).  The first page refreshes every 3 s, patching rows in place
 * so that focus and an open detail stay where they are.
 * ?task=ID and ?node=ID preselect a filter.  A running deploy, update,
 * rollback or move shows its step and percent (the agent's progress) in
 * its row and in the detail, which is polled every second while it runs.
 *
 * Test hooks: <tr data-command-id data-type data-state>, its
 * button[data-action="toggle"][aria-expanded], td[data-cell=stages],
 * td[data-cell=user][title], #f-node, #f-task, #f-state, #f-user
 * (admins), #f-mine, #command-detail (inside tr.row-detail),
 * #detail-events li[data-state], #detail-result, #detail-output,
 * .progress[data-step][data-percent] (row and #detail-progress).
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
	var COLS = 6;

	var S = { items: [], next: null, seq: 0, timer: null, open: null,
	    preset: {}, detailTimer: null, rows: {} };

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

	function ms(v) {
		var n = Date.parse(v);

		return isNaN(n) ? null : n;
	}

	function dur(d) {
		if (d < 1000)
			return t("commands.ms", { n: Math.max(0, Math.round(d)) });
		return t("commands.s", { n: (d / 1000).toFixed(1) });
	}

	/*
	 * The stages as [key, milliseconds]: queued (issued -> handed to
	 * the agent), delivered (-> the agent began: its first running
	 * report, else its own run time counted back from the end) and run
	 * (-> finished).  Server clock throughout; the agent's only as a
	 * length.
	 */
	function stages(c) {
		var out = [], iss = ms(c.issued_at), dis = ms(c.dispatched_at),
		    fin = ms(c.finished_at), st = ms(c.started_at);

		if (st === null && fin !== null && c.agent_received_ms &&
		    c.agent_finished_ms)
			st = fin - (c.agent_finished_ms - c.agent_received_ms);
		if (iss !== null && dis !== null)
			out.push(["queued", dis - iss]);
		if (dis !== null && st !== null)
			out.push(["delivered", Math.max(0, st - dis)]);
		if (fin !== null && (st !== null || dis !== null))
			out.push(["run", fin - Math.max(st !== null ? st : dis,
			    dis !== null ? dis : 0)]);
		return out;
	}

	function stageText(c) {
		var s = stages(c);

		if (s.length === 0)
			return "—";
		return s.map(function (x) {
			return t("commands.stage." + x[0], { d: dur(x[1]) });
		}).join(" · ");
	}

	function userCell(c) {
		return el("td", { dataset: { cell: "user" },
		    title: c.issued_by_sub || null,
		    text: c.issued_by_name || c.issued_by_sub || "—" });
	}

	function stateCell(c) {
		return el("td", { dataset: { cell: "state" } }, badge(c.state),
		    progress(c));
	}

	function toggle(id) {
		S.open = S.open === id ? null : id;
		clearTimeout(S.detailTimer);
		/* Another command's detail is made afresh, not shown stale. */
		if ($("command-detail-row") !== null)
			$("command-detail-row").remove();
		render();
		if (S.open !== null)
			detail(S.open);
	}

	/* A new row for c (its cells are filled by patch()). */
	function makeRow(c) {
		var btn = el("button", { type: "button",
		    class: "btn btn--small btn--link disclosure",
		    dataset: { action: "toggle" },
		    "aria-expanded": "false",
		    "aria-controls": "command-detail" });
		var tr = el("tr", { class: "is-clickable",
		    dataset: { commandId: c.id } },
		    el("td", { dataset: { cell: "time" } }, btn,
			el("span", { dataset: { cell: "when" } })),
		    el("td", { dataset: { cell: "type" } }),
		    el("td", { dataset: { cell: "target" } }),
		    stateCell(c), userCell(c),
		    el("td", { class: "cell-num", dataset: { cell: "stages" } }));

		btn.addEventListener("click", function (ev) {
			ev.stopPropagation();
			toggle(c.id);
		});
		tr.addEventListener("click", function (ev) {
			if (ev.target.closest("a, button, input, select"))
				return;
			toggle(c.id);
		});
		return tr;
	}

	function setText(node, text) {
		if (node.textContent !== text)
			node.textContent = text;
	}

	/* Bring tr up to date with c, touching only what changed. */
	function patch(tr, c) {
		var q = function (k) {
			return tr.querySelector('[data-cell="' + k + '"]');
		};
		var btn = tr.querySelector('[data-action="toggle"]');
		var sig = c.state + "|" + JSON.stringify(c.progress || null);
		var open = c.id === S.open;

		tr.dataset.type = c.type;
		tr.dataset.state = c.state;
		tr.classList.toggle("is-selected", open);
		btn.setAttribute("aria-expanded", open ? "true" : "false");
		btn.setAttribute("aria-label", t(open ? "commands.hide" :
		    "commands.show", { type: Y.commandType(c.type) }));
		setText(btn, open ? "▾" : "▸");
		setText(q("when"), Y.formatTime(c.issued_at));
		q("when").title = Y.formatTimeFull(c.issued_at) || "";
		setText(q("type"), Y.commandType(c.type));
		setText(q("target"), c.task_name ? c.task_name + " @ " +
		    c.node_name : c.node_name);
		if (q("state").dataset.sig !== sig) {
			Y.clear(q("state"));
			q("state").appendChild(badge(c.state));
			if (progress(c))
				q("state").appendChild(progress(c));
			q("state").dataset.sig = sig;
		}
		setText(q("user"), c.issued_by_name || c.issued_by_sub || "—");
		q("user").title = c.issued_by_sub || "";
		setText(q("stages"), stageText(c));
	}

	/* The detail's row: one, under the open command's row. */
	function detailRow() {
		var r = $("command-detail-row");

		if (r !== null)
			return r;
		r = el("tr", { id: "command-detail-row", class: "row-detail" },
		    el("td", { colspan: String(COLS) },
			el("div", { id: "command-detail", class: "stack",
			    role: "region", "aria-labelledby": "detail-title" },
			    el("h3", { id: "detail-title", class: "visually-hidden" }),
			    el("div", { id: "detail-facts", class: "muted" }),
			    el("p", { id: "detail-result", "aria-live": "polite" }),
			    el("ol", { id: "detail-events", class: "timeline" }),
			    el("div", { id: "detail-progress", hidden: true }),
			    el("details", {},
				el("summary", { text: t("commands.rawOutput") }),
				el("pre", { id: "detail-output",
				    class: "command" })))));
		/* Escape closes it and puts focus back on its button. */
		r.addEventListener("keydown", function (ev) {
			var id = S.open;

			if (ev.key !== "Escape" || id === null)
				return;
			toggle(id);
			S.rows[id].querySelector('[data-action="toggle"]').focus();
		});
		return r;
	}

	/*
	 * Rows keyed by command id: new ones made, gone ones removed, the
	 * rest patched and kept (a focused button stays focused), in the
	 * list's order; the detail row follows its command.
	 */
	function render() {
		var body = $("commands-body"), seen = {}, prev = null, dr, empty;

		empty = body.querySelector("tr.empty-row");
		if (S.items.length === 0) {
			if (empty === null) {
				Y.clear(body);
				S.rows = {};
				body.appendChild(el("tr", { class: "empty-row" },
				    el("td", { colspan: String(COLS),
					class: "empty",
					text: t("commands.empty") })));
			}
			S.open = null;
			return;
		}
		if (empty !== null)
			empty.remove();
		if (S.items.every(function (c) {
			return c.id !== S.open;
		}))
			S.open = null;
		S.items.forEach(function (c) {
			var tr = S.rows[c.id] || (S.rows[c.id] = makeRow(c));
			var want = prev === null ? body.firstChild :
			    prev.nextSibling;

			seen[c.id] = true;
			patch(tr, c);
			if (tr !== want)
				body.insertBefore(tr, want);
			prev = tr;
			if (c.id === S.open) {
				dr = detailRow();
				if (prev.nextSibling !== dr)
					body.insertBefore(dr, prev.nextSibling);
				prev = dr;
			}
		});
		Object.keys(S.rows).forEach(function (id) {
			if (!seen[id]) {
				S.rows[id].remove();
				delete S.rows[id];
			}
		});
		if (S.open === null && $("command-detail-row") !== null)
			$("command-detail-row").remove();
		while (prev !== null && prev.nextSibling !== null)
			prev.nextSibling.remove();
	}

	async function detail(id) {
		var d, ev, pr, t0, i;

		clearTimeout(S.detailTimer);
		try {
			d = await Y.api("GET", "/commands/" + id);
		} catch (err) {
			Y.banner($("banner"), "error", Y.errorText(err));
			return;
		}
		if (S.open !== id || $("command-detail") === null)
			return;
		/* The list's row follows the detail between refreshes. */
		for (i = 0; i < S.items.length; i++) {
			if (S.items[i].id === d.id) {
				S.items[i] = Object.assign({}, S.items[i], d);
				patch(S.rows[d.id], S.items[i]);
			}
		}
		$("command-detail").dataset.state = d.state;
		$("detail-title").textContent = Y.commandType(d.type) + " · " +
		    (d.task_name ? d.task_name + " @ " : "") + d.node_name;
		$("detail-facts").textContent = t("commands.detail.facts", {
			user: d.issued_by_name || d.issued_by_sub || "—",
			exit: d.exit_status === null ||
			    d.exit_status === undefined ? "—" :
			    String(d.exit_status),
			agent: d.agent_received_ms && d.agent_finished_ms ?
			    dur(d.agent_finished_ms - d.agent_received_ms) :
			    "—"
		});
		$("detail-facts").title = d.issued_by_sub || "";
		setText($("detail-result"), LIVE.indexOf(d.state) !== -1 &&
		    !d.code ? t("tasks.cmdstate." + d.state) :
		    Y.commandText(d) || t("commands.noOutput"));
		ev = $("detail-events");
		Y.clear(ev);
		t0 = ms(d.issued_at);
		(d.events || []).forEach(function (e) {
			var at = ms(e.at);

			ev.appendChild(el("li", { dataset: { state: e.state } },
			    badge(e.state),
			    el("span", { class: "muted",
				title: Y.formatTimeFull(e.at) || null,
				text: " " + (at !== null && t0 !== null ?
				    "+" + dur(at - t0) : "") })));
		});
		setText($("detail-output"), d.output || t("commands.noOutput"));
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
