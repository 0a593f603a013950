/*
 * Yard "metrics" module page: a node's CPU and memory history as two line
 * charts (YardCharts.lineChart: axes, gridlines, hover/keyboard tooltip;
 * lines break where the node was offline).  Pick a node (?node=ID
 * preselects), a range (15 min .. 7 d) or a custom from/to; ranges that
 * end "now" refresh every 10 s.  The choice is kept in the URL
 * (?node=&range= or ?node=&from=&to=) with history.replaceState.
 *
 * With a task picked (?task=ID, one of the node's tasks), the task's CPU
 * and resident memory follow below the node's, over the same range.
 *
 * Test hooks: select#metrics-node, select#metrics-task,
 * svg[data-chart=task-cpu|task-mem][data-points=N], button[data-range=15m|1h|6h|24h|7d]
 * [aria-pressed], #metrics-from, #metrics-to, [data-action=apply-range],
 * [data-action=node], svg[data-chart=cpu|mem][data-points=N],
 * #charts-panel state on body[data-metrics-state=none|loading|ready|error],
 * #banner, body[data-yard-page].
 */
(function () {
	"use strict";

	var Y = window.Yard;
	var C = window.YardCharts;
	var t = Y.t;
	var el = Y.el;

	var NODES_PAGE = 200;
	var MAX_PAGES = 5;
	var LIVE_MS = 10000;
	var RANGES = { "15m": 900, "1h": 3600, "6h": 21600, "24h": 86400,
	    "7d": 604800 };
	var DEFAULT_RANGE = "1h";

	var S = {
		nodes: [],
		truncated: false,
		nodeId: null,		/* string */
		range: DEFAULT_RANGE,	/* a RANGES key, or "custom" */
		from: null,		/* custom: Date */
		to: null,		/* custom: Date, or null for "now" */
		seq: 0,
		busy: false,
		data: null,
		charts: { cpu: null, mem: null, tcpu: null, tmem: null },
		taskId: null,		/* string */
		tasksReady: Promise.resolve()
	};

	function $(id) {
		return document.getElementById(id);
	}

	function finite(v) {
		return typeof v === "number" && isFinite(v);
	}

	/* The line under the picker; its bar is hidden while empty. */
	function setStatus(text) {
		var box = $("metrics-status");

		box.textContent = text;
		box.parentNode.hidden = text === "";
	}

	function setState(s) {
		document.body.dataset.metricsState = s;
	}

	Y.onReady(init);

	function init() {
		readUrl();
		$("metrics-node").addEventListener("change", function (ev) {
			S.taskId = null;
			selectNode(ev.currentTarget.value);
		});
		$("metrics-task").addEventListener("change", function (ev) {
			S.taskId = ev.currentTarget.value || null;
			writeUrl();
			if (S.nodeId !== null)
				load(true);
		});
		document.querySelectorAll("[data-range]").forEach(function (b) {
			b.addEventListener("click", function () {
				setRange(b.dataset.range);
			});
		});
		$("metrics-form").addEventListener("submit", onCustom);
		["from", "to"].forEach(function (f) {
			$("metrics-" + f).addEventListener("input", function () {
				fieldError(f, null);
			});
		});
		$("metrics-node-link").addEventListener("click", function () {
			if (S.nodeId !== null)
				Y.navigate("nodes", "node=" +
				    encodeURIComponent(S.nodeId));
		});
		S.charts.cpu = C.lineChart($("cpu-chart"), { chart: "cpu",
		    height: 220, series: [], points: 0 });
		S.charts.mem = C.lineChart($("mem-chart"), { chart: "mem",
		    height: 220, series: [], points: 0 });
		S.charts.tcpu = C.lineChart($("task-cpu-chart"),
		    { chart: "task-cpu", height: 180, series: [], points: 0 });
		S.charts.tmem = C.lineChart($("task-mem-chart"),
		    { chart: "task-mem", height: 180, series: [], points: 0 });
		renderRange();
		$("pick-panel").hidden = false;
		setState("none");
		loadNodes();

		setInterval(function () {
			if (document.hidden || Y.authState() !== "ok" || !isLive() ||
			    S.nodeId === null || S.busy)
				return;
			load(false);
		}, LIVE_MS);
		document.addEventListener("visibilitychange", function () {
			if (!document.hidden && isLive() && S.nodeId !== null &&
			    S.data !== null && !S.busy)
				load(false);
		});
	}

	/* ---- URL ------------------------------------------------------------- */

	function readUrl() {
		var p = new URLSearchParams(location.search);
		var node = p.get("node"), range = p.get("range");
		var from = p.get("from"), to = p.get("to"), f, tt;

		if (node !== null && /^[0-9]{1,18}$/.test(node))
			S.nodeId = node;
		if (/^[0-9]{1,18}$/.test(p.get("task") || ""))
			S.taskId = p.get("task");
		if (from !== null) {
			f = new Date(from);
			tt = to !== null && to !== "" ? new Date(to) : null;
			if (!isNaN(f.getTime()) && (tt === null ||
			    (!isNaN(tt.getTime()) && tt > f))) {
				S.range = "custom";
				S.from = f;
				S.to = tt;
				return;
			}
		}
		if (range !== null && Object.prototype.hasOwnProperty.call(RANGES,
		    range))
			S.range = range;
	}

	function writeUrl() {
		var p = new URLSearchParams(location.search);
		var q;

		["node", "task", "range", "from", "to"].forEach(function (k) {
			p.delete(k);
		});
		if (S.nodeId !== null)
			p.set("node", S.nodeId);
		if (S.taskId !== null)
			p.set("task", S.taskId);
		if (S.range === "custom") {
			p.set("from", S.from.toISOString());
			if (S.to !== null)
				p.set("to", S.to.toISOString());
		} else if (S.range !== DEFAULT_RANGE) {
			p.set("range", S.range);
		}
		q = p.toString();
		history.replaceState(history.state, "",
		    location.pathname + (q !== "" ? "?" + q : ""));
	}

	/* ---- node picker ----------------------------------------------------- */

	async function loadNodes() {
		var items = [], cursor = null, pages = 0, res;

		try {
			do {
				res = await Y.api("GET", "/nodes" + Y.qs({
					limit: NODES_PAGE, cursor: cursor }));
				if (res === null || typeof res !== "object" ||
				    !Array.isArray(res.items))
					throw Object.assign(new Error("bad response"),
					    { status: 200, code: "bad_response" });
				items = items.concat(res.items.filter(function (n) {
					return n !== null && typeof n === "object" &&
					    n.id !== undefined && n.id !== null;
				}));
				cursor = res && res.next !== undefined &&
				    res.next !== null && res.next !== "" ?
				    res.next : null;
				pages++;
			} while (cursor !== null && pages < MAX_PAGES);
		} catch (err) {
			Y.banner($("banner"), "error", Y.errorText(err));
			Y.setPageState("error");
			return;
		}
		S.nodes = items;
		S.truncated = cursor !== null;
		renderNodes();
		Y.setPageState("ready");
		S.tasksReady = loadTasks();
		if (S.nodeId !== null)
			load(true);
		else
			showNote(items.length === 0 ? t("metrics.nodes.empty") :
			    t("metrics.node.none"));
	}

	function nodeLabel(n) {
		var s = n.name || n.hostname || "#" + n.id;

		if (n.hostname && n.hostname !== n.name)
			s += " (" + n.hostname + ")";
		if (n.status)
			s += " · " + t("nodes.status." + n.status);
		return s;
	}

	function currentName() {
		var n = S.nodes.find(function (x) {
			return String(x.id) === S.nodeId;
		});
		return n ? n.name || n.hostname || "#" + n.id :
		    t("metrics.node.unknown", { id: S.nodeId });
	}

	function renderNodes() {
		var sel = Y.clear($("metrics-node"));
		var note = $("metrics-node-note");
		var found = false;

		sel.appendChild(el("option", { value: "",
		    text: t("metrics.node.placeholder") }));
		S.nodes.forEach(function (n) {
			var id = String(n.id);
			if (id === S.nodeId)
				found = true;
			sel.appendChild(el("option", { value: id,
			    dataset: { status: n.status || "" },
			    text: nodeLabel(n) }));
		});
		/* A preselected node beyond the list: keep it selectable. */
		if (S.nodeId !== null && !found)
			sel.insertBefore(el("option", { value: S.nodeId,
			    text: t("metrics.node.unknown", { id: S.nodeId }) }),
			    sel.options[1] || null);
		sel.value = S.nodeId !== null ? S.nodeId : "";
		if (S.truncated) {
			note.textContent = t("metrics.nodes.truncated",
			    { n: S.nodes.length });
			note.hidden = false;
		} else {
			note.hidden = true;
		}
		$("metrics-node-link").hidden = S.nodeId === null;
	}

	function selectNode(id) {
		S.nodeId = id === "" ? null : String(id);
		S.data = null;
		writeUrl();
		$("metrics-node-link").hidden = S.nodeId === null;
		S.tasksReady = loadTasks();
		if (S.nodeId === null) {
			S.seq++;
			S.busy = false;
			showNote(t("metrics.node.none"));
			return;
		}
		load(true);
	}

	/* ---- range ----------------------------------------------------------- */

	function isLive() {
		return S.range !== "custom" || S.to === null;
	}

	/* A Date as the value of an <input type=datetime-local> (local). */
	function localInput(d) {
		return d.getFullYear() + "-" + C.pad2(d.getMonth() + 1) + "-" +
		    C.pad2(d.getDate()) + "T" + C.pad2(d.getHours()) + ":" +
		    C.pad2(d.getMinutes());
	}

	function renderRange() {
		document.querySelectorAll("[data-range]").forEach(function (b) {
			b.setAttribute("aria-pressed", String(b.dataset.range ===
			    S.range));
		});
		if (S.range === "custom") {
			$("metrics-from").value = localInput(S.from);
			$("metrics-to").value = S.to !== null ? localInput(S.to) : "";
		}
	}

	function setRange(r) {
		if (!Object.prototype.hasOwnProperty.call(RANGES, r))
			return;
		S.range = r;
		S.from = null;
		S.to = null;
		$("metrics-from").value = "";
		$("metrics-to").value = "";
		fieldError("from", null);
		fieldError("to", null);
		renderRange();
		writeUrl();
		if (S.nodeId !== null)
			load(true);
	}

	function fieldError(name, text) {
		var box = document.querySelector('[data-field-error="' + name +
		    '"]');
		var input = $("metrics-" + name);

		if (box === null)
			return false;
		box.textContent = text || "";
		box.hidden = !text;
		if (text)
			input.setAttribute("aria-invalid", "true");
		else
			input.removeAttribute("aria-invalid");
		return true;
	}

	function onCustom(ev) {
		var fv = $("metrics-from").value, tv = $("metrics-to").value;
		var f, tt;

		ev.preventDefault();
		fieldError("from", null);
		fieldError("to", null);
		if (fv === "") {
			fieldError("from", t("metrics.error.from"));
			$("metrics-from").focus();
			return;
		}
		f = new Date(fv);
		if (isNaN(f.getTime())) {
			fieldError("from", t("error.invalid"));
			$("metrics-from").focus();
			return;
		}
		tt = tv === "" ? null : new Date(tv);
		if (tt !== null && isNaN(tt.getTime())) {
			fieldError("to", t("error.invalid"));
			$("metrics-to").focus();
			return;
		}
		if ((tt !== null && tt <= f) || (tt === null && f >= new Date())) {
			fieldError(tt !== null ? "to" : "from",
			    t("metrics.error.order"));
			return;
		}
		S.range = "custom";
		S.from = f;
		S.to = tt;
		renderRange();
		writeUrl();
		if (S.nodeId !== null)
			load(true);
	}

	/* ---- data ------------------------------------------------------------ */

	function showNote(text) {
		$("charts-note-text").textContent = text;
		$("charts-note").hidden = false;
		$("cpu-panel").hidden = true;
		$("mem-panel").hidden = true;
		setStatus("");
		setState("none");
	}

	async function load(first) {
		var seq = ++S.seq, q, res, id = S.nodeId;

		q = { node: id };
		if (S.range === "custom") {
			q.from = S.from.toISOString();
			if (S.to !== null)
				q.to = S.to.toISOString();
		} else {
			/* Ends now: no "to", the server's clock decides it. */
			q.from = new Date(Date.now() - RANGES[S.range] * 1000)
			    .toISOString();
		}
		S.busy = true;
		if (first) {
			setState("loading");
			setStatus(t("common.loading"));
		}
		try {
			res = await Y.api("GET", "/metrics" + Y.qs(q));
		} catch (err) {
			if (seq !== S.seq)
				return;
			S.busy = false;
			if (!first && err.status === 0)
				return;		/* live: try again later */
			setState("error");
			setStatus("");
			if (err.status === 400 && err.field &&
			    fieldError(err.field, Y.errorText(err)))
				return;
			if (err.status === 404) {
				S.data = null;
				showNote(t("nodes.notFound"));
				setState("error");
				return;
			}
			Y.banner($("banner"), "error", Y.errorText(err));
			return;
		}
		if (seq !== S.seq)
			return;
		S.busy = false;
		if (res === null || typeof res !== "object" ||
		    !Array.isArray(res.points) || String(res.node_id) !== id) {
			if (!first)
				return;		/* live: keep the charts shown */
			setState("error");
			Y.banner($("banner"), "error", t("error.bad_response"));
			return;
		}
		if (first)
			Y.banner($("banner"));
		S.data = res;
		render(res);
		setState("ready");
		loadTask(q, seq);
	}

	/* ---- a task of the node ---------------------------------------------- */

	/* The node's tasks in the picker; the chosen one kept if it is there. */
	async function loadTasks() {
		var sel = $("metrics-task"), res, id = S.nodeId;

		while (sel.options.length > 1)
			sel.remove(1);
		if (id === null)
			return;
		try {
			res = await Y.api("GET", "/tasks" + Y.qs({ node_id: id,
			    limit: 200 }));
		} catch (err) {
			return;
		}
		if (id !== S.nodeId)
			return;
		(res.items || []).forEach(function (x) {
			sel.appendChild(el("option", { value: String(x.id),
			    text: x.name }));
		});
		sel.value = S.taskId !== null ? S.taskId : "";
		if (sel.value !== (S.taskId || "")) {
			S.taskId = null;
			writeUrl();
		}
	}

	async function loadTask(q, seq) {
		var res, tq = Object.assign({}, q), pts, from, to, unit, maxB = 0;
		var name;

		await S.tasksReady; /* the picker names the task */
		if (S.taskId === null) {
			$("task-panel").hidden = true;
			return;
		}
		delete tq.node;
		tq.task = S.taskId;
		try {
			res = await Y.api("GET", "/metrics" + Y.qs(tq));
		} catch (err) {
			if (seq === S.seq)
				$("task-panel").hidden = true;
			return;
		}
		if (seq !== S.seq || res === null || !Array.isArray(res.points))
			return;
		pts = res.points.filter(function (p) {
			return Array.isArray(p) && finite(p[0]);
		});
		from = Date.parse(res.from) / 1000;
		to = Date.parse(res.to) / 1000;
		pts.forEach(function (p) {
			if (finite(p[2]))
				maxB = Math.max(maxB, p[2]);
		});
		unit = C.bytesUnit(maxB);
		if (unit.div < 1048576)
			unit = { div: 1048576, unit: "MiB" };
		name = $("metrics-task").selectedOptions.length ?
		    $("metrics-task").selectedOptions[0].textContent : "";
		$("task-title").textContent = t("metrics.task.title",
		    { task: name });
		$("task-panel").hidden = false;
		S.charts.tcpu.update(common({
			chart: "task-cpu", height: 180, from: from, to: to,
			step: res.step, points: pts.length, yMin: 0, yMax: null,
			title: t("metrics.chart.taskCpu"),
			label: t("metrics.task.cpu", { task: name }),
			series: [{ name: t("metrics.series.cpu"), cls: 1,
			    area: true, points: pts.map(function (p) {
				    return [p[0], p[1]];
			    }) }]
		}, null));
		S.charts.tmem.update(common({
			chart: "task-mem", height: 180, from: from, to: to,
			step: res.step, points: pts.length, yMin: null,
			yMax: null, yFit: true,
			title: t("metrics.chart.taskMem", { unit: unit.unit }),
			label: t("metrics.task.mem", { task: name }),
			series: [{ name: t("metrics.series.rss"), cls: 2,
			    area: true, points: pts.map(function (p) {
				    return [p[0], finite(p[2]) ? p[2] / unit.div :
					null];
			    }) }]
		}, unit));
		var last = pts.length ? pts[pts.length - 1] : null;
		$("task-summary").textContent = last !== null ?
		    t("metrics.task.summary", { threads: last[3] === null ?
			"—" : last[3], fds: last[4] === null ? "—" : last[4] }) :
		    "";
	}

	/*
	 * What every chart shares: value formats (percent, or bytes shown in
	 * unit when one is given) and the texts for no data.
	 */
	function common(o, unit) {
		/* Axis labels as precise as the tick step (the chart says). */
		o.yFormat = unit ? function (v, dec) {
			return C.formatNumber(v, dec) + " " + unit.unit;
		} : function (v, dec) {
			return C.formatNumber(v, dec) + "%";
		};
		o.valueFormat = unit ? function (v) {
			return C.formatBytes(v * unit.div);
		} : function (v) {
			return C.formatNumber(v, 1) + "%";
		};
		o.emptyText = t("charts.empty");
		o.noDataText = t("charts.noData");
		return o;
	}

	function stepText(s) {
		if (!finite(s) || s <= 0)
			return "";
		if (s < 60)
			return t("common.dur.s", { n: s });
		if (s < 3600)
			return t("common.dur.m", { n: C.formatNumber(s / 60, 1) });
		if (s < 86400)
			return t("common.dur.h", { n: C.formatNumber(s / 3600, 1) });
		return t("common.dur.d", { n: C.formatNumber(s / 86400, 1) });
	}

	function pct(v) {
		return finite(v) ? C.formatNumber(v, v < 10 ? 1 : 0) + "%" :
		    t("common.none");
	}

	function render(res) {
		var pts = res.points.filter(function (p) {
			return Array.isArray(p) && finite(p[0]);
		});
		var from = Date.parse(res.from) / 1000;
		var to = Date.parse(res.to) / 1000;
		var step = finite(res.step) ? res.step : 0;
		var cpu = [], used = [], total = null, sum = 0, n = 0, max = null;
		var maxBytes = 0, unit, last = null, name = currentName();
		var labelVars;

		if (!finite(from) || !finite(to)) {
			from = pts.length ? pts[0][0] : Date.now() / 1000 - 3600;
			to = pts.length ? pts[pts.length - 1][0] : Date.now() / 1000;
		}
		pts.forEach(function (p) {
			cpu.push([p[0], p[1]]);
			if (finite(p[1])) {
				sum += p[1];
				n++;
				max = max === null ? p[1] : Math.max(max, p[1]);
			}
			/* The axis fits what is used; the total is a mark. */
			if (finite(p[2]))
				maxBytes = Math.max(maxBytes, p[2]);
			if (finite(p[3]))
				total = p[3];
			if (finite(p[2]) && finite(p[3]))
				last = p;
		});
		unit = C.bytesUnit(maxBytes);
		if (unit.div < 1048576)
			unit = { div: 1048576, unit: "MiB" };
		pts.forEach(function (p) {
			used.push([p[0], finite(p[2]) ? p[2] / unit.div : null]);
		});

		$("charts-note").hidden = true;
		$("cpu-panel").hidden = false;
		$("mem-panel").hidden = false;
		labelVars = { node: name, from: C.tipTime(from),
		    to: C.tipTime(to), n: pts.length };

		S.charts.cpu.update(common({
			chart: "cpu", height: 220, from: from, to: to,
			step: step, points: pts.length, yMin: 0, yMax: 100,
			title: t("metrics.chart.cpuUnit"),
			label: t("metrics.chart.label", Object.assign({
			    chart: t("metrics.chart.cpu") }, labelVars)),
			series: [{ name: t("metrics.series.cpu"), cls: 1,
			    area: true, points: cpu }]
		}, null));
		S.charts.mem.update(common({
			chart: "mem", height: 220, from: from, to: to,
			step: step, points: pts.length, yMin: null, yMax: null,
			yFit: true,
			title: t("metrics.chart.memUnit", { unit: unit.unit }),
			label: t("metrics.chart.label", Object.assign({
			    chart: t("metrics.chart.mem") }, labelVars)),
			series: [
				{ name: t("metrics.series.used"), cls: 2,
				    area: true, points: used }
			],
			marks: total === null ? [] : [{ kind: "total", fit: false,
			    value: total / unit.div,
			    label: t("metrics.mark.total",
				{ total: C.formatBytes(total) }) }]
		}, unit));

		$("cpu-summary").textContent = n > 0 ? t("metrics.summary.cpu", {
			avg: pct(sum / n), max: pct(max) }) : "";
		$("mem-summary").textContent = last !== null ?
		    t("metrics.summary.mem", { used: C.formatBytes(last[2]),
			total: C.formatBytes(last[3]) }) : "";
		$("metrics-step").textContent = step > 0 ?
		    t("metrics.step", { step: stepText(step) }) : "";
		setStatus(isLive() ?
		    t("metrics.live") + " · " + t("metrics.updated",
			{ time: C.tipTime(Date.now() / 1000) }) :
		    t("metrics.fixed", { from: Y.formatTime(from),
			to: Y.formatTime(to) }));
		$("metrics-status").dataset.live = String(isLive());
	}
})();
