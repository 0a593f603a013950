/*
 * Yard "alerts" module page: events (firing and pending first, then the
 * recently resolved; ?event=ID opens one with its target's metrics chart,
 * the threshold and recovery lines and the event's span drawn on it),
 * rules (everyone reads them; admins create, edit, preview, disable and
 * delete) and mutes (active ones; users who manage a task or node mute it
 * or end its mute).  ?tab=events|rules|mutes, ?node_id= or ?task_id=
 * (filter the events to one target) and ?event= are kept in the URL.
 *
 * Test hooks: see frontend-fragments/README.md ("alerts").
 */
(function () {
	"use strict";

	var Y = window.Yard;
	var C = window.YardCharts;
	var A = window.YardAlerts;
	var t = Y.t;
	var el = Y.el;
	var REFRESH_MS = 15000;
	var RESOLVED_PAGE = 50;
	var MIB = 1048576;

	var S = {
		tab: "events",
		filter: { state: "", node_id: null, task_id: null },
		open: [],		/* pending and firing events */
		resolved: [],		/* or every item of a state filter */
		next: null,
		seq: 0,
		eventId: null,		/* the open detail's event id (string) */
		eventSeq: 0,
		chart: null,
		rules: [],
		editing: null,		/* the rule being edited, or null: new */
		nodes: [],
		tasks: [],
		mutes: [],
		loaded: false
	};

	function $(id) {
		return document.getElementById(id);
	}

	function finite(v) {
		return typeof v === "number" && isFinite(v);
	}

	function isAdmin() {
		return Boolean(Y.me && Y.me.admin);
	}

	function epoch(v) {
		var ms = v ? Date.parse(v) : NaN;

		return isNaN(ms) ? null : ms / 1000;
	}

	/* "3 min", "2 h 5 min": between two ISO times (b null: now). */
	function duration(a, b) {
		var s = epoch(a), e = b ? epoch(b) : Date.now() / 1000;

		if (s === null || e === null)
			return t("common.none");
		return durSec(e - s);
	}

	function durSec(sec) {
		var out;

		sec = Math.max(0, Math.round(sec || 0));
		if (sec < 60)
			return t("common.dur.s", { n: sec });
		if (sec < 3600)
			return t("common.dur.m", { n: Math.floor(sec / 60) });
		if (sec < 86400) {
			out = t("common.dur.h", { n: Math.floor(sec / 3600) });
			if (sec % 3600 >= 60)
				out += " " + t("common.dur.m",
				    { n: Math.floor(sec % 3600 / 60) });
			return out;
		}
		return t("common.dur.d", { n: Math.floor(sec / 86400) }) + " " +
		    t("common.dur.h", { n: Math.floor(sec % 86400 / 3600) });
	}

	function timeCell(v, key) {
		var d = {};

		d[key] = v || "";
		return el("td", { text: v ? Y.formatTime(v) : t("common.none"),
		    title: v ? Y.formatTimeFull(v) : null, dataset: d });
	}

	Y.onReady(init);

	async function init() {
		readUrl();
		document.querySelectorAll("[data-tab]").forEach(function (b) {
			b.addEventListener("click", function () {
				showTab(b.dataset.tab);
				writeUrl();
			});
		});
		$("ev-state").value = S.filter.state;
		$("ev-state").addEventListener("change", function (ev) {
			S.filter.state = ev.currentTarget.value;
			writeUrl();
			loadEvents(true);
		});
		$("ev-target-clear").addEventListener("click", function () {
			S.filter.node_id = null;
			S.filter.task_id = null;
			writeUrl();
			loadEvents(true);
		});
		$("events-more").addEventListener("click", function () {
			loadEvents(false);
		});
		initRules();
		initMutes();
		showTab(S.tab);

		await loadTargets();
		await loadEvents(true);
		if (S.eventId !== null)
			openEvent(S.eventId, false);
		loadRules();
		loadMutes();
		setInterval(function () {
			if (document.hidden || Y.authState() !== "ok")
				return;
			if (S.tab === "events") {
				loadEvents(true, true);
				refreshEvent();
			}
			if (S.tab === "mutes")
				loadMutes();
		}, REFRESH_MS);
	}

	/* ---- URL and tabs ------------------------------------------------ */

	function readUrl() {
		var p = new URLSearchParams(location.search), v;

		v = p.get("tab");
		if (v === "events" || v === "rules" || v === "mutes")
			S.tab = v;
		v = p.get("state");
		if (["open", "firing", "pending", "resolved"].indexOf(v) !== -1)
			S.filter.state = v;
		if (/^[0-9]{1,18}$/.test(p.get("node_id") || ""))
			S.filter.node_id = p.get("node_id");
		if (/^[0-9]{1,18}$/.test(p.get("task_id") || ""))
			S.filter.task_id = p.get("task_id");
		if (/^[0-9]{1,18}$/.test(p.get("event") || "")) {
			S.eventId = p.get("event");
			S.tab = "events";
		}
	}

	function writeUrl() {
		var p = new URLSearchParams(location.search), q;

		["tab", "state", "node_id", "task_id", "event"].forEach(
		    function (k) {
			    p.delete(k);
		    });
		if (S.tab !== "events")
			p.set("tab", S.tab);
		if (S.filter.state)
			p.set("state", S.filter.state);
		if (S.filter.node_id)
			p.set("node_id", S.filter.node_id);
		if (S.filter.task_id)
			p.set("task_id", S.filter.task_id);
		if (S.eventId !== null && S.tab === "events")
			p.set("event", S.eventId);
		q = p.toString();
		history.replaceState(history.state, "",
		    location.pathname + (q !== "" ? "?" + q : ""));
	}

	function showTab(tab) {
		S.tab = tab;
		document.querySelectorAll("[data-tab]").forEach(function (b) {
			b.setAttribute("aria-pressed", String(b.dataset.tab === tab));
		});
		document.querySelectorAll("[data-tab-panel]").forEach(function (p) {
			if (p.dataset.tabPanel !== tab) {
				p.hidden = true;
				return;
			}
			if (p.id === "event-detail")
				p.hidden = S.eventId === null;
			else if (p.id === "rule-panel")
				p.hidden = !p.classList.contains("is-open");
			else if (p.id === "mute-panel")
				p.hidden = muteTargets("task").length === 0 &&
				    muteTargets("node").length === 0;
			else
				p.hidden = false;
		});
	}

	/* ---- nodes and tasks (names, pickers, levels) ------------------- */

	async function loadTargets() {
		var r;

		try {
			r = await Promise.all([
				Y.api("GET", "/nodes" + Y.qs({ limit: 200 })),
				Y.api("GET", "/tasks" + Y.qs({ limit: 200 }))
			]);
		} catch (err) {
			return;		/* names fall back to "#id" */
		}
		S.nodes = r[0] && Array.isArray(r[0].items) ? r[0].items : [];
		S.tasks = r[1] && Array.isArray(r[1].items) ? r[1].items : [];
		fillScope();
		fillMuteTargets();
		showTab(S.tab);
	}

	function nodeOf(id) {
		return S.nodes.find(function (n) {
			return String(n.id) === String(id);
		}) || null;
	}

	function taskOf(id) {
		return S.tasks.find(function (x) {
			return String(x.id) === String(id);
		}) || null;
	}

	function nodeName(id) {
		var n = nodeOf(id);

		return n ? n.name || n.hostname || "#" + id : "#" + id;
	}

	function taskName(id) {
		var x = taskOf(id);

		return x ? x.name : "#" + id;
	}

	/* "mall @ node-a" or "node-a". */
	function targetText(tg) {
		var x;

		tg = tg || {};
		if (tg.task_id !== null && tg.task_id !== undefined) {
			/* A task's mute names no node: the task knows it. */
			x = taskOf(tg.task_id) || {};
			return (tg.task_name || taskName(tg.task_id)) + " @ " +
			    (tg.node_name || (tg.node_id ? nodeName(tg.node_id) :
			    x.node_name || (x.node_id ? nodeName(x.node_id) :
			    "?")));
		}
		return tg.node_name || nodeName(tg.node_id);
	}

	function targetLink(tg) {
		var isTask = tg && tg.task_id !== null && tg.task_id !== undefined;

		return el("button", { type: "button", class: "btn btn--link",
		    dataset: { action: "target", targetType: isTask ? "task" :
		    "node", targetId: String(isTask ? tg.task_id : tg.node_id) },
		    title: t(isTask ? "alerts.target.openTask" :
		    "alerts.target.openNode"),
		    text: targetText(tg),
		    onclick: function () {
			    if (isTask)
				    Y.navigate("tasks", { task: tg.task_id });
			    else
				    Y.navigate("nodes", { node: tg.node_id });
		    } });
	}

	/* ---- events ----------------------------------------------------- */

	function stateBadge(state) {
		var kind = { firing: "danger", pending: "warning",
		    resolved: "success" }[state] || "";

		return el("span", { class: "badge" + (kind ? " badge--" + kind : ""),
		    text: t("alerts.state." + state) });
	}

	/* "mute:12" / "command:<uuid>": muted, or planned work. */
	function suppressedBadge(by) {
		var kind;

		if (!by)
			return null;
		kind = by.slice(0, 5) === "mute:" ? "muted" : "planned";
		return el("span", { class: "badge badge--info",
		    dataset: { suppressed: kind },
		    title: t("alerts.suppressed." + kind + ".title"),
		    text: t("alerts.suppressed." + kind) });
	}

	function valueText(ev) {
		if (A.isStateKind(ev.kind))
			return A.condition(ev.kind, ev.threshold);
		return t("alerts.value.vs", { value: A.fmt(ev.kind, ev.value),
		    cond: A.condition(ev.kind, ev.threshold) });
	}

	function targetQuery() {
		return { node_id: S.filter.task_id ? "" : S.filter.node_id || "",
		    task_id: S.filter.task_id || "" };
	}

	/*
	 * The list: with no state filter, the open events (firing first) and
	 * then the resolved ones, newest first and paged; with one, that.
	 * quiet: a live refresh (no banner for a network blip).
	 */
	async function loadEvents(first, quiet) {
		var seq = ++S.seq, q = targetQuery(), res, open = S.open;

		renderTarget();
		try {
			if (first && S.filter.state === "") {
				res = await Y.api("GET", "/alerts/events" + Y.qs(
				    Object.assign({ state: "open", limit: 200 }, q)));
				open = (res && res.items) || [];
				open.sort(function (a, b) {
					return (a.state === "firing" ? 0 : 1) -
					    (b.state === "firing" ? 0 : 1) ||
					    Number(b.id) - Number(a.id);
				});
			} else if (first) {
				open = [];
			}
			/* A live refresh keeps as many rows as are shown. */
			res = await Y.api("GET", "/alerts/events" + Y.qs(
			    Object.assign({ state: S.filter.state || "resolved",
			    limit: quiet ? Math.min(200, Math.max(RESOLVED_PAGE,
			    S.resolved.length)) : RESOLVED_PAGE,
			    before: first ? "" : S.next }, q)));
		} catch (err) {
			if (seq !== S.seq)
				return;
			if (!quiet)
				Y.banner($("banner"), "error", Y.errorText(err));
			if (!S.loaded)
				Y.setPageState("error");
			return;
		}
		if (seq !== S.seq)
			return;
		S.open = open;
		S.resolved = first ? (res.items || []) :
		    S.resolved.concat(res.items || []);
		S.next = res.next !== undefined && res.next !== null &&
		    res.next !== "" ? res.next : null;
		renderEvents();
		if (!S.loaded) {
			S.loaded = true;
			Y.setPageState("ready");
		}
	}

	function renderTarget() {
		var f = S.filter, box = $("ev-target");

		box.hidden = !f.node_id && !f.task_id;
		$("ev-target-clear").hidden = box.hidden;
		box.dataset.nodeId = f.node_id || "";
		box.dataset.taskId = f.task_id || "";
		box.textContent = f.task_id ? t("alerts.events.forTask",
		    { name: taskName(f.task_id) }) : f.node_id ?
		    t("alerts.events.forNode", { name: nodeName(f.node_id) }) : "";
	}

	function renderEvents() {
		var body = $("events-body");
		var items = S.open.concat(S.resolved);

		Y.clear(body);
		if (items.length === 0)
			body.appendChild(el("tr", { class: "empty-row",
			    dataset: { empty: S.filter.state || S.filter.node_id ||
			    S.filter.task_id ? "filtered" : "none" } },
			    el("td", { colspan: "9", class: "empty",
				text: t("alerts.events.empty") })));
		items.forEach(function (ev) {
			var tr = el("tr", { dataset: { eventId: String(ev.id),
			    state: ev.state, kind: ev.kind,
			    suppressed: ev.suppressed_by ? "1" : "0" } },
			    el("td", { dataset: { cell: "state" } },
				stateBadge(ev.state), suppressedBadge(ev.suppressed_by)),
			    el("td", null, el("div", { text: ev.rule_name ||
				t("alerts.rule.deleted") }),
				el("div", { class: "muted",
				    text: t("alerts.kind." + ev.kind) })),
			    el("td", null, targetLink(ev.target)),
			    el("td", { class: "alert-value",
				dataset: { cell: "value" }, text: valueText(ev) }),
			    timeCell(ev.started_at, "startedAt"),
			    timeCell(ev.fired_at, "firedAt"),
			    timeCell(ev.resolved_at, "resolvedAt"),
			    el("td", { dataset: { cell: "duration" },
				text: duration(ev.fired_at || ev.started_at,
				ev.resolved_at) }),
			    el("td", { class: "cell-actions" },
				el("button", { type: "button",
				    class: "btn btn--small",
				    dataset: { action: "open-event" },
				    text: t("alerts.events.open"),
				    onclick: function () {
					    openEvent(String(ev.id), true);
				    } })));
			if (String(ev.id) === S.eventId)
				tr.classList.add("is-selected");
			body.appendChild(tr);
		});
		$("events-count").textContent = t(S.next ? "common.shownMore" :
		    "common.shown", { n: items.length });
		$("events-more").hidden = S.next === null;
	}

	/* ---- one event -------------------------------------------------- */

	async function openEvent(id, byUser) {
		var panel = $("event-detail"), seq = ++S.eventSeq, ev;

		S.eventId = id;
		writeUrl();
		panel.hidden = false;
		panel.dataset.eventId = id;
		panel.dataset.state = "loading";
		Y.clear(panel).appendChild(el("div", { class: "panel__body loading",
		    text: t("common.loading") }));
		document.querySelectorAll("#events-body tr[data-event-id]")
		    .forEach(function (tr) {
			    tr.classList.toggle("is-selected",
				tr.dataset.eventId === id);
		    });
		try {
			ev = await Y.api("GET", "/alerts/events/" + id);
		} catch (err) {
			if (seq !== S.eventSeq)
				return;
			panel.dataset.state = "error";
			Y.clear(panel).appendChild(el("div", { class: "panel__body" },
			    el("p", { class: "field__error",
				text: Y.errorText(err) })));
			return;
		}
		if (seq !== S.eventSeq)
			return;
		renderEvent(ev);
		if (byUser)
			panel.scrollIntoView({ block: "nearest" });
		await drawEventChart(ev, seq);
	}

	/* The open event again: redrawn only when it changed (it resolved). */
	async function refreshEvent() {
		var panel = $("event-detail"), seq = S.eventSeq, ev;

		if (S.eventId === null || panel.dataset.state !== "ready" ||
		    panel.dataset.eventState === "resolved")
			return;
		try {
			ev = await Y.api("GET", "/alerts/events/" + S.eventId);
		} catch (err) {
			return;
		}
		if (seq !== S.eventSeq || ev === null || JSON.stringify(ev) ===
		    panel.dataset.sig)
			return;
		seq = ++S.eventSeq;
		renderEvent(ev);
		await drawEventChart(ev, seq);
	}

	function closeEvent() {
		S.eventId = null;
		S.eventSeq++;
		if (S.chart !== null) {
			S.chart.destroy();
			S.chart = null;
		}
		$("event-detail").hidden = true;
		$("event-detail").dataset.state = "none";
		writeUrl();
		document.querySelectorAll("#events-body tr.is-selected")
		    .forEach(function (tr) {
			    tr.classList.remove("is-selected");
		    });
	}

	function fact(key, label, value, title) {
		return el("div", { class: "facts__item", dataset: { fact: key } },
		    el("dt", { class: "facts__term", text: label }),
		    el("dd", { class: "facts__value", title: title || null },
			value));
	}

	/* The time the logs should be read around: when it fired, or began. */
	function eventAt(ev) {
		return ev.fired_at || ev.started_at;
	}

	function renderEvent(ev) {
		var panel = $("event-detail"), tg = ev.target || {};
		var isTask = tg.task_id !== null && tg.task_id !== undefined;
		var task = isTask ? taskOf(tg.task_id) : null;
		var mayLogs = isTask && (isAdmin() ||
		    (task !== null && Y.may(task.level, "operate")));
		var numeric = !A.isStateKind(ev.kind);

		Y.clear(panel);
		panel.dataset.sig = JSON.stringify(ev);
		panel.dataset.kind = ev.kind;
		panel.dataset.eventState = ev.state;
		panel.appendChild(el("div", { class: "panel__head" },
		    el("div", { class: "panel__title" },
			el("h2", { id: "event-title", text: (ev.rule_name ||
			    t("alerts.rule.deleted")) + " · " + targetText(tg) }),
			stateBadge(ev.state), suppressedBadge(ev.suppressed_by)),
		    el("div", { class: "toolbar" },
			mayLogs ? el("button", { type: "button",
			    class: "btn btn--small", dataset: { action: "logs" },
			    title: t("alerts.detail.logs.title"),
			    text: t("alerts.detail.logs"),
			    onclick: function () {
				    Y.navigate("logs", { task: tg.task_id,
					at: eventAt(ev) });
			    } }) : null,
			el("button", { type: "button", class: "btn btn--small",
			    dataset: { action: "metrics" },
			    text: t("alerts.detail.metrics"),
			    onclick: function () {
				    var q = metricsWindow(ev);
				    Y.navigate("metrics", { node: tg.node_id,
					task: isTask ? tg.task_id : "",
					from: new Date(q.from * 1000).toISOString(),
					to: ev.resolved_at ? new Date(q.to *
					1000).toISOString() : "" });
			    } }),
			targetLink(tg),
			el("button", { type: "button",
			    class: "btn btn--small btn--link",
			    dataset: { action: "close-event" },
			    text: t("common.close"), onclick: closeEvent }))));
		panel.appendChild(el("div", { class: "panel__section" },
		    el("dl", { class: "facts" },
			fact("kind", t("alerts.rule.kind"),
			    t("alerts.kind." + ev.kind)),
			numeric ? fact("value", t("alerts.detail.value"),
			    A.fmt(ev.kind, ev.value)) : null,
			fact("threshold", t("alerts.rule.threshold"),
			    A.condition(ev.kind, ev.threshold)),
			numeric ? fact("recovery", t("alerts.rule.recovery"),
			    A.fmt(ev.kind, ev.recovery)) : null,
			fact("started", t("alerts.col.started"),
			    Y.formatTime(ev.started_at),
			    Y.formatTimeFull(ev.started_at)),
			fact("fired", t("alerts.col.fired"), ev.fired_at ?
			    Y.formatTime(ev.fired_at) : t("common.none"),
			    ev.fired_at ? Y.formatTimeFull(ev.fired_at) : null),
			fact("resolved", t("alerts.col.resolved"),
			    ev.resolved_at ? Y.formatTime(ev.resolved_at) :
			    t("common.none"), ev.resolved_at ?
			    Y.formatTimeFull(ev.resolved_at) : null),
			fact("duration", t("alerts.col.duration"),
			    duration(ev.fired_at || ev.started_at,
			    ev.resolved_at)),
			ev.suppressed_by ? fact("suppressed",
			    t("alerts.detail.suppressed"), ev.suppressed_by) :
			    null)));
		panel.appendChild(el("div", { class: "panel__section" },
		    el("h3", { id: "event-chart-title", class: "section-title" }),
		    el("div", { id: "event-chart", class: "chart-box" }),
		    el("div", { class: "legend" },
			el("span", { id: "event-legend-series",
			    class: "legend__item" },
			    el("span", { class: "legend__swatch" }),
			    el("span", { id: "event-legend-name" })),
			numeric && seriesOf(ev.kind).marks ? [
			    el("span", { class: "legend__item" },
				el("span", { class: "legend__swatch " +
				    "legend__swatch--threshold" }),
				t("alerts.rule.threshold")),
			    el("span", { class: "legend__item" },
				el("span", { class: "legend__swatch " +
				    "legend__swatch--recovery" }),
				t("alerts.rule.recovery")) ] : null,
			el("span", { class: "legend__item" },
			    el("span", { class: "legend__swatch " +
				"legend__swatch--span" }),
			    t("alerts.detail.span"))),
		    el("p", { id: "event-chart-note", class: "muted",
			hidden: true })));
		panel.dataset.state = "ready";
	}

	/*
	 * What to chart for a kind: which history (task or node), which
	 * column as what, and whether the threshold is on that scale.
	 */
	function seriesOf(kind) {
		switch (kind) {
		case "task_cpu":
			return { src: "task", name: "cpu", marks: true,
			    value: function (p) {
				    return p[1];
			    } };
		case "task_memory":
			return { src: "task", name: "rss", marks: true,
			    value: function (p) {
				    return finite(p[2]) ? p[2] / MIB : null;
			    } };
		case "node_memory":
			return { src: "node", name: "avail", marks: true,
			    value: function (p) {
				    return finite(p[2]) && finite(p[3]) ?
					(p[3] - p[2]) / MIB : null;
			    } };
		case "node_offline":
		case "node_disk":
			return { src: "node", name: "nodeCpu", marks: false,
			    note: kind === "node_disk" ?
			    "alerts.detail.noDiskHistory" : null,
			    value: function (p) {
				    return p[1];
			    } };
		default:
			return { src: "task", name: "cpu", marks: false,
			    value: function (p) {
				    return p[1];
			    } };
		}
	}

	/* The chart's range: the event with half its length (≥ 10 min) on
	 * either side, at most 7 days. */
	function metricsWindow(ev) {
		var now = Date.now() / 1000;
		var s = epoch(ev.started_at) || now;
		var e = epoch(ev.resolved_at) || now;
		var pad = Math.max(600, (e - s) / 2);
		var from = Math.max(s - pad, e - 7 * 86400);

		return { from: Math.floor(from), to: Math.ceil(Math.min(now,
		    e + pad)) };
	}

	async function drawEventChart(ev, seq) {
		var tg = ev.target || {}, sr = seriesOf(ev.kind);
		var win = metricsWindow(ev), q = {}, res, pts, from, to, spans;
		var box = $("event-chart");
		var marks = [];

		if (sr.src === "task" && (tg.task_id === null ||
		    tg.task_id === undefined))
			sr = seriesOf("node_offline");
		q[sr.src] = sr.src === "task" ? tg.task_id : tg.node_id;
		q.from = new Date(win.from * 1000).toISOString();
		q.to = new Date(win.to * 1000).toISOString();
		/* Buckets of a minute or more, so that a line does not break
		 * between heartbeats (a gap of 2 steps breaks it). */
		q.step = Math.max(60, Math.ceil((win.to - win.from) / 150));
		$("event-chart-title").textContent = t("alerts.series." + sr.name);
		$("event-legend-name").textContent = t("alerts.series." + sr.name);
		if (sr.note) {
			$("event-chart-note").textContent = t(sr.note);
			$("event-chart-note").hidden = false;
		}
		try {
			res = await Y.api("GET", "/metrics" + Y.qs(q));
		} catch (err) {
			res = { points: [], step: 60 };
			$("event-chart-note").textContent = Y.errorText(err);
			$("event-chart-note").hidden = false;
		}
		if (seq !== S.eventSeq || box === null || !box.isConnected)
			return;
		pts = (res && Array.isArray(res.points) ? res.points : [])
		    .filter(function (p) {
			    return Array.isArray(p) && finite(p[0]);
		    }).map(function (p) {
			    return [p[0], sr.value(p)];
		    });
		from = epoch(res && res.from) || win.from;
		to = epoch(res && res.to) || win.to;
		spans = [];
		if (ev.fired_at === null || ev.fired_at === undefined ||
		    epoch(ev.fired_at) > epoch(ev.started_at))
			spans.push({ kind: "pending", from: epoch(ev.started_at),
			    to: ev.fired_at ? epoch(ev.fired_at) :
			    epoch(ev.resolved_at),
			    label: t("alerts.state.pending") });
		if (ev.fired_at)
			spans.push({ kind: "firing", from: epoch(ev.fired_at),
			    to: epoch(ev.resolved_at),
			    label: t("alerts.state.firing") });
		if (sr.marks && !A.isStateKind(ev.kind)) {
			marks.push({ kind: "threshold", value: ev.threshold,
			    label: t("alerts.rule.threshold") + " " +
			    A.fmt(ev.kind, ev.threshold) });
			if (ev.recovery !== ev.threshold)
				marks.push({ kind: "recovery", value: ev.recovery,
				    label: t("alerts.rule.recovery") + " " +
				    A.fmt(ev.kind, ev.recovery) });
		}
		if (S.chart !== null)
			S.chart.destroy();
		S.chart = C.lineChart(box, {
			chart: "event", height: 220, from: from, to: to,
			step: res && res.step, points: pts.length, yMin: 0,
			yMax: null,
			series: [{ name: t("alerts.series." + sr.name),
			    points: pts, cls: 1 }],
			marks: marks, spans: spans,
			/* Short axis labels: the title says "% of one core". */
			yFormat: function (v) {
				return C.formatNumber(v, 1) + (sr.name === "rss" ||
				    sr.name === "avail" ? " MiB" : " %");
			},
			valueFormat: function (v) {
				return sr.marks ? A.fmt(ev.kind, v) :
				    C.formatNumber(v, 1) + " %";
			},
			label: t("alerts.detail.chartLabel", {
			    series: t("alerts.series." + sr.name),
			    target: targetText(tg) }),
			emptyText: t("alerts.detail.noSamples"),
			noDataText: t("alerts.value.noData")
		});
	}

	/* ---- rules ------------------------------------------------------ */

	function initRules() {
		var kind = $("rule-kind");

		A.KINDS.forEach(function (k) {
			kind.appendChild(el("option", { value: k,
			    text: t("alerts.kind." + k) }));
		});
		kind.addEventListener("change", function () {
			kindChanged(true);
		});
		$("rule-new").addEventListener("click", function () {
			editRule(null);
		});
		$("rule-cancel").addEventListener("click", closeRule);
		$("rule-form").addEventListener("submit", saveRule);
		$("rule-form").addEventListener("input", function (ev) {
			var f = ev.target.closest(".field");
			var e = f ? f.querySelector("[data-field-error]") : null;
			if (e !== null)
				fieldError(e.dataset.fieldError, null);
		});
		$("rule-preview-btn").addEventListener("click", preview);
	}

	async function loadRules() {
		var res;

		try {
			res = await Y.api("GET", "/alerts/rules");
		} catch (err) {
			Y.banner($("banner"), "error", Y.errorText(err));
			return;
		}
		S.rules = (res && (res.items || res.rules)) || [];
		renderRules();
	}

	function scopeText(r) {
		var sc = r.scope || {}, parts = [];

		if (sc.node_ids && sc.node_ids.length)
			parts.push(sc.node_ids.map(nodeName).join(", "));
		if (sc.task_ids && sc.task_ids.length)
			parts.push(sc.task_ids.map(taskName).join(", "));
		return parts.length ? parts.join(" · ") :
		    t(A.isNodeKind(r.kind) ? "alerts.scope.allNodes" :
		    "alerts.scope.allTasks");
	}

	function forText(r) {
		var s = t("common.dur.s", { n: r.for_seconds || 0 });

		if (r.for_seconds >= 60 && r.for_seconds % 60 === 0)
			s = t("common.dur.m", { n: r.for_seconds / 60 });
		if (r.kind === "task_restarts" && r.window_seconds)
			s += " · " + t("alerts.rule.windowShort",
			    { n: Math.round(r.window_seconds / 60) });
		return s;
	}

	function renderRules() {
		var body = $("rules-body"), admin = isAdmin();

		$("rule-new").hidden = !admin;
		$("rules-view-only").hidden = admin;
		Y.clear(body);
		if (S.rules.length === 0)
			body.appendChild(el("tr", { class: "empty-row" },
			    el("td", { colspan: "8", class: "empty",
				text: t("alerts.rules.empty") })));
		S.rules.forEach(function (r) {
			var tr = el("tr", { dataset: { ruleId: String(r.id),
			    ruleName: r.name, kind: r.kind,
			    enabled: r.enabled ? "1" : "0" } },
			    el("td", { class: "cell-main", text: r.name }),
			    el("td", { text: t("alerts.kind." + r.kind) }),
			    el("td", { class: "alert-value",
				dataset: { cell: "condition" },
				text: A.condition(r.kind, r.threshold) +
				(A.isStateKind(r.kind) ? "" : " · " +
				t("alerts.rule.recoveryShort",
				{ value: A.fmt(r.kind, r.recovery) })) }),
			    el("td", { text: forText(r) }),
			    el("td", { class: "cell-ellipsis", text: scopeText(r),
				title: scopeText(r) }),
			    el("td", { text: (r.channels || []).map(function (c) {
				    return t("alerts.channel." + c);
				}).join(", ") || t("common.none") }),
			    el("td", null, el("span", { class: "badge" +
				(r.enabled ? " badge--success" : ""),
				text: t(r.enabled ? "alerts.rule.on" :
				"alerts.rule.off") })),
			    el("td", { class: "cell-actions" }, admin ?
				el("div", { class: "row-actions" },
				    el("button", { type: "button",
					class: "btn btn--small",
					dataset: { action: "rule-edit" },
					text: t("alerts.rules.edit"),
					onclick: function () {
						editRule(r);
					} }),
				    el("button", { type: "button",
					class: "btn btn--small",
					dataset: { action: "rule-toggle" },
					text: t(r.enabled ? "alerts.rules.disable" :
					"alerts.rules.enable"),
					onclick: function (ev) {
						toggleRule(r, ev.currentTarget);
					} }),
				    el("button", { type: "button",
					class: "btn btn--small btn--danger-text",
					dataset: { action: "rule-delete" },
					text: t("alerts.rules.delete"),
					onclick: function (ev) {
						deleteRule(r, ev.currentTarget);
					} })) : null));
			if (S.editing && S.editing.id === r.id)
				tr.classList.add("is-selected");
			body.appendChild(tr);
		});
	}

	/* The scope pickers: every visible node and task, as checkboxes. */
	function fillScope() {
		var nodes = Y.clear($("rule-nodes")), tasks = Y.clear($("rule-tasks"));

		S.nodes.forEach(function (n) {
			nodes.appendChild(el("label", null, el("input", {
			    type: "checkbox", name: "scope-node",
			    value: String(n.id) }), nodeName(n.id)));
		});
		S.tasks.forEach(function (x) {
			tasks.appendChild(el("label", null, el("input", {
			    type: "checkbox", name: "scope-task",
			    value: String(x.id) }), x.name + " @ " +
			    (x.node_name || nodeName(x.node_id))));
		});
		if (S.nodes.length === 0)
			nodes.appendChild(el("span", { class: "muted",
			    text: t("alerts.scope.noneVisible") }));
		if (S.tasks.length === 0)
			tasks.appendChild(el("span", { class: "muted",
			    text: t("alerts.scope.noneVisible") }));
	}

	function checks(name, values) {
		var set = new Set((values || []).map(String));

		document.querySelectorAll('#rule-form input[name="' + name + '"]')
		    .forEach(function (c) {
			    c.checked = set.has(c.value);
		    });
	}

	function checked(name) {
		return Array.prototype.slice.call(document.querySelectorAll(
		    '#rule-form input[name="' + name + '"]:checked'))
		    .map(function (c) {
			    return c.value;
		    });
	}

	/* Units, labels and which fields a kind uses. */
	function kindChanged(byUser) {
		var k = $("rule-kind").value, state = A.isStateKind(k);
		var u = A.unit(k) || (k === "task_restarts" ||
		    k === "health_failing" ? t("alerts.unit.count") : "");

		document.querySelectorAll("#rule-form [data-numeric]")
		    .forEach(function (f) {
			    f.hidden = state;
		    });
		document.querySelectorAll("#rule-form [data-window]")
		    .forEach(function (f) {
			    f.hidden = k !== "task_restarts";
		    });
		document.querySelectorAll("#rule-form [data-task-scope]")
		    .forEach(function (f) {
			    f.hidden = A.isNodeKind(k);
		    });
		$("rule-threshold-unit").textContent = u ? "(" + u + ")" : "";
		$("rule-recovery-unit").textContent = u ? "(" + u + ")" : "";
		$("rule-kind-hint").textContent = t("alerts.kindHint." + k);
		$("rule-recovery-hint").textContent = t(A.isBelow(k) ?
		    "alerts.rule.recovery.below" : "alerts.rule.recovery.above");
		if (byUser && state) {
			$("rule-threshold").value = "1";
			$("rule-recovery").value = "1";
		}
		/* task_restarts counts within a window: offer the shipped 10 min. */
		if (byUser && k === "task_restarts" &&
		    !(Number($("rule-window").value) > 0))
			$("rule-window").value = "600";
		$("rule-form").dataset.kind = k;
	}

	function editRule(r) {
		var panel = $("rule-panel"), f = $("rule-form");

		S.editing = r;
		f.dataset.mode = r ? "edit" : "create";
		f.dataset.ruleId = r ? String(r.id) : "";
		/* Typed edits are kept per rule (bridge.js drafts). */
		f.dataset.yardDraftScope = r ? String(r.id) : "";
		$("rule-form-title").textContent = r ? t("alerts.rules.editTitle",
		    { name: r.name }) : t("alerts.rules.new");
		r = r || { name: "", kind: "task_cpu", threshold: 90, recovery: 70,
		    for_seconds: 300, window_seconds: 0, no_data: "keep",
		    scope: { node_ids: [], task_ids: [] },
		    channels: ["inbox", "email"], extra_emails: [],
		    enabled: true };
		$("rule-name").value = r.name;
		$("rule-kind").value = r.kind;
		$("rule-threshold").value = String(r.threshold);
		$("rule-recovery").value = String(r.recovery);
		$("rule-for").value = String(r.for_seconds || 0);
		$("rule-window").value = String(r.window_seconds || 0);
		$("rule-nodata").value = r.no_data || "keep";
		checks("scope-node", (r.scope || {}).node_ids);
		checks("scope-task", (r.scope || {}).task_ids);
		checks("channel", r.channels);
		$("rule-emails").value = (r.extra_emails || []).join("\n");
		$("rule-enabled").checked = r.enabled !== false;
		f.querySelectorAll("[data-field-error]").forEach(function (e) {
			e.hidden = true;
		});
		$("rule-preview").hidden = true;
		$("rule-preview").dataset.state = "none";
		panel.classList.add("is-open");
		panel.hidden = false;
		kindChanged(false);
		renderRules();
		$("rule-name").focus();
		panel.scrollIntoView({ block: "nearest" });
	}

	function closeRule() {
		S.editing = null;
		$("rule-panel").classList.remove("is-open");
		$("rule-panel").hidden = true;
		renderRules();
	}

	/* The members a rule's PUT takes (the server refuses any other). */
	function ruleBody(r) {
		var sc = r.scope || {};

		return { name: r.name, kind: r.kind, threshold: r.threshold,
		    recovery: r.recovery, for_seconds: r.for_seconds || 0,
		    window_seconds: r.window_seconds || 0,
		    no_data: r.no_data || "keep",
		    scope: { node_ids: sc.node_ids || [],
		    task_ids: sc.task_ids || [] },
		    channels: r.channels || [], extra_emails: r.extra_emails || [],
		    enabled: r.enabled !== false };
	}

	/* The rule the form describes (the server validates it all). */
	function formRule() {
		var k = $("rule-kind").value;

		function n(id) {
			var v = $(id).value.trim();
			return v === "" ? null : Number(v);
		}
		return {
			name: $("rule-name").value.trim(),
			kind: k,
			threshold: A.isStateKind(k) ? 1 : n("rule-threshold"),
			recovery: A.isStateKind(k) ? 1 : n("rule-recovery"),
			for_seconds: n("rule-for") || 0,
			window_seconds: k === "task_restarts" ?
			    n("rule-window") || 0 : 0,
			no_data: $("rule-nodata").value,
			scope: {
				node_ids: checked("scope-node").map(Number),
				task_ids: A.isNodeKind(k) ? [] :
				    checked("scope-task").map(Number)
			},
			channels: checked("channel"),
			extra_emails: $("rule-emails").value.split(/[\s,;]+/)
			    .filter(function (s) {
				    return s !== "";
			    }),
			enabled: $("rule-enabled").checked
		};
	}

	/*
	 * Show text next to the field the server named ("threshold",
	 * "scope.node_ids", "extra_emails[1]"); false when no such field.
	 */
	function fieldError(field, text) {
		var f = String(field || ""), box;
		var tries = [f, f.replace(/\[[0-9]+\]$/, ""),
		    f.replace(/\[[0-9]+\]$/, "").replace(/^scope\./, "scope."),
		    f === "node_ids" || f === "task_ids" ? "scope." + f : null];
		var i;

		for (i = 0; i < tries.length; i++) {
			if (!tries[i])
				continue;
			box = $("rule-form").querySelector(
			    '[data-field-error="' + tries[i] + '"]');
			if (box !== null)
				break;
		}
		if (box === null || box === undefined)
			return false;
		box.textContent = text || "";
		box.hidden = !text;
		if (text && box.closest(".field") && !box.closest(".field").hidden) {
			box.closest(".field").querySelectorAll(
			    "input, select, textarea")[0].focus();
		}
		return true;
	}

	/* Checks worth making before asking: the server checks them too. */
	function localCheck(r) {
		if (r.name === "")
			return ["name", t("error.required")];
		if (!A.isStateKind(r.kind)) {
			if (r.threshold === null || !finite(r.threshold))
				return ["threshold", t("error.required")];
			if (r.recovery === null || !finite(r.recovery))
				return ["recovery", t("error.required")];
		}
		return null;
	}

	function showServerError(err) {
		if (err.field && fieldError(err.field, Y.errorText(err)))
			return;
		Y.banner($("banner"), "error", Y.errorText(err));
	}

	async function saveRule(ev) {
		var r = formRule(), bad = localCheck(r), btn = $("rule-save");
		var editing = S.editing;

		ev.preventDefault();
		$("rule-form").querySelectorAll("[data-field-error]")
		    .forEach(function (e) {
			    e.hidden = true;
		    });
		Y.banner($("banner"));
		if (bad !== null) {
			fieldError(bad[0], bad[1]);
			return;
		}
		btn.disabled = true;
		try {
			if (editing)
				await Y.api("PUT", "/alerts/rules/" + editing.id, r);
			else
				await Y.api("POST", "/alerts/rules", r);
		} catch (err) {
			btn.disabled = false;
			showServerError(err);
			return;
		}
		btn.disabled = false;
		closeRule();
		Y.banner($("banner"), "success", t(editing ?
		    "alerts.rules.saved" : "alerts.rules.created",
		    { name: r.name }));
		loadRules();
	}

	async function toggleRule(r, btn) {
		var body = ruleBody(r);

		body.enabled = !r.enabled;
		btn.disabled = true;
		try {
			await Y.api("PUT", "/alerts/rules/" + r.id, body);
		} catch (err) {
			btn.disabled = false;
			Y.banner($("banner"), "error", Y.errorText(err));
			return;
		}
		loadRules();
	}

	async function deleteRule(r, btn) {
		if (!await Y.confirm({ text: t("alerts.rules.deleteConfirm",
		    { name: r.name }), ok: t("alerts.rules.delete"), danger: true,
		    anchor: btn }))
			return;
		try {
			await Y.api("DELETE", "/alerts/rules/" + r.id);
		} catch (err) {
			Y.banner($("banner"), "error", Y.errorText(err));
			return;
		}
		if (S.editing && S.editing.id === r.id)
			closeRule();
		Y.banner($("banner"), "success", t("alerts.rules.deleted",
		    { name: r.name }));
		loadRules();
	}

	/* How often the rule in the form would have fired (last 7 days). */
	async function preview() {
		var box = $("rule-preview"), r = formRule(), bad = localCheck(r);
		var res;

		$("rule-form").querySelectorAll("[data-field-error]")
		    .forEach(function (e) {
			    e.hidden = true;
		    });
		if (bad !== null && bad[0] !== "name") {
			fieldError(bad[0], bad[1]);
			return;
		}
		if (r.name === "")
			r.name = "preview";
		r.days = 7;
		box.hidden = false;
		box.dataset.state = "loading";
		delete box.dataset.fired;
		Y.clear(box).appendChild(el("div", { class: "loading",
		    text: t("alerts.preview.loading") }));
		try {
			res = await Y.api("POST", "/alerts/rules/preview", r);
		} catch (err) {
			box.dataset.state = "error";
			Y.clear(box);
			if (!(err.field && fieldError(err.field, Y.errorText(err))))
				box.appendChild(el("p", { class: "field__error",
				    text: Y.errorText(err) }));
			return;
		}
		renderPreview(box, r, res || {});
	}

	function renderPreview(box, r, res) {
		var top, body;

		Y.clear(box);
		box.appendChild(el("h3", { class: "section-title",
		    text: t("alerts.preview.title") }));
		if (res.supported === false) {
			box.dataset.state = "unsupported";
			box.appendChild(el("p", { class: "muted",
			    text: t("alerts.preview.unsupported") +
			    (res.reason ? " (" + res.reason + ")" : "") }));
			return;
		}
		box.dataset.state = "ready";
		box.dataset.fired = String(res.fired || 0);
		box.appendChild(el("p", { id: "preview-summary",
		    text: t("alerts.preview.summary", {
			fired: res.fired || 0,
			time: durSec(res.firing_seconds),
			targets: res.targets || 0,
			samples: res.samples || 0 }) }));
		if (res.truncated)
			box.appendChild(el("p", { class: "muted",
			    dataset: { truncated: "" },
			    text: t("alerts.preview.truncated") }));
		top = (res.events || []).slice().sort(function (a, b) {
			return len(b) - len(a);
		}).slice(0, 5);
		if (top.length === 0)
			return;
		body = el("tbody");
		top.forEach(function (e) {
			body.appendChild(el("tr", { dataset: { previewEvent: "" } },
			    el("td", null, targetText({ node_id: e.node_id,
				task_id: e.task_id })),
			    timeCell(e.fired_at || e.started_at, "at"),
			    el("td", { text: duration(e.fired_at || e.started_at,
				e.resolved_at) }),
			    el("td", { class: "alert-value",
				text: A.fmt(r.kind, e.peak) })));
		});
		box.appendChild(el("div", { class: "table-wrap" },
		    el("table", { class: "yard-table" },
			el("thead", null, el("tr", null,
			    el("th", { scope: "col", text: t("alerts.col.target") }),
			    el("th", { scope: "col", text: t("alerts.col.fired") }),
			    el("th", { scope: "col",
				text: t("alerts.col.duration") }),
			    el("th", { scope: "col",
				text: t("alerts.preview.peak") }))), body)));

		function len(e) {
			return (epoch(e.resolved_at) || Date.now() / 1000) -
			    (epoch(e.fired_at || e.started_at) || 0);
		}
	}

	/* ---- mutes ------------------------------------------------------ */

	function initMutes() {
		$("mf-type").addEventListener("change", fillMuteTargets);
		$("mf-until").value = A.localInput(new Date(Date.now() +
		    2 * 3600 * 1000));
		$("mute-form").addEventListener("submit", createMute);
	}

	/* Targets the caller may mute: admins any, else manage on it. */
	function muteTargets(type) {
		var list = type === "node" ? S.nodes : S.tasks;

		return list.filter(function (x) {
			return isAdmin() || Y.may(x.level, "manage");
		});
	}

	function fillMuteTargets() {
		var sel = Y.clear($("mf-target")), type = $("mf-type").value;

		muteTargets(type).forEach(function (x) {
			sel.appendChild(el("option", { value: String(x.id),
			    text: type === "node" ? nodeName(x.id) : x.name +
			    " @ " + (x.node_name || nodeName(x.node_id)) }));
		});
	}

	function mayEnd(m) {
		var x = m.task_id ? taskOf(m.task_id) : nodeOf(m.node_id);

		return isAdmin() || (x !== null && Y.may(x.level, "manage"));
	}

	async function loadMutes() {
		var res;

		try {
			res = await Y.api("GET", "/mutes" + Y.qs({ active: 1 }));
		} catch (err) {
			return;
		}
		S.mutes = (res && res.items) || [];
		renderMutes();
	}

	function renderMutes() {
		var body = $("mutes-body");

		Y.clear(body);
		if (S.mutes.length === 0)
			body.appendChild(el("tr", { class: "empty-row" },
			    el("td", { colspan: "5", class: "empty",
				text: t("alerts.mutes.empty") })));
		S.mutes.forEach(function (m) {
			var isTask = m.task_id !== null && m.task_id !== undefined;
			body.appendChild(el("tr", { dataset: { muteId: String(m.id),
			    targetType: isTask ? "task" : "node",
			    targetId: String(isTask ? m.task_id : m.node_id) } },
			    el("td", null, targetLink({ node_id: m.node_id,
				task_id: isTask ? m.task_id : null,
				task_name: m.task_name, node_name: m.node_name })),
			    el("td", { class: "cell-wrap", text: m.reason }),
			    timeCell(m.until, "until"),
			    el("td", { class: "mono", text: m.created_by ||
				t("common.none") }),
			    el("td", { class: "cell-actions" }, mayEnd(m) ?
				el("button", { type: "button",
				    class: "btn btn--small btn--danger-text",
				    dataset: { action: "end-mute" },
				    text: t("alerts.mutes.end"),
				    onclick: function (ev) {
					    endMute(m, ev.currentTarget);
				    } }) : null)));
		});
	}

	function muteError(f, text) {
		var box = $("mute-form").querySelector('[data-field-error="' +
		    f + '"]');

		if (box === null)
			return false;
		box.textContent = text || "";
		box.hidden = !text;
		return true;
	}

	async function createMute(ev) {
		var type = $("mf-type").value, id = $("mf-target").value;
		var d = new Date($("mf-until").value), body;

		ev.preventDefault();
		["target", "until", "reason"].forEach(function (f) {
			muteError(f, null);
		});
		if (id === "")
			return muteError("target", t("error.required"));
		if (isNaN(d.getTime()) || d.getTime() <= Date.now())
			return muteError("until", t("alerts.mute.error.until"));
		if ($("mf-reason").value.trim() === "")
			return muteError("reason", t("error.required"));
		body = { until: d.toISOString(),
		    reason: $("mf-reason").value.trim() };
		body[type === "node" ? "node_id" : "task_id"] = Number(id);
		try {
			await Y.api("POST", "/mutes", body);
		} catch (err) {
			if (!(err.field && muteError(/^(node_id|task_id)$/.test(
			    err.field) ? "target" : err.field, Y.errorText(err))))
				Y.banner($("banner"), "error", Y.errorText(err));
			return;
		}
		$("mf-reason").value = "";
		Y.banner($("banner"), "success", t("alerts.mutes.created"));
		loadMutes();
	}

	async function endMute(m, btn) {
		if (!await Y.confirm({ text: t("alerts.mutes.endConfirm",
		    { reason: m.reason }), ok: t("alerts.mutes.end"),
		    danger: true, anchor: btn }))
			return;
		try {
			await Y.api("DELETE", "/mutes/" + m.id);
		} catch (err) {
			Y.banner($("banner"), "error", Y.errorText(err));
			return;
		}
		loadMutes();
	}
})();
