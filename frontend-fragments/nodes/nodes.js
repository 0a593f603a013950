/*
 * Yard "nodes" module page: the nodes the user may see, live (every 5 s,
 * in place: scroll, selection, focus and typed input survive), with CPU
 * and memory sparklines of the last 30 minutes; a node's details (facts,
 * current metrics, its tasks, recent events) at its own address
 * (/ui/nodes/ID at the top level, ?node=ID inside a frame; opening and
 * closing it are history entries, so Back returns to the list); values
 * a node that is not online reported are greyed with their age; "Test
 * connection" (a ping command, followed until it ends);
 * for admins, enrolment (a one-time command to run on the new node) and
 * revocation.  Uses window.Yard (bridge.js) and window.YardCharts
 * (charts.js); builds DOM with Yard.el (text only, no HTML).
 *
 * Test hooks: tr[data-node-id][data-node-name] with td[data-status];
 * #node-search, #node-status, #load-more; [data-action=enroll],
 * pre#enroll-command, [data-action=copy-enroll], #enroll-expiry;
 * #node-detail[data-node-id][data-state=none|loading|ready|error] with
 * [data-action=ping|metrics|revoke|close], #ping-result[data-state]
 * (and data-ms once a pong is back), #detail-events; #banner;
 * body[data-yard-page=loading|ready|error].
 */
(function () {
	"use strict";

	var Y = window.Yard;
	var C = window.YardCharts;
	var A = window.YardAlerts;
	var t = Y.t;
	var el = Y.el;

	var PAGE = 50;
	var LIMIT_MAX = 200;
	var REFRESH_PAGES = 5;		/* refresh at most this many pages */
	var LIVE_MS = 5000;
	var TICK_MS = 1000;		/* "12 s ago" texts */
	var SEARCH_DELAY_MS = 300;
	var SPARK_WINDOW_S = 1800;
	var SPARK_FRESH_MS = 15000;	/* online nodes */
	var SPARK_STALE_MS = 120000;	/* nodes that are not online */
	var SPARK_PARALLEL = 4;
	var PING_EVERY_MS = 250;
	var PING_MAX_MS = 15000;
	var STATUSES = ["enrolled", "online", "offline", "lost", "revoked"];
	var TASKS_MAX = 200;		/* tasks listed on a node's page */
	var BADGE = {
		online: "badge badge--success",
		offline: "badge badge--warning",
		lost: "badge badge--danger",
		revoked: "badge",
		enrolled: "badge badge--info"
	};
	var FINAL = ["succeeded", "failed", "timed_out", "cancelled"];

	var S = {
		q: "",
		status: "",
		items: [],
		next: null,
		loaded: false,
		listSeq: 0,
		listBusy: false,
		rows: new Map(),	/* id -> {tr, cells, sig} */
		selected: null,		/* node id (string) shown in detail */
		detail: null,		/* GET /nodes/{id} answer */
		detailSeq: 0,
		detailBusy: false,
		dsig: {},		/* detail section signatures */
		sparks: new Map(),	/* id -> {at, from, to, step, points, busy} */
		sparkQueue: [],
		sparkActive: 0,
		skew: [],		/* server clock - local clock samples, ms */
		ping: null,
		searchTimer: null,
		alerts: null,		/* GET /alerts/summary (YardAlerts) */
		tasks: null,		/* {id, items, more} of the open node */
		taskRows: new Map(),	/* task id -> {tr, cells, sig} */
		tasksSeq: 0
	};

	function $(id) {
		return document.getElementById(id);
	}

	function finite(v) {
		return typeof v === "number" && isFinite(v);
	}

	function idValue(s) {
		return /^[0-9]+$/.test(String(s)) ? Number(s) : s;
	}

	function isAdmin() {
		return Boolean(Y.me && Y.me.admin);
	}

	Y.onReady(init);

	function init() {
		var pre = nodeFromUrl();
		var search = $("node-search");

		if (pre !== null) {
			S.selected = pre;
			/* One address per node (?node=ID at the top level too). */
			history.replaceState({ node: pre }, "", nodeUrl(pre));
		}
		window.addEventListener("popstate", onPopState);

		search.addEventListener("input", function () {
			clearTimeout(S.searchTimer);
			S.searchTimer = setTimeout(function () {
				setFilter(search.value, $("node-status").value);
			}, SEARCH_DELAY_MS);
		});
		search.addEventListener("keydown", function (ev) {
			if (ev.key === "Enter") {
				ev.preventDefault();
				clearTimeout(S.searchTimer);
				setFilter(search.value, $("node-status").value);
			}
		});
		$("node-status").addEventListener("change", function () {
			setFilter(search.value, $("node-status").value);
		});
		$("load-more").addEventListener("click", function () {
			loadList("more");
		});
		$("enroll-btn").hidden = !isAdmin();
		$("enroll-btn").addEventListener("click", function (ev) {
			enroll(ev.currentTarget);
		});
		$("enroll-copy").addEventListener("click", copyEnroll);
		$("enroll-arch").addEventListener("change", showInstall);
		$("enroll-ca").addEventListener("input", showInstall);
		document.querySelector('[data-action="close-enroll"]')
		    .addEventListener("click", closeEnroll);
		$("nodes-body").addEventListener("click", onRowClick);

		renderListLoading();
		$("nodes-panel").hidden = false;
		loadList("reset");
		if (S.selected !== null)
			openDetail(S.selected, false);

		setInterval(liveTick, LIVE_MS);
		setInterval(updateAgo, TICK_MS);
		document.addEventListener("visibilitychange", function () {
			if (!document.hidden)
				liveTick();
		});
	}

	/* Every 5 s: the list and the open node, unless nobody looks. */
	function liveTick() {
		if (document.hidden || Y.authState() !== "ok" || !S.loaded)
			return;
		loadList("refresh");
		if (S.selected !== null)
			loadDetail(false);
	}

	function setFilter(q, status) {
		q = q.trim();
		status = STATUSES.indexOf(status) !== -1 ? status : "";
		if (q === S.q && status === S.status && S.loaded)
			return;
		S.q = q;
		S.status = status;
		loadList("reset");
	}

	/* ---- server clock ---------------------------------------------------- */

	/*
	 * "12 s ago" compares the server's last_seen with now: use the
	 * server's clock, estimated from the "to" of metrics answers asked
	 * without one (the server's now()), so that a PC whose clock is off
	 * does not show "in 2 min" or "3 min ago" for a live node.
	 */
	function noteServerNow(serverIso, sentMs, gotMs) {
		var s = parseTime(serverIso);

		if (!finite(s))
			return;
		S.skew.push(s - (sentMs + gotMs) / 2);
		if (S.skew.length > 9)
			S.skew.shift();
	}

	function serverNow() {
		var a;

		if (S.skew.length === 0)
			return Date.now();
		a = S.skew.slice().sort(function (x, y) {
			return x - y;
		});
		return Date.now() + a[a.length >> 1];
	}

	/* ---- formatting ------------------------------------------------------ */

	/* Epoch ms of an ISO (or PostgreSQL text) timestamp, or NaN. */
	function parseTime(v) {
		if (typeof v !== "string")
			return NaN;
		return Date.parse(v.replace(/^(\d{4}-\d\d-\d\d) (\d)/, "$1T$2")
		    .replace(/(T[\d:.]+[+-]\d\d)$/, "$1:00"));
	}

	function ago(v) {
		var ms = parseTime(v), s;

		if (v === null || v === undefined || v === "" || !finite(ms))
			return t("common.never");
		s = Math.floor((serverNow() - ms) / 1000);
		if (s < 2)
			return t("common.ago.now");
		if (s < 60)
			return t("common.ago.s", { n: s });
		if (s < 3600)
			return t("common.ago.m", { n: Math.floor(s / 60) });
		if (s < 86400)
			return t("common.ago.h", { n: Math.floor(s / 3600) });
		return t("common.ago.d", { n: Math.floor(s / 86400) });
	}

	/*
	 * Values a node reported are current only while it is online; else
	 * they are shown greyed, with how old they are (its last heartbeat).
	 */
	function isStale(n) {
		return n.status !== "online";
	}

	function staleTitle(n) {
		return t("nodes.value.staleTitle", { age: ago(n.last_seen) });
	}

	/* A duration in seconds, in its two largest units. */
	function duration(sec) {
		var d, h, m, parts = [];

		if (!finite(sec) || sec < 0)
			return t("common.none");
		d = Math.floor(sec / 86400);
		h = Math.floor(sec % 86400 / 3600);
		m = Math.floor(sec % 3600 / 60);
		if (d > 0) {
			parts.push(t("common.dur.d", { n: d }));
			if (h > 0)
				parts.push(t("common.dur.h", { n: h }));
		} else if (h > 0) {
			parts.push(t("common.dur.h", { n: h }));
			if (m > 0)
				parts.push(t("common.dur.m", { n: m }));
		} else if (m > 0) {
			parts.push(t("common.dur.m", { n: m }));
		} else {
			parts.push(t("common.dur.s", { n: Math.floor(sec) }));
		}
		return parts.join(" ");
	}

	function pct(v) {
		return finite(v) ? C.formatNumber(v, v < 10 ? 1 : 0) + "%" :
		    t("common.none");
	}

	function memPct(m) {
		return m && finite(m.mem_used) && finite(m.mem_total) &&
		    m.mem_total > 0 ? m.mem_used / m.mem_total * 100 : null;
	}

	function statusLabel(s) {
		return Object.prototype.hasOwnProperty.call(BADGE, s) ?
		    t("nodes.status." + s) : String(s);
	}

	function statusBadge(s) {
		var known = STATUSES.indexOf(s) !== -1;

		return el("span", {
			class: BADGE[s] || "badge",
			title: known ? t("nodes.status." + s + ".title") : null,
			text: statusLabel(s)
		});
	}

	/* An event: "enrolled" there is the act, not "never connected". */
	function eventBadge(s) {
		if (s === "enrolled")
			return el("span", { class: BADGE.enrolled,
			    text: t("nodes.event.enrolled") });
		return statusBadge(s);
	}

	function nodeLabel(n) {
		return n.name || n.hostname || "#" + n.id;
	}

	/* ---- list ------------------------------------------------------------ */

	/*
	 * mode "reset": first page for a new filter; "more": the next page;
	 * "refresh": everything shown again (live), following cursors.
	 */
	async function loadList(mode) {
		var seq, more = $("load-more"), items = [], cursor, pages = 0;
		var want, limit, res;

		if (mode === "refresh" && S.listBusy)
			return;
		seq = ++S.listSeq;
		S.listBusy = true;
		if (mode === "more") {
			more.disabled = true;
			more.setAttribute("aria-busy", "true");
		}
		want = mode === "refresh" ? Math.max(S.items.length, PAGE) : PAGE;
		limit = Math.min(LIMIT_MAX, want);
		cursor = mode === "more" ? S.next : null;
		try {
			do {
				res = await getChecked("/nodes" + Y.qs({
					q: S.q,
					status: S.status,
					limit: limit,
					cursor: cursor
				}), listOk);
				items = items.concat(res.items);
				cursor = res && res.next !== undefined &&
				    res.next !== null && res.next !== "" ?
				    res.next : null;
				pages++;
			} while (mode === "refresh" && cursor !== null &&
			    items.length < want && pages < REFRESH_PAGES);
		} catch (err) {
			if (seq !== S.listSeq)
				return;
			S.listBusy = false;
			more.disabled = false;
			more.removeAttribute("aria-busy");
			/*
			 * Live refreshes fail quietly (network blips, odd
			 * answers) and keep what is shown until one works.
			 */
			if (mode === "refresh" && (err.status === 0 ||
			    err.code === "bad_response"))
				return;
			Y.banner($("banner"), "error", Y.errorText(err));
			if (!S.loaded) {
				S.loaded = true;
				renderList();
				Y.setPageState("error");
			}
			return;
		}
		if (seq !== S.listSeq)
			return;
		S.listBusy = false;
		more.disabled = false;
		more.removeAttribute("aria-busy");
		S.items = mode === "more" ? addItems(S.items, items) : items;
		S.next = cursor;
		S.loaded = true;
		renderList();
		queueSparks();
		Y.setPageState("ready");
		loadAlerts();
	}

	/* Firing counts and mutes next to the names (YardAlerts). */
	async function loadAlerts() {
		var s = await A.summary();

		if (s === null || s === S.alerts)
			return;
		S.alerts = s;
		S.rows.forEach(function (r) {
			if (r.node !== null)
				updateRow(r, r.node);
		});
	}

	/* An Error like Yard.api's for an answer of the wrong shape. */
	function badResponse() {
		var e = new Error("bad response");
		e.status = 200;
		e.code = "bad_response";
		return e;
	}

	/*
	 * GET path; an answer that fails ok(answer) is asked for once more,
	 * then rejected as bad_response.
	 */
	async function getChecked(path, ok) {
		var res = await Y.api("GET", path);

		if (ok(res))
			return res;
		res = await Y.api("GET", path);
		if (ok(res))
			return res;
		throw badResponse();
	}

	/* {"items":[{id,...},...],"next":...}, or not to be trusted. */
	function listOk(res) {
		return res !== null && typeof res === "object" &&
		    Array.isArray(res.items) && res.items.every(function (n) {
			    return n !== null && typeof n === "object" &&
				(typeof n.id === "number" ||
				typeof n.id === "string");
		    });
	}

	function addItems(have, page) {
		var ids = new Set(have.map(function (n) {
			return String(n.id);
		}));
		return have.concat(page.filter(function (n) {
			return !ids.has(String(n.id));
		}));
	}

	function renderListLoading() {
		Y.clear($("nodes-body")).appendChild(el("tr",
		    { class: "empty-row" }, el("td", { colspan: "7",
			class: "empty loading", text: t("common.loading") })));
	}

	/* Put the one enrol button in the toolbar, or in the empty state. */
	function placeEnroll(slot) {
		var btn = $("enroll-btn");

		if (!isAdmin())
			return;
		if (slot)
			slot.appendChild(btn);
		else if (btn.parentNode !== $("nodes-toolbar"))
			$("nodes-toolbar").appendChild(btn);
	}

	function renderEmpty() {
		var body = $("nodes-body");
		var filtered = S.q !== "" || S.status !== "";
		var td, slot = null;

		S.rows.forEach(function (r) {
			r.tr.remove();
		});
		S.rows.clear();
		td = el("td", { colspan: "7", class: "empty" });
		if (filtered) {
			td.appendChild(el("div", { text: t("nodes.empty.search") }));
		} else {
			/*
			 * An admin sees every node: none yet, so how to enrol
			 * one.  Anyone else sees what is shared with them:
			 * nodes may well exist.
			 */
			td.appendChild(el("div", { class: "notice__title",
			    text: t(isAdmin() ? "nodes.empty.title" :
				"nodes.empty.unshared") }));
			td.appendChild(el("div", { class: "notice__text",
			    text: t(isAdmin() ? "nodes.empty.admin" :
				"nodes.empty.user") }));
			if (isAdmin()) {
				slot = el("div", { class: "toolbar toolbar--center" });
				td.appendChild(slot);
			}
		}
		Y.clear(body).appendChild(el("tr", { class: "empty-row",
		    dataset: { empty: filtered ? "filtered" : isAdmin() ?
			"none" : "unshared" } }, td));
		placeEnroll(slot);
	}

	function renderList() {
		var body = $("nodes-body");
		var keep = new Set();

		$("nodes-count").textContent = t(S.next !== null ?
		    "common.shownMore" : "common.shown", { n: S.items.length });
		$("load-more").hidden = S.next === null;
		if (S.items.length === 0) {
			renderEmpty();
			return;
		}
		placeEnroll(null);
		Array.prototype.slice.call(body.querySelectorAll("tr.empty-row"))
		    .forEach(function (tr) {
			    tr.remove();
		    });
		S.items.forEach(function (n, i) {
			var id = String(n.id);
			var r = S.rows.get(id);

			if (r === undefined) {
				r = makeRow(id);
				S.rows.set(id, r);
			}
			updateRow(r, n);
			keep.add(id);
			if (body.children[i] !== r.tr)
				body.insertBefore(r.tr, body.children[i] || null);
		});
		S.rows.forEach(function (r, id) {
			if (!keep.has(id)) {
				r.tr.remove();
				S.rows.delete(id);
			}
		});
	}

	function makeRow(id) {
		var cells = {
			name: el("td", { class: "cell-main cell-ellipsis" }),
			host: el("td", { class: "cell-ellipsis mono" }),
			status: el("td"),
			cpu: el("td"),
			mem: el("td"),
			seen: el("td"),
			agent: el("td", { class: "mono" })
		};
		var link = el("a", { href: nodeUrl(id),
		    dataset: { action: "open" } });

		cells.name.appendChild(link);
		cells.marks = el("span");
		cells.name.appendChild(cells.marks);
		cells.cpuSlot = el("span", { class: "spark-cell__slot" });
		cells.cpuVal = el("span", { class: "spark-cell__value" });
		cells.cpuAge = el("span", { class: "spark-cell__age", hidden: true });
		cells.memSlot = el("span", { class: "spark-cell__slot" });
		cells.memVal = el("span", { class: "spark-cell__value" });
		cells.memAge = el("span", { class: "spark-cell__age", hidden: true });
		cells.cpuBox = el("div", { class: "spark-cell" }, cells.cpuSlot,
		    el("span", { class: "spark-cell__text" }, cells.cpuVal,
			cells.cpuAge));
		cells.memBox = el("div", { class: "spark-cell" }, cells.memSlot,
		    el("span", { class: "spark-cell__text" }, cells.memVal,
			cells.memAge));
		cells.cpu.appendChild(cells.cpuBox);
		cells.mem.appendChild(cells.memBox);
		return {
			tr: el("tr", { class: "is-clickable", dataset: { nodeId: id } },
			    cells.name, cells.host, cells.status, cells.cpu,
			    cells.mem, cells.seen, cells.agent),
			cells: cells,
			link: link,
			sig: {},
			node: null
		};
	}

	/* Change a cell only when what it shows changed. */
	function changed(r, key, value) {
		var v = JSON.stringify(value);
		if (r.sig[key] === v)
			return false;
		r.sig[key] = v;
		return true;
	}

	function updateRow(r, n) {
		var c = r.cells, id = String(n.id), m = n.metrics || {};
		var stale = isStale(n), mp = memPct(m);
		var sel = S.selected === id;

		r.node = n;
		r.tr.dataset.nodeName = n.name || "";
		if (changed(r, "sel", sel)) {
			r.tr.classList.toggle("is-selected", sel);
			if (sel)
				r.tr.setAttribute("aria-current", "true");
			else
				r.tr.removeAttribute("aria-current");
		}
		if (changed(r, "name", nodeLabel(n))) {
			r.link.textContent = nodeLabel(n);
			c.name.title = nodeLabel(n);
		}
		if (changed(r, "alerts", S.alerts && S.alerts.nodes ?
		    S.alerts.nodes[id] || null : null))
			Y.clear(c.marks).appendChild(A.marks("node", id, S.alerts) ||
			    document.createTextNode(""));
		if (changed(r, "host", n.hostname || "")) {
			c.host.textContent = n.hostname || "";
			c.host.title = n.hostname || "";
		}
		if (changed(r, "status", n.status)) {
			c.status.dataset.status = n.status || "";
			Y.clear(c.status).appendChild(statusBadge(n.status));
		}
		if (changed(r, "cpu", [m.cpu, stale])) {
			c.cpuVal.textContent = pct(m.cpu);
			markStale(c.cpuBox, c.cpuAge, stale && finite(m.cpu));
		}
		if (changed(r, "mem", [m.mem_used, m.mem_total, stale])) {
			c.memVal.textContent = pct(mp);
			c.memVal.title = mp === null ? "" : t("nodes.mem.title", {
				used: C.formatBytes(m.mem_used),
				total: C.formatBytes(m.mem_total)
			});
			markStale(c.memBox, c.memAge, stale && mp !== null);
		}
		if (changed(r, "seenFull", n.last_seen || null)) {
			c.seen.title = Y.formatTimeFull(n.last_seen);
			c.seen.dataset.lastSeen = n.last_seen || "";
			c.seen.classList.toggle("muted", !n.last_seen);
		}
		updateRowAge(r);
		if (changed(r, "agent", n.agent_version || ""))
			c.agent.textContent = n.agent_version || t("common.none");
		if (changed(r, "spark", sparkSig(id)))
			drawSparks(r, id);
	}

	/* Grey a value box (data-stale) and show its age beside it. */
	function markStale(box, age, stale) {
		box.classList.toggle("is-stale", stale);
		if (stale)
			box.dataset.stale = "1";
		else
			delete box.dataset.stale;
		age.hidden = !stale;
	}

	/* Texts that age: last seen, and the age of greyed values. */
	function setText(node, s) {
		if (node.textContent !== s)
			node.textContent = s;
	}

	function lastSeenText(n) {
		return n.last_seen ? ago(n.last_seen) : t("nodes.seen.never");
	}

	function updateRowAge(r) {
		var n = r.node, c = r.cells, age, title;

		if (n === null)
			return;
		setText(c.seen, lastSeenText(n));
		age = ago(n.last_seen);
		title = isStale(n) ? staleTitle(n) : "";
		[[c.cpuBox, c.cpuAge], [c.memBox, c.memAge]].forEach(function (p) {
			if (p[1].hidden)
				return;
			setText(p[1], t("nodes.value.staleAge", { age: age }));
			p[1].dataset.age = n.last_seen || "";
			if (p[0].title !== title)
				p[0].title = title;
		});
		if (c.cpuAge.hidden && c.cpuBox.title !== "")
			c.cpuBox.title = "";
		if (c.memAge.hidden && c.memBox.title !== "")
			c.memBox.title = "";
	}

	function updateAgo() {
		if (document.hidden)
			return;
		S.rows.forEach(updateRowAge);
		if (S.detail !== null)
			updateDetailAge(S.detail);
	}

	function onRowClick(ev) {
		var tr = ev.target.closest("tr[data-node-id]");

		if (tr === null)
			return;
		/* Let modified clicks open the link in a new tab as usual. */
		if (ev.target.closest("a") !== null &&
		    (ev.ctrlKey || ev.metaKey || ev.shiftKey || ev.button !== 0))
			return;
		/* Do not steal a text selection the user is making. */
		if (ev.target.closest("a") === null &&
		    String(window.getSelection()).length > 0)
			return;
		ev.preventDefault();
		openDetail(tr.dataset.nodeId, true);
	}

	/* ---- sparklines ------------------------------------------------------ */

	function sparkSig(id) {
		var sp = S.sparks.get(id);
		return sp && sp.points ? sp.at : null;
	}

	function queueSparks() {
		var now = Date.now();

		S.items.forEach(function (n) {
			var id = String(n.id);
			var sp = S.sparks.get(id);
			var fresh = n.status === "online" ? SPARK_FRESH_MS :
			    SPARK_STALE_MS;

			if (n.status === "enrolled" || !n.last_seen)
				return;		/* nothing recorded yet */
			if (sp && (sp.busy || now - sp.at < fresh))
				return;
			if (S.sparkQueue.indexOf(id) === -1)
				S.sparkQueue.push(id);
		});
		pumpSparks();
	}

	function pumpSparks() {
		var id;

		while (S.sparkActive < SPARK_PARALLEL && S.sparkQueue.length > 0) {
			id = S.sparkQueue.shift();
			if (!S.rows.has(id))
				continue;
			fetchSpark(id);
		}
	}

	async function fetchSpark(id) {
		var sp = S.sparks.get(id) || { at: 0, points: null };
		var sent = Date.now(), from, res;

		sp.busy = true;
		S.sparks.set(id, sp);
		S.sparkActive++;
		from = new Date(serverNow() - SPARK_WINDOW_S * 1000);
		try {
			/* No "to": the server answers its own now() in "to". */
			res = await Y.api("GET", "/metrics" + Y.qs({
				node: id,
				from: from.toISOString()
			}));
			if (res === null || typeof res !== "object" ||
			    !Array.isArray(res.points) ||
			    String(res.node_id) !== id)
				throw badResponse();
			noteServerNow(res.to, sent, Date.now());
			sp.points = res.points;
			sp.from = parseTime(res.from) / 1000;
			sp.to = parseTime(res.to) / 1000;
			sp.step = finite(res.step) ? res.step : 0;
			sp.at = Date.now();
		} catch (err) {
			/* A failed sparkline is not worth a banner; retry later. */
			sp.at = Date.now();
		}
		sp.busy = false;
		S.sparkActive--;
		var r = S.rows.get(id);
		if (r !== undefined && changed(r, "spark", sparkSig(id)))
			drawSparks(r, id);
		pumpSparks();
	}

	function drawSparks(r, id) {
		var sp = S.sparks.get(id);
		var cpu, mem, maxCpu = null, maxMem = null;

		if (!sp || !sp.points) {
			Y.clear(r.cells.cpuSlot);
			Y.clear(r.cells.memSlot);
			return;
		}
		cpu = sp.points.map(function (p) {
			if (finite(p[1]))
				maxCpu = Math.max(maxCpu === null ? 0 : maxCpu, p[1]);
			return [p[0], p[1]];
		});
		mem = sp.points.map(function (p) {
			var v = finite(p[2]) && finite(p[3]) && p[3] > 0 ?
			    p[2] / p[3] * 100 : null;
			if (v !== null)
				maxMem = Math.max(maxMem === null ? 0 : maxMem, v);
			return [p[0], v];
		});
		Y.clear(r.cells.cpuSlot).appendChild(C.sparkline({
			points: cpu, from: sp.from, to: sp.to, step: sp.step,
			min: 0, max: 100, width: 120, height: 18, series: 1,
			fill: true,
			label: cpu.length ? t("nodes.spark.cpu", {
				points: cpu.length, max: pct(maxCpu) }) :
			    t("nodes.spark.none")
		}));
		Y.clear(r.cells.memSlot).appendChild(C.sparkline({
			points: mem, from: sp.from, to: sp.to, step: sp.step,
			min: 0, max: 100, width: 120, height: 18, series: 2,
			fill: true,
			label: mem.length ? t("nodes.spark.mem", {
				points: mem.length, max: pct(maxMem) }) :
			    t("nodes.spark.none")
		}));
	}

	/* ---- detail ---------------------------------------------------------- */

	/*
	 * A node's address.  At the top level /ui/nodes/ID (the server
	 * serves this page for it); framed, the host knows the frame by its
	 * module URL, so ?node=ID.  Other query members (theme, lang) stay.
	 */
	var NODE_PATH = /^(.*\/nodes)\/([0-9]{1,18})\/?$/;

	function listPath() {
		var m = location.pathname.match(NODE_PATH);
		return m ? m[1] : location.pathname.replace(/\/+$/, "");
	}

	function nodeFromUrl() {
		var m = location.pathname.match(NODE_PATH);
		var q = new URLSearchParams(location.search).get("node");

		if (q !== null && /^[0-9]{1,18}$/.test(q))
			return q;
		return m ? m[2] : null;
	}

	function nodeUrl(id) {
		var p = new URLSearchParams(location.search);
		var path = listPath(), q;

		p.delete("node");
		if (id !== null && Y.framed)
			p.set("node", id);
		else if (id !== null)
			path += "/" + encodeURIComponent(id);
		q = p.toString();
		return path + (q !== "" ? "?" + q : "");
	}

	/* Opening or closing a node is a history entry (Back: the list). */
	function pushNode(id) {
		var url = nodeUrl(id);

		if (url !== location.pathname + location.search)
			history.pushState({ node: id }, "", url);
	}

	function onPopState() {
		var id = nodeFromUrl();

		if (id === S.selected)
			return;
		if (id === null)
			closeDetail(true);
		else
			openDetail(id, false, true);
	}

	function markSelected() {
		S.rows.forEach(function (r, id) {
			var sel = S.selected === id;
			if (changed(r, "sel", sel)) {
				r.tr.classList.toggle("is-selected", sel);
				if (sel)
					r.tr.setAttribute("aria-current", "true");
				else
					r.tr.removeAttribute("aria-current");
			}
		});
	}

	function openDetail(id, byUser, fromHistory) {
		var panel = $("node-detail");

		id = String(id);
		if (S.selected === id && S.detail !== null &&
		    String(S.detail.id) === id) {
			if (byUser)
				panel.scrollIntoView({ block: "nearest" });
			return;
		}
		stopPing();
		S.selected = id;
		S.detail = null;
		S.dsig = {};
		resetTasks();
		if (byUser && !fromHistory)
			pushNode(id);
		markSelected();
		buildDetail(id);
		loadDetail(true);
		if (byUser)
			panel.scrollIntoView({ block: "nearest" });
	}

	function closeDetail(fromHistory) {
		var panel = $("node-detail");
		var id = S.selected;
		var r;

		stopPing();
		S.selected = null;
		S.detail = null;
		S.detailSeq++;
		resetTasks();
		if (fromHistory !== true)
			pushNode(null);
		markSelected();
		Y.clear(panel);
		panel.hidden = true;
		panel.dataset.state = "none";
		delete panel.dataset.nodeId;
		r = id !== null ? S.rows.get(id) : undefined;
		if (r !== undefined)
			r.link.focus();
	}

	/* The detail panel's frame: head, ping line, sections. */
	function buildDetail(id) {
		var panel = Y.clear($("node-detail"));
		var admin = isAdmin();
		var revokeBtn, revokeWrap;

		panel.hidden = false;
		panel.dataset.state = "loading";
		panel.dataset.nodeId = id;

		revokeBtn = el("button", { type: "button",
		    class: "btn btn--small btn--danger-text",
		    dataset: { action: "revoke" }, disabled: !admin,
		    "aria-describedby": admin ? null : "revoke-reason",
		    text: t("nodes.action.revoke"),
		    onclick: function (ev) {
			    revoke(ev.currentTarget);
		    } });
		revokeWrap = el("span", { id: "revoke-wrap", class: "has-reason",
		    title: admin ? null : t("nodes.revoke.adminOnly") },
		    revokeBtn,
		    el("span", { id: "revoke-reason", class: "visually-hidden",
			text: admin ? "" : t("nodes.revoke.adminOnly") }));

		panel.appendChild(el("div", { class: "panel__head" },
		    el("div", { class: "panel__title" },
			el("h2", { id: "detail-name", text: "#" + id }),
			el("span", { id: "detail-status" }),
			el("span", { id: "detail-host", class: "muted mono" }),
			el("span", { id: "detail-access" })),
		    el("div", { class: "toolbar" },
			el("span", { id: "ping-wrap", class: "has-reason" },
			    el("button", { type: "button",
				class: "btn btn--small btn--primary",
				dataset: { action: "ping" },
				title: t("nodes.action.ping.title"),
				text: t("nodes.action.ping"), disabled: true,
				onclick: function (ev) {
					ping(ev.currentTarget);
				} })),
			el("button", { type: "button", class: "btn btn--small",
			    dataset: { action: "metrics" },
			    title: t("nodes.action.metrics.title"),
			    text: t("nodes.action.metrics"),
			    onclick: function () {
				    Y.navigate("metrics", "node=" +
					encodeURIComponent(id));
			    } }),
			el("span", { id: "mute-wrap" }),
			revokeWrap,
			el("button", { type: "button",
			    class: "btn btn--small btn--link",
			    dataset: { action: "close" },
			    text: t("common.close"),
			    "aria-label": t("nodes.action.close"),
			    onclick: function () {
				    closeDetail(false);
			    } }))));
		panel.appendChild(el("div", { id: "ping-result",
		    class: "status-line", role: "status", "aria-live": "polite",
		    dataset: { state: "idle" }, hidden: true }));
		panel.appendChild(el("div", { id: "detail-body" },
		    el("div", { class: "panel__section loading",
			text: t("common.loading") })));
	}

	async function loadDetail(first) {
		var id = S.selected, seq, d;

		if (id === null || (!first && S.detailBusy))
			return;
		seq = ++S.detailSeq;
		S.detailBusy = true;
		try {
			d = await getChecked("/nodes/" + encodeURIComponent(id),
			    function (x) {
				    return x !== null && typeof x === "object" &&
					String(x.id) === id;
			    });
		} catch (err) {
			if (seq !== S.detailSeq)
				return;
			S.detailBusy = false;
			if (err.status === 404) {
				detailMissing(id);
				return;
			}
			if (!first && (err.status === 0 ||
			    err.code === "bad_response"))
				return;		/* live: try again next tick */
			if (first) {
				$("node-detail").dataset.state = "error";
				Y.clear($("detail-body")).appendChild(el("div", {
				    class: "panel__section muted",
				    text: Y.errorText(err) }));
			} else {
				Y.banner($("banner"), "error", Y.errorText(err));
			}
			return;
		}
		if (seq !== S.detailSeq || S.selected !== id)
			return;
		S.detailBusy = false;
		if (d === null || typeof d !== "object" || String(d.id) !== id) {
			/* An odd answer: say so once, keep what is shown. */
			if (first) {
				$("node-detail").dataset.state = "error";
				Y.clear($("detail-body")).appendChild(el("div", {
				    class: "panel__section muted",
				    text: t("error.bad_response") }));
			}
			return;
		}
		S.detail = d;
		renderDetail(d);
		$("node-detail").dataset.state = "ready";
		loadTasks(id);
	}

	/* ---- the node's tasks ------------------------------------------------ */

	function resetTasks() {
		S.tasks = null;
		S.taskRows.clear();
		S.tasksSeq++;
	}

	/* GET /tasks?node_id=: the tasks of the open node the caller sees. */
	async function loadTasks(id) {
		var seq = ++S.tasksSeq, res, box;

		try {
			res = await Y.api("GET", "/tasks" + Y.qs({
				node_id: id,
				limit: TASKS_MAX
			}));
		} catch (err) {
			if (seq !== S.tasksSeq || S.selected !== id)
				return;
			box = $("detail-tasks");
			/* Live: keep what is shown; first time: say why. */
			if (S.tasks === null && box !== null) {
				box.dataset.state = "error";
				Y.clear(box).appendChild(el("div", {
				    class: "muted", text: Y.errorText(err) }));
			}
			return;
		}
		if (seq !== S.tasksSeq || S.selected !== id)
			return;
		if (res === null || typeof res !== "object" ||
		    !Array.isArray(res.items))
			return;
		S.tasks = {
			id: id,
			items: res.items.filter(function (x) {
				return x !== null && typeof x === "object" &&
				    (typeof x.id === "number" ||
				    typeof x.id === "string");
			}),
			more: res.next !== undefined && res.next !== null &&
			    res.next !== ""
		};
		renderTasks();
	}

	/* A task's own page: /ui/tasks/ID, keeping the look (theme, lang). */
	function taskUrl(id) {
		var p = new URLSearchParams(location.search), q = new URLSearchParams();

		["theme", "lang"].forEach(function (k) {
			if (p.has(k))
				q.set(k, p.get(k));
		});
		q = q.toString();
		return listPath().replace(/\/nodes$/, "/tasks") + "/" +
		    encodeURIComponent(id) + (q !== "" ? "?" + q : "");
	}

	function onTaskClick(ev) {
		var a = ev.target.closest("a[data-task-link]");

		if (a === null || !Y.framed || ev.ctrlKey || ev.metaKey ||
		    ev.shiftKey || ev.button !== 0)
			return;
		/* Framed: the host opens the module (yard:navigate). */
		ev.preventDefault();
		Y.navigate("tasks", "task=" + encodeURIComponent(a.dataset.taskLink));
	}

	function taskState(st) {
		var k = "tasks.state." + st;
		var v = t(k);
		return v === k ? String(st) : v;
	}

	/*
	 * The open node's tasks, patched in place (rows keyed by id, so a
	 * focused link keeps its focus).  CPU and memory are greyed, with
	 * their age, while the node is not online.
	 */
	function renderTasks() {
		var box = $("detail-tasks"), d = S.detail, body, note;
		var stale, keep = new Set();

		if (box === null || S.tasks === null || d === null ||
		    S.tasks.id !== String(d.id))
			return;
		box.dataset.state = "ready";
		stale = isStale(d) && Boolean(d.last_seen);
		if (S.tasks.items.length === 0) {
			if (box.querySelector("[data-tasks-empty]") === null) {
				S.taskRows.clear();
				Y.clear(box).appendChild(el("div", { class: "muted",
				    dataset: { tasksEmpty: "1" },
				    text: t("nodes.tasks.empty") }));
			}
			return;
		}
		body = $("detail-tasks-body");
		if (body === null) {
			S.taskRows.clear();
			Y.clear(box);
			box.appendChild(el("div", { id: "detail-tasks-stale",
			    class: "field__hint", hidden: true }));
			body = el("tbody", { id: "detail-tasks-body" });
			body.addEventListener("click", onTaskClick);
			box.appendChild(el("div", { class: "table-wrap" },
			    el("table", { class: "yard-table",
				id: "detail-tasks-table" },
				el("thead", null, el("tr", null,
				    el("th", { scope: "col",
					text: t("nodes.tasks.col.name") }),
				    el("th", { scope: "col",
					text: t("nodes.tasks.col.state") }),
				    el("th", { scope: "col", class: "cell-num",
					text: t("nodes.tasks.col.cpu") }),
				    el("th", { scope: "col", class: "cell-num",
					text: t("nodes.tasks.col.mem") }))),
				body)));
			box.appendChild(el("div", { id: "detail-tasks-more",
			    class: "field__hint", hidden: true }));
		}
		note = $("detail-tasks-stale");
		note.hidden = !stale;
		setText(note, stale ? t("nodes.tasks.stale",
		    { age: ago(d.last_seen) }) : "");
		$("detail-tasks-more").hidden = !S.tasks.more;
		setText($("detail-tasks-more"), S.tasks.more ?
		    t("nodes.tasks.more", { n: S.tasks.items.length }) : "");
		S.tasks.items.forEach(function (x, i) {
			var id = String(x.id), r = S.taskRows.get(id);

			if (r === undefined) {
				r = makeTaskRow(id);
				S.taskRows.set(id, r);
			}
			updateTaskRow(r, x, stale);
			keep.add(id);
			if (body.children[i] !== r.tr)
				body.insertBefore(r.tr, body.children[i] || null);
		});
		S.taskRows.forEach(function (r, id) {
			if (!keep.has(id)) {
				r.tr.remove();
				S.taskRows.delete(id);
			}
		});
	}

	function makeTaskRow(id) {
		var c = {
			link: el("a", { href: taskUrl(id),
			    dataset: { taskLink: id } }),
			state: el("td"),
			cpu: el("td", { class: "cell-num" }),
			mem: el("td", { class: "cell-num" })
		};

		return {
			tr: el("tr", { dataset: { taskId: id } },
			    el("td", { class: "cell-main cell-ellipsis" }, c.link),
			    c.state, c.cpu, c.mem),
			cells: c,
			sig: {}
		};
	}

	function updateTaskRow(r, x, stale) {
		var c = r.cells, m = x.metrics && typeof x.metrics === "object" ?
		    x.metrics : {};
		var title = stale ? staleTitle(S.detail) : "";

		if (changed(r, "name", x.name))
			setText(c.link, String(x.name || "#" + x.id));
		if (changed(r, "state", x.state)) {
			r.tr.dataset.state = String(x.state || "");
			setText(c.state, taskState(x.state));
		}
		if (changed(r, "vals", [m.cpu, m.rss, stale, title])) {
			setText(c.cpu, pct(m.cpu));
			setText(c.mem, finite(m.rss) ? C.formatBytes(m.rss) :
			    t("common.none"));
			[c.cpu, c.mem].forEach(function (td) {
				var on = stale && td.textContent !== t("common.none");
				td.classList.toggle("is-stale", on);
				if (on)
					td.dataset.stale = "1";
				else
					delete td.dataset.stale;
				td.title = on ? title : "";
			});
		}
	}

	function detailMissing(id) {
		var panel = $("node-detail");

		if (S.selected !== id)
			return;
		stopPing();
		S.detail = null;
		panel.dataset.state = "error";
		Y.clear($("detail-body")).appendChild(el("div", {
		    class: "panel__section notice" },
		    el("div", { class: "notice__text",
			text: t("nodes.notFound") })));
		panel.querySelectorAll("[data-action=ping], [data-action=revoke]," +
		    " [data-action=metrics]").forEach(function (b) {
			b.disabled = true;
		});
	}

	/*
	 * May this user operate node d (ping it)?  The server reports the
	 * caller's level on each node ("none" for a node seen only through a
	 * grant on one of its tasks); it checks the ping regardless.
	 */
	function mayOperate(d) {
		return Y.may(d.level, "operate");
	}

	function renderDetail(d) {
		var panel = $("node-detail");
		var body = $("detail-body");
		var admin = isAdmin(), revoked = d.status === "revoked";
		var pingBtn = panel.querySelector("[data-action=ping]");
		var revBtn = panel.querySelector("[data-action=revoke]");
		var sec;

		$("detail-name").textContent = nodeLabel(d);
		if (dchanged("status", d.status)) {
			$("detail-status").dataset.status = d.status || "";
			Y.clear($("detail-status")).appendChild(
			    statusBadge(d.status));
		}
		$("detail-host").textContent = d.hostname &&
		    d.hostname !== d.name ? d.hostname : "";
		if (dchanged("access", [admin, d.level])) {
			Y.clear($("detail-access"));
			$("ping-wrap").hidden = !mayOperate(d);
			if (!mayOperate(d))
				$("detail-access").appendChild(el("span", {
				    class: "badge",
				    title: t("nodes.detail.viewOnly.title"),
				    text: t("nodes.detail.viewOnly") }));
		}

		/* Ping: a revoked node cannot answer; the reason is shown. */
		if (!(S.ping && S.ping.busy))
			pingBtn.disabled = revoked;
		$("ping-wrap").title = revoked ? t("nodes.ping.revokedReason") : "";
		revBtn.disabled = !admin || revoked;
		$("revoke-wrap").title = !admin ? t("nodes.revoke.adminOnly") :
		    revoked ? t("nodes.revoke.already") : "";
		$("revoke-reason").textContent = !admin ?
		    t("nodes.revoke.adminOnly") : revoked ?
		    t("nodes.revoke.already") : "";
		if (revBtn.disabled)
			revBtn.setAttribute("aria-describedby", "revoke-reason");
		else
			revBtn.removeAttribute("aria-describedby");

		if (body.querySelector("#detail-facts") === null) {
			Y.clear(body);
			body.appendChild(el("div", { class: "panel__section" },
			    el("h3", { class: "section-title",
				text: t("nodes.detail.metrics") }),
			    el("div", { id: "detail-metrics" })));
			body.appendChild(el("div", { class: "panel__section" },
			    el("h3", { class: "section-title",
				text: t("nodes.detail.tasks") }),
			    el("div", { id: "detail-tasks",
				dataset: { state: "loading" } },
				el("div", { class: "muted",
				    text: t("common.loading") }))));
			body.appendChild(el("div", { class: "panel__section" },
			    el("h3", { class: "section-title",
				text: t("nodes.detail.facts") }),
			    el("div", { id: "detail-facts" })));
			sec = el("div", { class: "panel__section" },
			    el("h3", { class: "section-title",
				text: t("nodes.detail.events") }),
			    el("div", { id: "detail-events" }));
			body.appendChild(sec);
		}
		if (dchanged("metrics", [d.metrics, d.status, d.last_seen,
		    d.facts && d.facts.cpus]))
			renderMetrics(d);
		if (dchanged("facts", [d.facts, d.agent_version, d.enrolled_at,
		    d.created_at, d.revoked_at, d.last_seen, d.hostname]))
			renderFacts(d);
		if (dchanged("events", d.events))
			renderEvents(d.events || []);
		renderTasks();
		if (dchanged("mute", [admin, d.level, d.name]))
			renderMute(d);

		/* Keep the list row in step with what the detail shows. */
		var r = S.rows.get(String(d.id));
		if (r !== undefined && r.node !== null) {
			updateRow(r, Object.assign({}, r.node, {
				name: d.name, hostname: d.hostname,
				status: d.status, last_seen: d.last_seen,
				agent_version: d.agent_version,
				metrics: d.metrics
			}));
		}
	}

	/* "Mute…" for admins and those who manage the node. */
	function renderMute(d) {
		var wrap = $("mute-wrap");

		if (wrap === null)
			return;
		Y.clear(wrap);
		if (isAdmin() || Y.may(d.level, "manage"))
			wrap.appendChild(A.muteButton("node", { id: d.id,
			    name: nodeLabel(d) }, function () {
				    A.summary(true).then(loadAlerts);
			    }));
	}

	function dchanged(key, value) {
		var v = JSON.stringify(value);
		if (S.dsig[key] === v)
			return false;
		S.dsig[key] = v;
		return true;
	}

	function tile(label, value, sub, key, d) {
		var stale = d !== undefined && isStale(d);

		return el("div", { class: stale ? "tile is-stale" : "tile",
		    dataset: { metric: key, stale: stale ? "1" : null },
		    title: stale ? staleTitle(d) : null },
		    el("div", { class: "tile__label", text: label }),
		    el("div", { class: "tile__value", text: value }),
		    sub ? el("div", { class: "tile__sub", text: sub }) : null,
		    stale ? ageEl(d) : null);
	}

	/* "as of 5 min ago", kept current by updateDetailAge(). */
	function ageEl(d) {
		return el("div", { class: "stale-age",
		    dataset: { age: d.last_seen || "" },
		    text: t("nodes.value.staleAge", { age: ago(d.last_seen) }) });
	}

	function updateDetailAge(d) {
		var f = $("detail-last-seen"), s = t("nodes.value.staleAge",
		    { age: ago(d.last_seen) });

		if (f !== null)
			setText(f, lastSeenText(d));
		document.querySelectorAll("#node-detail .stale-age")
		    .forEach(function (n) {
			    setText(n, s);
		    });
		document.querySelectorAll("#node-detail [data-stale][title]")
		    .forEach(function (n) {
			    var v = staleTitle(d);
			    if (n.title !== v)
				    n.title = v;
		    });
		if (S.tasks !== null && $("detail-tasks-stale") !== null &&
		    !$("detail-tasks-stale").hidden)
			setText($("detail-tasks-stale"), t("nodes.tasks.stale",
			    { age: ago(d.last_seen) }));
	}

	function renderMetrics(d) {
		var box = Y.clear($("detail-metrics"));
		var m = d.metrics || {};
		var has = finite(m.cpu) || finite(m.mem_used) || finite(m.load1);
		var load, cpus = d.facts && finite(d.facts.cpus) ? d.facts.cpus :
		    null;

		if (!has) {
			box.appendChild(el("div", { class: "muted",
			    text: t("nodes.metrics.none") }));
			return;
		}
		if (d.status !== "online")
			box.appendChild(el("div", { class: "field__hint",
			    text: t("nodes.metrics.stale", {
				    time: Y.formatTime(d.last_seen) }) }));
		load = [m.load1, m.load5, m.load15].map(function (v) {
			return finite(v) ? C.formatNumber(v, 2) : t("common.none");
		}).join(" / ");
		box.appendChild(el("div", { class: "tiles" },
		    tile(t("nodes.metric.cpu"), pct(m.cpu), cpus !== null ?
			t("nodes.metric.cpus", { n: cpus }) : null, "cpu", d),
		    tile(t("nodes.metric.mem"), pct(memPct(m)),
			finite(m.mem_used) && finite(m.mem_total) ?
			t("nodes.metric.memSub", {
				used: C.formatBytes(m.mem_used),
				total: C.formatBytes(m.mem_total)
			}) : null, "mem", d),
		    tile(t("nodes.metric.load"), load, null, "load", d)));
	}

	function factItem(key, value, opts) {
		opts = opts || {};
		return el("div", { class: "facts__item", dataset: { fact: key } },
		    el("dt", { class: "facts__term",
			text: t("nodes.fact." + key) }),
		    el("dd", { class: ["facts__value", opts.mono ? "mono" : null,
			opts.muted ? "muted" : null], id: opts.id || null,
			title: opts.title || null }, value));
	}

	/*
	 * The node's own policy (it reports it with its facts; older agents
	 * do not): where tasks may be deployed and as whom they run.
	 */
	function policyText(p) {
		if (!p || typeof p !== "object" || !Array.isArray(p.roots))
			return el("span", { class: "muted",
			    text: t("nodes.policy.none") });
		if (p.roots.length === 0)
			return t("nodes.policy.noRoots");
		return p.roots.map(function (r) {
			var path = typeof r === "string" ? r : r && r.path;
			var user = r && typeof r === "object" ? r.user : null;

			return el("div", { class: "mono", dataset: { root: String(
			    path) }, text: user ? t("nodes.policy.root",
			    { path: String(path), user: String(user) }) :
			    String(path) });
		});
	}

	function renderFacts(d) {
		var box = Y.clear($("detail-facts"));
		var f = d.facts && typeof d.facts === "object" ? d.facts : {};
		var none = t("common.none");
		var items = [], disks;

		function str(v) {
			return v === null || v === undefined || v === "" ? none :
			    String(v);
		}

		if (Object.keys(f).length === 0)
			box.appendChild(el("div", { class: "field__hint",
			    text: t("nodes.facts.none") }));
		items.push(factItem("hostname", str(f.hostname || d.hostname),
		    { mono: true }));
		items.push(factItem("os", str(f.os)));
		items.push(factItem("kernel", str(f.kernel), { mono: true }));
		items.push(factItem("arch", str(f.arch), { mono: true }));
		items.push(factItem("cpus", str(f.cpus)));
		items.push(factItem("mem_total", finite(f.mem_total) ?
		    C.formatBytes(f.mem_total) : none));
		disks = Array.isArray(f.disks) && f.disks.length > 0 ?
		    f.disks.map(function (k) {
			    var stale = isStale(d) && Boolean(d.last_seen);

			    return el("div", { class: stale ? "is-stale" : null,
				title: stale ? staleTitle(d) : null,
				dataset: { disk: k.path || "",
				    stale: stale ? "1" : null },
				text: t("nodes.disk", {
				    path: k.path || "?",
				    free: finite(k.free) ? C.formatBytes(k.free) :
					none,
				    total: finite(k.total) ?
					C.formatBytes(k.total) : none
			    }) });
		    }) : none;
		if (Array.isArray(disks) && isStale(d) && d.last_seen)
			disks.push(ageEl(d));
		items.push(factItem("disks", disks));
		items.push(factItem("uptime", finite(f.uptime) ?
		    duration(f.uptime) : none, { title: d.last_seen ?
		    t("nodes.uptime.asOf", { time: Y.formatTimeFull(d.last_seen) })
		    : null }));
		items.push(factItem("agent_version", str(d.agent_version ||
		    f.agent_version), { mono: true }));
		items.push(factItem("boot_id", str(f.boot_id), { mono: true }));
		items.push(factItem("policy", policyText(f.policy)));
		items.push(factItem("last_seen", lastSeenText(d),
		    { id: "detail-last-seen", title: Y.formatTimeFull(
		    d.last_seen) || null }));
		items.push(factItem("enrolled_at", Y.formatTime(d.enrolled_at),
		    { title: Y.formatTimeFull(d.enrolled_at) || null }));
		items.push(factItem("created_at", Y.formatTime(d.created_at),
		    { title: Y.formatTimeFull(d.created_at) || null }));
		if (d.revoked_at)
			items.push(factItem("revoked_at", Y.formatTime(d.revoked_at),
			    { title: Y.formatTimeFull(d.revoked_at) }));
		items.push(factItem("id", String(d.id), { mono: true }));
		box.appendChild(el("dl", { class: "facts" }, items));
	}

	function detailText(det) {
		if (det === null || det === undefined)
			return "";
		if (typeof det !== "object")
			return String(det);
		return Object.keys(det).map(function (k) {
			var v = det[k];
			return k + ": " + (v !== null && typeof v === "object" ?
			    JSON.stringify(v) : String(v));
		}).join(", ");
	}

	function renderEvents(events) {
		var box = Y.clear($("detail-events"));
		var body;

		if (events.length === 0) {
			box.appendChild(el("div", { class: "muted",
			    text: t("nodes.events.empty") }));
			return;
		}
		body = el("tbody");
		events.forEach(function (e) {
			var det = detailText(e.detail);
			body.appendChild(el("tr", { dataset: { eventId: e.id,
			    eventStatus: e.status } },
			    el("td", { title: Y.formatTimeFull(e.at),
				text: Y.formatTime(e.at) }),
			    el("td", null, eventBadge(e.status)),
			    el("td", { class: det ? "cell-wrap" : "cell-wrap muted",
				text: det || t("common.none") })));
		});
		box.appendChild(el("div", { class: "table-wrap" },
		    el("table", { class: "yard-table", id: "detail-events-table" },
			el("thead", null, el("tr", null,
			    el("th", { scope: "col", text: t("nodes.col.at") }),
			    el("th", { scope: "col",
				text: t("nodes.col.event") }),
			    el("th", { scope: "col",
				text: t("nodes.col.detail") }))),
			body)));
	}

	/* ---- test connection (ping) ------------------------------------------ */

	function stopPing() {
		if (S.ping !== null) {
			S.ping.cancelled = true;
			S.ping = null;
		}
	}

	function sleep(ms) {
		return new Promise(function (resolve) {
			setTimeout(resolve, ms);
		});
	}

	/* Milliseconds between two server timestamps (microsecond ISO). */
	function msBetween(a, b) {
		function ms(v) {
			var m = /^(.*[T ]\d\d:\d\d:\d\d)(\.\d+)?(.*)$/.exec(v || "");
			var base;
			if (m === null)
				return NaN;
			base = parseTime(m[1] + (m[3] || ""));
			return base + (m[2] ? Number("0" + m[2]) * 1000 : 0);
		}
		return ms(b) - ms(a);
	}

	function fmtMs(v) {
		return finite(v) ? C.formatNumber(v, v < 10 ? 1 : 0) : "?";
	}

	/* state: data-state of #ping-result; tone: colour; main/sub: text. */
	function setPing(state, tone, main, sub, extra) {
		var box = $("ping-result");

		if (box === null)
			return;
		box.hidden = false;
		box.dataset.state = state;
		box.dataset.tone = tone;
		if (extra && finite(extra.ms))
			box.dataset.ms = String(Math.round(extra.ms * 10) / 10);
		else
			delete box.dataset.ms;
		if (extra && extra.command)
			box.dataset.commandId = extra.command;
		Y.clear(box).appendChild(el("span", { class: "status-line__main",
		    id: "ping-text", text: main }));
		if (sub)
			box.appendChild(el("span", { class: "status-line__sub",
			    text: sub }));
	}

	async function ping(btn) {
		var id = S.selected, p, res, cmd, started, final = false;

		if (id === null)
			return;
		stopPing();
		p = S.ping = { node: id, busy: true, cancelled: false };
		btn.disabled = true;
		btn.setAttribute("aria-busy", "true");
		setPing("sending", "info", t("nodes.ping.sending"));

		function done() {
			p.busy = false;
			if (S.ping === p)
				S.ping = null;
			if (btn.isConnected) {
				btn.disabled = S.detail !== null &&
				    S.detail.status === "revoked";
				btn.removeAttribute("aria-busy");
			}
		}

		try {
			res = await Y.api("POST", "/commands", {
				type: "ping", node_id: idValue(id) });
		} catch (err) {
			if (p.cancelled)
				return;
			done();
			if (err.status === 403)
				setPing("forbidden", "warning",
				    t("nodes.ping.forbidden"));
			else
				setPing("error", "danger", t("nodes.ping.error"),
				    Y.errorText(err));
			return;
		}
		if (p.cancelled)
			return;
		if (res === null || typeof res !== "object" || !res.id) {
			done();
			setPing("error", "danger", t("nodes.ping.error"),
			    t("error.bad_response"));
			return;
		}
		started = Date.now();
		cmd = res;
		showCommand(cmd);
		while (!final && Date.now() - started < PING_MAX_MS) {
			await sleep(PING_EVERY_MS);
			if (p.cancelled)
				return;
			try {
				cmd = await Y.api("GET", "/commands/" +
				    encodeURIComponent(res.id));
			} catch (err) {
				if (p.cancelled)
					return;
				if (err.status === 0)
					continue;	/* a blip: keep trying */
				done();
				setPing("error", "danger", t("nodes.ping.error"),
				    Y.errorText(err));
				return;
			}
			if (p.cancelled)
				return;
			if (cmd === null || typeof cmd !== "object" ||
			    cmd.id !== res.id)
				continue;	/* an odd answer: ask again */
			final = FINAL.indexOf(cmd.state) !== -1;
			showCommand(cmd);
		}
		done();
		if (!final)
			setPing("no_answer", "warning", t("nodes.ping.noAnswer",
			    { s: Math.round(PING_MAX_MS / 1000) }),
			    t("nodes.ping.noAnswerDetail"), { command: res.id });
	}

	function showCommand(c) {
		var total, dispatch, agent, sub;

		switch (c.state) {
		case "succeeded":
			total = msBetween(c.issued_at, c.finished_at);
			dispatch = c.dispatched_at ? msBetween(c.issued_at,
			    c.dispatched_at) : NaN;
			agent = finite(c.agent_finished_ms) &&
			    finite(c.agent_received_ms) ?
			    c.agent_finished_ms - c.agent_received_ms : NaN;
			sub = finite(dispatch) || finite(agent) ?
			    t("nodes.ping.okDetail", { dispatch: fmtMs(dispatch),
				agent: fmtMs(agent) }) : null;
			setPing("succeeded", "success", t("nodes.ping.ok",
			    { ms: fmtMs(total) }), sub, { ms: total,
			    command: c.id });
			break;
		case "failed":
			setPing("failed", "danger", t("nodes.ping.failed"),
			    c.output || c.code ?
			    String(Y.commandText(c)).slice(0, 500) : null,
			    { command: c.id });
			break;
		case "timed_out":
		case "cancelled":
			setPing(c.state, "danger", t("nodes.ping." + c.state), null,
			    { command: c.id });
			break;
		case "dispatched":
		case "running":
			setPing(c.state, "info", t("nodes.ping." + c.state), null,
			    { command: c.id });
			break;
		default:
			setPing("queued", "info", t("nodes.ping.queued"), null,
			    { command: c.id });
		}
	}

	/* ---- revoke (admin) -------------------------------------------------- */

	async function revoke(btn) {
		var d = S.detail, name;

		if (d === null || !isAdmin())
			return;
		name = nodeLabel(d);
		if (!await Y.confirm({
			text: t("nodes.confirm.revoke", { node: name }),
			ok: t("nodes.action.revoke"),
			danger: true,
			anchor: btn
		}))
			return;
		btn.disabled = true;
		btn.setAttribute("aria-busy", "true");
		try {
			await Y.api("DELETE", "/nodes/" + encodeURIComponent(d.id));
		} catch (err) {
			btn.removeAttribute("aria-busy");
			btn.disabled = false;
			Y.banner($("banner"), "error", Y.errorText(err));
			if (err.status === 404)
				loadDetail(false);
			return;
		}
		btn.removeAttribute("aria-busy");
		Y.banner($("banner"), "success", t("nodes.revoked", { node: name }));
		loadDetail(false);
		loadList("refresh");
	}

	/* ---- enrol (admin) --------------------------------------------------- */

	async function enroll(btn) {
		var e;

		btn.disabled = true;
		btn.setAttribute("aria-busy", "true");
		try {
			e = await Y.api("POST", "/enrollments");
		} catch (err) {
			btn.disabled = false;
			btn.removeAttribute("aria-busy");
			Y.banner($("banner"), "error", Y.errorText(err));
			return;
		}
		btn.disabled = false;
		btn.removeAttribute("aria-busy");
		if (e === null || typeof e !== "object" || !e.command) {
			Y.banner($("banner"), "error", t("error.bad_response"));
			return;
		}
		Y.banner($("banner"));
		S.enroll = e;
		showInstall();
		$("enroll-command").dataset.enrollmentId = String(e.id);
		$("enroll-expiry").textContent = t("nodes.enroll.expiry",
		    { time: Y.formatTime(e.expires_at) });
		$("enroll-expiry").title = Y.formatTimeFull(e.expires_at);
		$("enroll-expiry").dataset.expiresAt = e.expires_at || "";
		$("enroll-copy-status").textContent = "";
		$("enroll-panel").hidden = false;
		$("enroll-panel").scrollIntoView({ block: "nearest" });
		$("enroll-copy").focus();
	}

	/*
	 * The line to paste on the new server: with an agent package offered
	 * by this server (e.install), download, check, install, enrol and
	 * start, for the chosen architecture, after trusting an internal CA
	 * when its file is named; else the enrolment alone (the agent is
	 * installed already).
	 */
	function showInstall() {
		var e = S.enroll, inst, sel, ca, err, line, i;

		if (e === null || e === undefined)
			return;
		inst = Array.isArray(e.install) ? e.install.filter(function (x) {
			return x && typeof x.command === "string";
		}) : [];
		$("enroll-install").hidden = inst.length === 0;
		$("enroll-only").hidden = inst.length === 0;
		$("enroll-run").textContent = t(inst.length > 0 ?
		    "nodes.enroll.install" : "nodes.enroll.run");
		if (inst.length === 0) {
			$("enroll-command").textContent = e.command;
			return;
		}
		sel = $("enroll-arch");
		if (sel.options.length !== inst.length) {
			Y.clear(sel);
			inst.forEach(function (x, k) {
				sel.appendChild(el("option", { value: String(k),
				    text: x.arch }));
			});
		}
		$("enroll-arch-field").hidden = inst.length < 2;
		i = Number(sel.value) || 0;
		$("enroll-systems").textContent = t("nodes.enroll.systems", {
			arch: inst.map(function (x) {
				return x.arch;
			}).join(", "),
			name: inst[i].name, version: inst[i].version });
		$("enroll-command").dataset.sha256 = inst[i].sha256;
		line = inst[i].command;
		ca = $("enroll-ca").value.trim();
		err = $("enroll-ca-error");
		err.hidden = true;
		$("enroll-ca").removeAttribute("aria-invalid");
		if (ca !== "") {
			/* Into single quotes on a root shell: a plain path only. */
			if (!/^\/[A-Za-z0-9._\/-]{1,199}$/.test(ca) ||
			    /(^|\/)\.\.(\/|$)/.test(ca)) {
				err.textContent = t("nodes.enroll.ca.bad");
				err.hidden = false;
				$("enroll-ca").setAttribute("aria-invalid", "true");
			} else {
				line = "install -m 0644 '" + ca +
				    "' /usr/local/share/ca-certificates/" +
				    "yard-ca.crt && update-ca-certificates && " +
				    line;
			}
		}
		$("enroll-command").textContent = line;
		$("enroll-only-command").textContent = e.command;
	}

	function closeEnroll() {
		S.enroll = null;
		$("enroll-only-command").textContent = "";
		$("enroll-command").textContent = "";
		$("enroll-panel").hidden = true;
		if (!$("enroll-btn").hidden)
			$("enroll-btn").focus();
	}

	function selectCommand() {
		var range = document.createRange();
		var sel = window.getSelection();

		range.selectNodeContents($("enroll-command"));
		sel.removeAllRanges();
		sel.addRange(range);
	}

	async function copyEnroll() {
		var text = $("enroll-command").textContent;
		var status = $("enroll-copy-status");
		var ok = false;

		try {
			if (navigator.clipboard && window.isSecureContext) {
				await navigator.clipboard.writeText(text);
				ok = true;
			}
		} catch (e) {
			ok = false;
		}
		if (!ok) {
			/* Framed without clipboard-write, or plain HTTP. */
			selectCommand();
			try {
				ok = document.execCommand("copy");
			} catch (e) {
				ok = false;
			}
		}
		if (ok)
			selectCommand();
		status.textContent = t(ok ? "common.copied" : "common.copyFailed");
		status.dataset.copied = ok ? "true" : "false";
	}
})();
