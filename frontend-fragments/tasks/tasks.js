/*
 * Yard "tasks" module page: the tasks the user may view as a dense table
 * (name, node, state, uptime, CPU, memory, restarts; refreshed every 2 s
 * and patched in place, so focus, menus and typed input survive), each
 * row with Start or Stop, whichever makes sense, and a "more" menu (menu
 * button pattern) with the rest; "New task" opens the create form in a
 * drawer; Edit loads a task's settings into the same form (node and kind
 * fixed) and saves them with PUT, keeping settings the form does not show.
 * A task's own page (task.js) opens at /ui/tasks/ID or ?task=ID.
 *
 * Actions follow the caller's level on each task, as the server reports
 * it (task.level): start, stop, restart and Logs need operate; Edit,
 * Uninstall, Deploy / Update, Move and Mute need manage; creating needs
 * manage on a node (the picker offers only those).  Actions a level does
 * not allow are not shown, nor are those that make no sense in the task's
 * state (no stop or restart for a task that is not running, no start for
 * one that runs); the server checks every call regardless.  A task whose
 * latest command failed shows that command's output under its row (a
 * start the node's policy refused says why); the deploy directory field
 * offers the roots the chosen node's policy allows and refuses others
 * before sending.  A running deploy, update, rollback or move shows its
 * step and percent in the state cell, polled while it runs.
 * ?deploy=PACKAGE&task=ID (the Packages page's Attach) opens the task's
 * page with the deploy dialog on that package; ?config=ID its
 * Configuration tab.
 *
 * Test hooks: <tr data-task-id data-task-name data-state data-level>,
 * a[data-action=open], buttons data-action="start" | "stop" | "more";
 * the menu ul[role=menu][data-menu-of] with items data-action="start" |
 * "restart" | "logs" | "metrics" | "history" | "releases" | "config" |
 * "deploy" | "move" | "edit" | "mute" | "uninstall"; span[data-view-only],
 * td[data-cell=state] > .progress[data-step][data-percent][data-command-id],
 * tr[data-last-lines-of], tr[data-last-command-of][data-policy],
 * #task-new, dialog#task-drawer > form#task-create (data-mode=create|edit),
 * #task-cancel-edit, #task-deploy-roots (datalist),
 * #task-deploy-hint[data-roots], #task-last, #banner,
 * body[data-yard-page=loading|ready|error], body[data-view=list|task].
 */
(function () {
	"use strict";

	var Y = window.Yard;
	var R = window.YardReleases;
	var A = window.YardAlerts;
	var t = Y.t;
	var el = Y.el;
	var REFRESH_MS = 2000;
	var COMMAND_POLL_MS = 400;
	var FINAL = ["succeeded", "failed", "timed_out", "cancelled"];
	var UP = ["running", "unhealthy", "starting"];
	var COLS = 8;

	var S = {
		q: "",
		items: [],
		nodes: [],		/* nodes the caller manages */
		allNodes: [],		/* every visible node, for its roots */
		busy: {},		/* task id -> command id in progress */
		progress: {},		/* task id -> {id, type, state, progress} */
		watching: {},		/* command ids being polled */
		rows: {},		/* task id -> {tr, cells, extra} */
		seq: 0,
		loaded: false,
		timer: null,
		editing: null,		/* {id, spec} while the form edits */
		alerts: null,		/* GET /alerts/summary (YardAlerts) */
		page: null,		/* the task id of a task's own page */
		newId: null,		/* the task created last, highlighted */
		drawerFrom: null	/* what had focus before the drawer */
	};

	function $(id) {
		return document.getElementById(id);
	}

	Y.onReady(init);

	function idParam(v) {
		return /^[0-9]{1,18}$/.test(v || "") ? Number(v) : null;
	}

	/*
	 * Which view: /ui/tasks/ID and ?task=ID (inside EWS) are a task's
	 * own page, ?config=ID its Configuration tab; anything else the list.
	 * At the top level the path form becomes ?task=ID, so that links
	 * relative to the page (Yard.navigate) stay right.
	 */
	function route() {
		var m = /\/tasks\/([0-9]{1,18})\/?$/.exec(location.pathname);
		var p = new URLSearchParams(location.search);
		var id = m ? Number(m[1]) : idParam(p.get("task"));

		if (id === null && idParam(p.get("config")) !== null) {
			id = idParam(p.get("config"));
			p.delete("config");
			p.set("tab", "config");
		}
		if (id === null)
			return null;
		p.set("task", String(id));
		history.replaceState(history.state, "", location.pathname
		    .replace(/\/tasks\/[0-9]+\/?$/, "/tasks") + "?" + p.toString());
		return id;
	}

	function init() {
		var id = route(), p = new URLSearchParams(location.search);

		R.init({
			issued: issued,
			banner: function (kind, text) {
				Y.banner($("banner"), kind, text);
			},
			rootsError: function (dir, nodeId) {
				return rootsError(dir, nodeId);
			},
			osFamily: function (nodeId) {
				var n = nodeById(nodeId);

				return n && n.facts && n.facts.os_family ===
				    "windows" ? "windows" : "linux";
			}
		});
		initDrawer();
		loadNodes();
		document.body.dataset.view = id === null ? "list" : "task";
		if (id !== null) {
			S.page = id;
			window.YardTaskPage.open(id, {
				tab: p.get("tab"),
				deploy: idParam(p.get("deploy"))
			});
			return;
		}
		$("task-search").addEventListener("input", function (ev) {
			S.q = ev.target.value.trim();
			load();
		});
		document.addEventListener("visibilitychange", function () {
			if (!document.hidden && S.loaded)
				load();
		});
		load();
	}

	/* ---- the shared parts, for task.js ------------------------------------ */

	window.YardTasks = {
		actions: actions,
		stateNode: stateNode,
		uptime: uptime,
		fmtMem: fmtMem,
		isUp: isUp,
		menuButton: menuButton,
		syncButton: syncButton,
		watchLast: function (task) {
			var lc = task.last_command;

			if (lc && R.isRelease(lc.type) &&
			    FINAL.indexOf(lc.state) === -1 && !S.watching[lc.id])
				watch(task, lc.type, lc.id, lc);
		},
		busy: function (id) {
			return Boolean(S.busy[id]);
		},
		progress: function (id) {
			return S.progress[id] || null;
		},
		onChange: null		/* set by task.js: reload its task */
	};

	/* ---- permissions ----------------------------------------------------- */

	/* The server reports the caller's level on every task and node. */
	function canOperate(task) {
		return Y.may(task.level, "operate");
	}

	function canManage(task) {
		return Y.may(task.level, "manage");
	}

	/* ---- nodes for the create form --------------------------------------- */

	async function loadNodes() {
		var res, sel = $("task-node");

		try {
			res = await Y.api("GET", "/nodes" + Y.qs({ limit: 200 }));
		} catch (err) {
			return;
		}
		S.allNodes = res.items || [];
		S.nodes = S.allNodes.filter(function (n) {
			return n.status !== "revoked" && Y.may(n.level, "manage");
		});
		Y.clear(sel);
		S.nodes.forEach(function (n) {
			sel.appendChild(el("option", { value: String(n.id),
			    text: n.name + " (" + n.hostname + ")" }));
		});
		$("task-new").hidden = S.nodes.length === 0 || S.page !== null;
		showRoots();
	}

	/* ---- the node's policy: allowed deploy roots ------------------------- */

	function nodeById(id) {
		return S.allNodes.find(function (x) {
			return String(x.id) === String(id);
		}) || null;
	}

	/* [{path, user}] of a node's reported policy, or null (none). */
	function nodeRoots(id) {
		var n = nodeById(id);
		var p = n && n.facts && n.facts.policy;

		if (!p || !Array.isArray(p.roots))
			return null;
		return p.roots.map(function (r) {
			return typeof r === "string" ? { path: r } : r;
		}).filter(function (r) {
			return r && typeof r.path === "string";
		});
	}

	/* An absolute path's components, without empty and "." ones. */
	function components(path) {
		return path.split("/").filter(function (c) {
			return c !== "" && c !== ".";
		});
	}

	/* dir strictly under root, whole components (as the server checks). */
	function under(dir, root) {
		var d = components(dir), r = components(root), i;

		if (dir.charAt(0) !== "/" || root.charAt(0) !== "/" ||
		    d.indexOf("..") !== -1 || d.length <= r.length)
			return false;
		for (i = 0; i < r.length; i++) {
			if (d[i] !== r[i])
				return false;
		}
		return true;
	}

	/* Offer the chosen node's roots for the deploy directory. */
	function showRoots() {
		var roots = nodeRoots($("task-node").value);
		var list = Y.clear($("task-deploy-roots"));
		var hint = $("task-deploy-hint");

		if (roots === null) {
			hint.hidden = true;
			hint.textContent = "";
			delete hint.dataset.roots;
			return;
		}
		roots.forEach(function (r) {
			list.appendChild(el("option", { value: r.path.replace(/\/+$/,
			    "") + "/" }));
		});
		hint.dataset.roots = roots.map(function (r) {
			return r.path;
		}).join(" ");
		hint.textContent = roots.length === 0 ? t("tasks.roots.none") :
		    t("tasks.roots.hint", { roots: roots.map(function (r) {
			    return r.user ? t("tasks.roots.as", { path: r.path,
				user: r.user }) : r.path;
		    }).join(t("tasks.roots.sep")) });
		hint.hidden = false;
	}

	/* A message when dir lies outside the node's roots (the form's node
	 * unless nodeId); null when fine. */
	function rootsError(dir, nodeId) {
		var roots = nodeRoots(nodeId !== undefined ? nodeId :
		    $("task-node").value);

		/* A path that is not absolute is wrong for another reason,
		 * which the server's answer names. */
		if (typeof dir !== "string" || dir.charAt(0) !== "/")
			return null;
		if (roots === null || roots.some(function (r) {
			return under(dir, r.path);
		}))
			return null;
		return t("tasks.error.roots", { dir: dir,
		    roots: roots.map(function (r) {
			    return r.path;
		    }).join(t("tasks.roots.sep")) || t("common.none") });
	}

	/* ---- list ------------------------------------------------------------ */

	async function load() {
		var seq = ++S.seq, res;

		clearTimeout(S.timer);
		try {
			res = await Y.api("GET", "/tasks" + Y.qs({ q: S.q,
			    limit: 200 }));
		} catch (err) {
			if (seq !== S.seq)
				return;
			Y.banner($("banner"), "error", Y.errorText(err));
			if (!S.loaded)
				Y.setPageState("error");
			S.timer = setTimeout(load, REFRESH_MS * 2);
			return;
		}
		if (seq !== S.seq)
			return;
		if (S.loaded)
			Y.banner($("banner"), null);
		S.items = res.items || [];
		S.loaded = true;
		$("tasks-panel").hidden = false;
		S.items.forEach(window.YardTasks.watchLast);
		render();
		Y.setPageState("ready");
		S.timer = setTimeout(load, REFRESH_MS);
		loadAlerts();
	}

	/* Firing counts and mutes next to the names (YardAlerts). */
	async function loadAlerts() {
		var s = await A.summary();

		if (s === null || s === S.alerts)
			return;
		S.alerts = s;
		render();
	}

	function isUp(task) {
		return UP.indexOf(task.state) !== -1;
	}

	var TONE = {
		running: "success", stopping: "warning", starting: "info",
		unhealthy: "warning", failed: "danger", crash_loop: "danger",
		uninstalling: "warning"
	};

	/* The state as colour AND text, and a release command's progress. */
	function stateNode(task) {
		var pr = S.progress[task.id], bar = null;
		var box = el("span", { class: "state-text", dataset: {
		    state: task.state } },
		    el("span", { class: "state-dot", "aria-hidden": "true",
			dataset: { tone: TONE[task.state] || "neutral" } }),
		    el("span", { class: "badge" + (TONE[task.state] ?
			" badge--" + TONE[task.state] : ""),
			text: t("tasks.state." + task.state) }));

		if (pr && FINAL.indexOf(pr.state) === -1) {
			bar = Y.progressBar(pr.state === "running" ?
			    pr.progress : null);
			bar.dataset.commandId = pr.id;
			bar.dataset.type = pr.type;
			bar.title = t("tasks.action." + pr.type) + " — " +
			    t("tasks.cmdstate." + pr.state);
		}
		return el("span", {}, box, bar);
	}

	/* "3 d 4 h", "12 min", or "—" when not running. */
	function uptime(task, now) {
		var s;

		if (!isUp(task))
			return "—";
		if (typeof task.uptime_s === "number")
			s = task.uptime_s;
		else if (task.started_at)
			s = ((now || Date.now()) - Date.parse(task.started_at)) /
			    1000;
		else
			return "—";
		s = Math.max(0, Math.floor(s));
		if (s < 60)
			return t("tasks.uptime.s", { n: s });
		if (s < 3600)
			return t("tasks.uptime.m", { n: Math.floor(s / 60) });
		if (s < 86400)
			return t("tasks.uptime.h", { h: Math.floor(s / 3600),
			    m: Math.floor(s % 3600 / 60) });
		return t("tasks.uptime.d", { d: Math.floor(s / 86400),
		    h: Math.floor(s % 86400 / 3600) });
	}

	function fmtMem(b) {
		if (typeof b !== "number")
			return "—";
		return Y.bytes(b);
	}

	/* Set a node's text only when it changed (no needless mutations). */
	function setText(node, text) {
		if (node.textContent !== text)
			node.textContent = text;
	}

	function setData(node, key, value) {
		if (value === null || value === undefined) {
			if (key in node.dataset)
				delete node.dataset[key];
		} else if (node.dataset[key] !== String(value))
			node.dataset[key] = String(value);
	}

	function taskHref(id) {
		return location.pathname.replace(/\/tasks(\/[0-9]+)?\/?$/,
		    "/tasks") + "?task=" + id;
	}

	function openTask(id, tab) {
		Y.navigate("tasks", { task: id, tab: tab || "" });
	}

	/* A new row for task: its cells are patched by patchRow. */
	function newRow(task) {
		var r = { cells: {} }, link;

		link = el("a", { href: taskHref(task.id),
		    dataset: { action: "open" }, onclick: function (ev) {
			    if (ev.ctrlKey || ev.metaKey || ev.shiftKey ||
				ev.button !== 0)
				    return;
			    ev.preventDefault();
			    openTask(task.id);
		    } });
		r.link = link;
		r.cells.name = el("td", { dataset: { cell: "name" } }, link);
		r.marks = el("span");
		r.cells.name.appendChild(r.marks);
		r.cells.node = el("td");
		r.cells.state = el("td", { dataset: { cell: "state" } });
		r.cells.uptime = el("td", { class: "cell-num",
		    dataset: { cell: "uptime" } });
		r.cells.cpu = el("td", { class: "cell-num",
		    dataset: { cell: "cpu" } });
		r.cells.mem = el("td", { class: "cell-num",
		    dataset: { cell: "mem" } });
		r.cells.restarts = el("td", { class: "cell-num",
		    dataset: { cell: "restarts" } });
		r.primary = el("button", { type: "button",
		    class: "btn btn--small", hidden: true,
		    onclick: function () {
			    var a = r.primary.dataset.action;

			    if (r.primary.getAttribute("aria-disabled") === "true")
				    return;
			    runAction(r.task, a, r.primary);
		    } });
		r.viewOnly = el("span", { class: "badge",
		    dataset: { viewOnly: "" }, title: t("tasks.why.view"),
		    text: t("tasks.viewOnly") });
		r.menu = menuButton(function () {
			return actions(r.task).filter(function (a) {
				return a.id !== r.primary.dataset.action ||
				    r.primary.hidden;
			});
		}, t("tasks.more.label", { name: task.name }));
		r.menu.list.dataset.menuOf = String(task.id);
		r.cells.actions = el("td", { class: "cell-actions" },
		    r.actionsBox = el("div", { class: "row-actions" }, r.primary,
			r.menu.wrap));
		r.tr = el("tr", {}, r.cells.name, r.cells.node, r.cells.state,
		    r.cells.uptime, r.cells.cpu, r.cells.mem, r.cells.restarts,
		    r.cells.actions);
		r.extra = [];
		return r;
	}

	/* Bring row r up to date with task, in place. */
	function patchRow(r, task) {
		var m = task.metrics || {}, up = isUp(task), list, primary;
		var stateKey;

		r.task = task;
		setData(r.tr, "taskId", task.id);
		setData(r.tr, "taskName", task.name);
		setData(r.tr, "state", task.state);
		setData(r.tr, "level", task.level || "none");
		/* The task just created here stands out. */
		if (r.tr.classList.contains("is-highlight") !==
		    (task.id === S.newId))
			r.tr.classList.toggle("is-highlight");
		setText(r.link, task.name);
		/* Rebuilt only when the summary changed: a focused badge stays. */
		if (r.alerts !== S.alerts) {
			r.alerts = S.alerts;
			Y.clear(r.marks);
			if (S.alerts && A.marks("task", task.id, S.alerts))
				r.marks.appendChild(A.marks("task", task.id,
				    S.alerts));
		}
		setText(r.cells.node, task.node_name || "");
		stateKey = task.state + "|" + JSON.stringify(S.progress[task.id] ||
		    null);
		if (r.stateKey !== stateKey) {
			r.stateKey = stateKey;
			Y.clear(r.cells.state).appendChild(stateNode(task));
		}
		setText(r.cells.uptime, uptime(task));
		setText(r.cells.cpu, typeof m.cpu === "number" && up ?
		    m.cpu.toFixed(1) + "%" : "—");
		setText(r.cells.mem, up ? fmtMem(m.rss) : "—");
		setText(r.cells.restarts, String(task.restarts || 0));
		/* Why a viewer has no buttons (only then in the DOM). */
		if (Y.may(task.level, "operate"))
			r.viewOnly.remove();
		else if (!r.viewOnly.isConnected)
			r.actionsBox.insertBefore(r.viewOnly, r.primary);
		list = actions(task);
		primary = list.find(function (a) {
			return a.id === "stop";
		}) || list.find(function (a) {
			return a.id === "start";
		}) || null;
		syncButton(r.primary, primary, S.busy[task.id]);
		r.menu.refresh();
	}

	/*
	 * Show action a (or nothing) on a button that stays in the DOM, so
	 * that a focused Start that becomes Stop keeps the focus.  While a
	 * command runs the button is aria-disabled, not disabled: disabled
	 * buttons drop the focus.
	 */
	function syncButton(b, a, busy) {
		var cls;

		if (a === null) {
			if (document.activeElement === b)
				b.blur();
			b.hidden = true;
			return;
		}
		cls = "btn btn--small" + (a.primary ? " btn--primary" : "") +
		    (a.danger ? " btn--danger-text" : "");
		b.hidden = false;
		setData(b, "action", a.id);
		setText(b, a.label);
		if (b.className !== cls)
			b.className = cls;
		if (busy) {
			b.setAttribute("aria-disabled", "true");
			b.title = t("tasks.why.busy");
		} else {
			b.removeAttribute("aria-disabled");
			b.removeAttribute("title");
		}
	}

	function render() {
		var body = $("tasks-body"), seen = {}, prev = null;
		var empty = body.querySelector("tr.empty-row");

		if (S.items.length === 0) {
			if (empty === null)
				body.appendChild(el("tr", { class: "empty-row" },
				    el("td", { colspan: String(COLS),
					class: "empty", text: t("tasks.empty") })));
		} else if (empty !== null)
			empty.remove();
		S.items.forEach(function (task) {
			var r = S.rows[task.id], extra;

			seen[task.id] = true;
			if (!r)
				r = S.rows[task.id] = newRow(task);
			patchRow(r, task);
			extra = extraRows(task, r);
			/* Keep the order without moving rows that are in place
			 * (moving a node that holds the focus drops it). */
			[r.tr].concat(extra).forEach(function (tr) {
				var want = prev === null ? body.firstChild :
				    prev.nextSibling;

				if (want !== tr)
					body.insertBefore(tr, want);
				prev = tr;
			});
		});
		Object.keys(S.rows).forEach(function (id) {
			if (!seen[id]) {
				S.rows[id].tr.remove();
				S.rows[id].extra.forEach(function (x) {
					x.remove();
				});
				delete S.rows[id];
			}
		});
		setText($("tasks-count"), t("tasks.count",
		    { count: S.items.length }));
	}

	/*
	 * The detail rows under a task's row: why it is down (the end of its
	 * log, as the agent saw it), why its latest command failed.  Rebuilt
	 * only when their content changes.
	 */
	function extraRows(task, r) {
		var lc = task.last_command, want = [], key;

		if ((task.state === "exited" || task.state === "failed" ||
		    task.state === "crash_loop") && task.last_lines)
			want.push("lines:" + task.last_lines);
		if (lc && (lc.state === "failed" || lc.state === "timed_out") &&
		    !S.busy[task.id])
			want.push("cmd:" + lc.id + ":" + lc.state);
		key = want.join("\n");
		if (key === r.extraKey)
			return r.extra;
		r.extraKey = key;
		r.extra.forEach(function (x) {
			x.remove();
		});
		r.extra = [];
		if (want.some(function (w) {
			return w.indexOf("lines:") === 0;
		}))
			r.extra.push(el("tr", { class: "row-detail",
			    dataset: { lastLinesOf: String(task.id) } },
			    el("td", { colspan: String(COLS) },
				el("div", { class: "muted",
				    text: t("tasks.lastLines") }),
				el("pre", { class: "command",
				    text: task.last_lines }))));
		if (want.some(function (w) {
			return w.indexOf("cmd:") === 0;
		}))
			r.extra.push(lastCommandRow(task, lc));
		return r.extra;
	}

	/*
	 * Whether the agent refused by its policy: a policy_* reason code
	 * (docs/agent-protocol.md, "Reason codes"; a start failed on one
	 * inside a release command names it as its cause), else, from an
	 * older agent, its words "...: policy: <rule>".
	 */
	function isPolicy(lc) {
		var p = lc.params || {};

		if (typeof p.reason_code === "string")
			return /^policy_/.test(p.reason_code) ||
			    /^policy_/.test(p.reason_cause || "");
		return /(^|: )policy: /.test(lc.output || "");
	}

	function lastCommandRow(task, lc) {
		var policy = isPolicy(lc);

		return el("tr", { class: "row-detail", dataset: {
		    lastCommandOf: String(task.id), commandState: lc.state,
		    policy: policy ? "1" : "0" } },
		    el("td", { colspan: String(COLS) },
			el("div", { class: "muted", title: Y.formatTimeFull(
			    lc.finished_at || lc.issued_at) || null,
			    text: t(policy ? "tasks.lastCommand.policy" :
				"tasks.lastCommand.failed", {
				    action: t("tasks.action." + lc.type),
				    state: t("tasks.cmdstate." + lc.state),
				    time: Y.formatTime(lc.finished_at ||
					lc.issued_at) }) }),
			el("pre", { class: "command", text: (lc.code ?
			    Y.commandText(lc) : (lc.output || t("common.none")) +
			    (lc.output_truncated ? "\n…" : "")) || t("common.none") })));
	}

	/* ---- what a user may do with a task ----------------------------------- */

	/*
	 * The actions the caller may take on task in its state, in menu
	 * order: [{id, label, danger, sep, run(anchor)}].  Those the level
	 * does not allow, or that make no sense now, are left out.
	 */
	function actions(task) {
		var op = Y.may(task.level, "operate");
		var man = Y.may(task.level, "manage");
		var up = isUp(task), out = [];
		var canStart = ["new", "stopped", "exited", "failed",
		    "crash_loop"].indexOf(task.state) !== -1;
		var canStop = up || task.state === "crash_loop";
		var onPage = S.page === task.id;

		function add(id, o) {
			out.push(Object.assign({ id: id,
			    label: t("tasks.action." + id) }, o));
		}
		if (op && canStop)
			add("stop", { danger: true, run: function (b) {
				act(task, "stop", b);
			} });
		if (op && canStart)
			add("start", { primary: true, run: function (b) {
				act(task, "start", b);
			} });
		if (op && up)
			add("restart", { run: function (b) {
				act(task, "restart", b);
			} });
		if (!onPage) {
			if (op)
				add("logs", { sep: true, run: function () {
					Y.navigate("logs", { task: task.id });
				} });
			add("metrics", { sep: !op, run: function () {
				Y.navigate("metrics", { node: task.node_id,
				    task: task.id });
			} });
			add("history", { run: function () {
				Y.navigate("commands", { task: task.id });
			} });
			add("releases", { run: function () {
				openTask(task.id, "releases");
			} });
			add("config", { run: function () {
				openTask(task.id, "config");
			} });
		}
		if (man) {
			add("deploy", { sep: true,
			    label: t("tasks.action.deployUpdate"),
			    run: function (b) {
				    R.openDeploy(task, null, b);
			    } });
			add("move", { run: function (b) {
				R.openMove(task, b);
			} });
			add("edit", { run: function (b) {
				startEdit(task.id, b);
			} });
			add("mute", { label: t("alerts.mute.action"),
			    run: function (b) {
				    A.muteDialog("task", { id: task.id,
					name: task.name }, b, function () {
					    A.summary(true).then(loadAlerts);
				    });
			    } });
			add("uninstall", { danger: true, sep: true,
			    run: function (b) {
				    act(task, "uninstall", b);
			    } });
		}
		return out;
	}

	function runAction(task, id, anchor) {
		var a = actions(task).find(function (x) {
			return x.id === id;
		});

		if (a)
			a.run(anchor);
	}

	/*
	 * A menu button (WAI-ARIA menu button): Enter, Space or ArrowDown
	 * opens it on its first item, ArrowUp on its last; arrows, Home and
	 * End move; Escape or Tab closes it, Escape back on the button.
	 * items() gives the actions when it opens, so a refresh of the list
	 * never changes an open menu under the user.
	 */
	function menuButton(items, label) {
		var m = {}, id = "menu-" + Math.random().toString(36).slice(2);

		m.button = el("button", { type: "button",
		    class: "btn btn--small", id: id + "-button",
		    "aria-haspopup": "menu", "aria-expanded": "false",
		    "aria-controls": id, "aria-label": label,
		    dataset: { action: "more" }, text: t("tasks.more") + " ▾" });
		m.list = el("ul", { id: id, class: "menu", role: "menu",
		    "aria-labelledby": id + "-button", hidden: true });
		m.wrap = el("span", { class: "menu-wrap" }, m.button, m.list);

		function itemsNow() {
			return Array.prototype.slice.call(
			    m.list.querySelectorAll("[role=menuitem]"));
		}

		function build() {
			var acts = items();

			Y.clear(m.list);
			acts.forEach(function (a, i) {
				if (a.sep && i > 0)
					m.list.appendChild(el("li", {
					    class: "menu__sep", role: "separator" }));
				m.list.appendChild(el("li", { role: "none" },
				    el("button", { type: "button",
					class: "menu__item" + (a.danger ?
					    " menu__item--danger" : ""),
					role: "menuitem", tabindex: "-1",
					dataset: { action: a.id }, text: a.label,
					onclick: function () {
						close(false);
						m.button.focus();
						a.run(m.button);
					} })));
			});
			return acts.length;
		}

		function open(last) {
			var list;

			if (build() === 0)
				return;
			m.list.hidden = false;
			m.button.setAttribute("aria-expanded", "true");
			list = itemsNow();
			list[last ? list.length - 1 : 0].focus();
		}

		function close(refocus) {
			if (m.list.hidden)
				return;
			m.list.hidden = true;
			m.button.setAttribute("aria-expanded", "false");
			if (refocus)
				m.button.focus();
		}

		m.button.addEventListener("click", function () {
			if (m.list.hidden)
				open(false);
			else
				close(true);
		});
		m.button.addEventListener("keydown", function (ev) {
			if (ev.key === "ArrowDown" || ev.key === "ArrowUp") {
				ev.preventDefault();
				open(ev.key === "ArrowUp");
			}
		});
		m.list.addEventListener("keydown", function (ev) {
			var list = itemsNow(), i = list.indexOf(
			    document.activeElement), n = list.length;

			switch (ev.key) {
			case "ArrowDown":
				list[(i + 1) % n].focus();
				break;
			case "ArrowUp":
				list[(i - 1 + n) % n].focus();
				break;
			case "Home":
				list[0].focus();
				break;
			case "End":
				list[n - 1].focus();
				break;
			case "Escape":
				close(true);
				break;
			case "Tab":
				close(false);
				return;
			default:
				if (ev.key.length === 1 && /\S/.test(ev.key)) {
					var j, k = ev.key.toLowerCase();

					for (j = 1; j <= n; j++) {
						if (list[(i + j) % n].textContent
						    .toLowerCase().indexOf(k) === 0) {
							list[(i + j) % n].focus();
							break;
						}
					}
					break;
				}
				return;
			}
			ev.preventDefault();
			ev.stopPropagation();
		});
		m.wrap.addEventListener("focusout", function (ev) {
			if (ev.relatedTarget && !m.wrap.contains(ev.relatedTarget))
				close(false);
		});
		document.addEventListener("pointerdown", function (ev) {
			if (!m.wrap.contains(ev.target))
				close(false);
		});
		/* Nothing in the menu: no menu button at all. */
		m.refresh = function () {
			var none = items().length === 0;

			if (none && document.activeElement === m.button)
				m.button.blur();
			m.wrap.hidden = none;
			if (none)
				close(false);
		};
		return m;
	}

	/* ---- commands -------------------------------------------------------- */

	/*
	 * Yard.confirm for a disruptive action, the safe choice (Cancel)
	 * focused first; the focus goes back where it was afterwards.
	 */
	async function confirmSafe(opts) {
		var from = document.activeElement, p, cancel, ok;

		p = Y.confirm(opts);
		cancel = document.querySelector(
		    '#yard-confirm [data-action="cancel"]');
		if (cancel !== null)
			cancel.focus();
		ok = await p;
		if (from && from.isConnected && typeof from.focus === "function")
			from.focus();
		return ok;
	}

	async function act(task, action, button) {
		var c, d;

		if (action !== "start") {
			var ok = await confirmSafe({
				title: t("tasks.confirm." + action + ".title",
				    { name: task.name }),
				text: t("tasks.confirm." + action + ".text"),
				ok: t("tasks.action." + action),
				danger: true,
				anchor: button
			});
			if (!ok)
				return;
		}
		try {
			c = await Y.api("POST", "/commands", { type: action,
			    task_id: task.id });
		} catch (err) {
			Y.banner($("banner"), "error", Y.errorText(err));
			return;
		}
		S.busy[task.id] = c.id;
		changed();
		status(task, action, "queued", "");
		for (;;) {
			await sleep(COMMAND_POLL_MS);
			try {
				d = await Y.api("GET", "/commands/" + c.id);
			} catch (err) {
				if (err.status === 404)
					break;
				continue;
			}
			status(task, action, d.state, Y.commandText(d));
			if (FINAL.indexOf(d.state) !== -1)
				break;
		}
		delete S.busy[task.id];
		if (action === "uninstall" && S.page === task.id && d &&
		    d.state === "succeeded") {
			Y.navigate("tasks", {});
			return;
		}
		changed();
	}

	/* Something changed: the list, or the task's own page, again. */
	function changed() {
		if (S.page !== null) {
			if (window.YardTasks.onChange)
				window.YardTasks.onChange();
		} else
			load();
	}

	function status(task, action, state, output) {
		var box = $("task-last");

		box.dataset.state = state;
		box.textContent = t("tasks.last", { name: task.name,
		    action: t("tasks.action." + action),
		    state: t("tasks.cmdstate." + state) }) +
		    (output ? " — " + output : "");
	}

	/* ---- releases: deploy, update, rollback, move (releases.js) ---------- */

	/* A release command was issued here: follow it. */
	function issued(task, type, c) {
		if (S.page !== null && window.YardTasks.onIssued)
			window.YardTasks.onIssued();
		watch(task, type, c.id, c);
	}

	function sleep(ms) {
		return new Promise(function (r) {
			setTimeout(r, ms);
		});
	}

	/*
	 * Poll a deploy, update, rollback or move until it ends: its step
	 * and percent in the task's state, its outcome in #task-last, then
	 * the releases and the list (or the task's page) again.
	 */
	async function watch(task, type, id, first) {
		var d = first || { state: "queued" }, gone = 0;

		if (S.watching[id])
			return;
		S.watching[id] = true;
		S.busy[task.id] = id;
		S.progress[task.id] = { id: id, type: type, state: d.state,
		    progress: d.progress || null };
		repaint();
		status(task, type, d.state, "");
		while (FINAL.indexOf(d.state) === -1) {
			await sleep(COMMAND_POLL_MS);
			try {
				d = await Y.api("GET", "/commands/" + id);
			} catch (err) {
				/* Gone (an uninstalled task's) or not ours. */
				if (err.status === 404 && ++gone >= 3)
					break;
				continue;
			}
			S.progress[task.id] = { id: id, type: type,
			    state: d.state, progress: d.progress || null };
			repaint();
			status(task, type, d.state, FINAL.indexOf(d.state) !== -1 ?
			    Y.commandText(d) : "");
		}
		delete S.watching[id];
		if (S.busy[task.id] === id)
			delete S.busy[task.id];
		if (S.progress[task.id] && S.progress[task.id].id === id)
			delete S.progress[task.id];
		R.refresh(task.id);
		changed();
	}

	/* The state cells again, from what is known (no request). */
	function repaint() {
		if (S.page !== null) {
			if (window.YardTasks.onPaint)
				window.YardTasks.onPaint();
		} else
			render();
	}

	/* ---- create ---------------------------------------------------------- */

	function showKind() {
		var kind = $("task-kind").value;

		document.querySelectorAll("#task-create [data-kind]").forEach(
		    function (f) {
			f.hidden = f.dataset.kind.split(" ").indexOf(kind) === -1;
		});
	}

	function lines(v) {
		return v.split("\n").map(function (s) {
			return s.replace(/\r$/, "");
		}).filter(function (s) {
			return s !== "";
		});
	}

	/* A number field's value, or undefined when empty. */
	function num(input) {
		return input.value === "" ? undefined : Number(input.value);
	}

	/*
	 * The spec from the form.  Editing starts from the task's own spec,
	 * so settings the form does not show (back-off, expect_status...)
	 * are kept.
	 */
	function buildSpec(f) {
		var kind = f.kind.value;
		var base = S.editing ? JSON.parse(JSON.stringify(S.editing.spec)) :
		    {};
		var spec = Object.assign(base, { kind: kind,
		    deploy_dir: f.deploy_dir.value.trim(), env: {} });
		var port = num(f.port);
		var bad = null, k;

		spec.restart = Object.assign(spec.restart || {},
		    { policy: f.restart.value });
		spec.log_files = lines(f.log_files.value);
		spec.preserved_paths = lines(f.preserved_paths.value);
		spec.shared_paths = lines(f.shared_paths.value);
		spec.keep_releases = num(f.keep_releases);
		if (f.health_path.value.trim() !== "") {
			spec.health = Object.assign(spec.health || {},
			    { path: f.health_path.value.trim() });
			spec.health.port = num(f.health_port);
			spec.health.interval = num(f.health_interval);
		} else
			delete spec.health;

		if (f.stop_grace.value !== "")
			spec.stop_grace = Number(f.stop_grace.value);
		lines(f.env.value).forEach(function (l) {
			var i = l.indexOf("=");

			if (i < 1)
				bad = l;
			else
				spec.env[l.slice(0, i)] = l.slice(i + 1);
		});
		if (bad !== null)
			return { error: "spec.env", text: t("tasks.error.env",
			    { line: bad }) };
		k = spec[kind] || {};
		if (kind === "console")
			Object.assign(k, { command: f.command.value.trim(),
			    args: lines(f.args.value) });
		else if (kind === "jar")
			Object.assign(k, { jar: f.jar.value.trim(), port: port,
			    jvm_options: lines(f.jvm_options.value),
			    args: lines(f.jar_args.value) });
		else {
			Object.assign(k, { home: f.home.value.trim(), port: port,
			    base: f.base.value.trim() || undefined,
			    app_path: f.app_path.value.trim() || undefined });
		}
		spec[kind] = k;
		/* JSON drops the undefined members: the server's defaults. */
		return { spec: JSON.parse(JSON.stringify(spec)) };
	}

	function showError(box, text) {
		var input;

		box.textContent = text || "";
		box.hidden = !text;
		input = document.querySelector('[aria-describedby="' + box.id +
		    '"]');
		if (input !== null) {
			if (text)
				input.setAttribute("aria-invalid", "true");
			else
				input.removeAttribute("aria-invalid");
		}
	}

	/* spec.console.args[3] -> the args box; ports of either kind -> port. */
	function errorBox(field) {
		var f = (field || "").replace(/\[\d+\]$/, "")
		    .replace(/^spec\.(jar|tomcat)\.port$/, "spec.port")
		    .replace(/^spec\.env\..*$/, "spec.env");
		var box = $("task-create").querySelector('[data-field-error="' +
		    f + '"]');

		if (box === null && /^spec\./.test(f))
			box = $("task-create").querySelector(
			    '[data-field-error="spec"]');
		return box;
	}

	/* ---- the drawer ------------------------------------------------------ */

	/*
	 * The create / edit form in a side panel: a modal <dialog> (the page
	 * behind is inert, so Tab stays inside), Escape or Cancel closes it
	 * and the focus goes back to the control that opened it.
	 */
	function initDrawer() {
		var dlg = $("task-drawer");

		$("task-new").addEventListener("click", function (ev) {
			if (S.editing)
				endEdit();
			openDrawer(ev.currentTarget);
		});
		$("task-kind").addEventListener("change", showKind);
		$("task-node").addEventListener("change", showRoots);
		$("task-create").addEventListener("submit", onCreate);
		$("task-cancel-edit").addEventListener("click", closeDrawer);
		dlg.querySelector('[data-action="drawer-close"]')
		    .addEventListener("click", closeDrawer);
		dlg.addEventListener("cancel", function (ev) {
			ev.preventDefault();
			closeDrawer();
		});
		/* Tab wraps inside: framed, it would otherwise leave the frame. */
		dlg.addEventListener("keydown", function (ev) {
			var list, first, last;

			if (ev.key !== "Tab")
				return;
			list = Array.prototype.filter.call(dlg.querySelectorAll(
			    "button, input, select, textarea, a[href]"),
			    function (x) {
				    return !x.disabled && x.offsetParent !== null &&
					x.tabIndex >= 0;
			    });
			if (list.length === 0)
				return;
			first = list[0];
			last = list[list.length - 1];
			if (ev.shiftKey && document.activeElement === first) {
				ev.preventDefault();
				last.focus();
			} else if (!ev.shiftKey && document.activeElement === last) {
				ev.preventDefault();
				first.focus();
			}
		});
		/* A new task's draft came back (a reload, a sign-in): open the
		 * drawer it was typed in. */
		$("task-create").addEventListener("yard:draft-restored",
		    function () {
			if (!S.editing && !dlg.open)
				openDrawer($("task-new"));
		});
		$("task-create").addEventListener("input", function (ev) {
			var box = ev.target.getAttribute("aria-describedby");
			if (box && $(box))
				showError($(box), null);
		});
		showKind();
	}

	function openDrawer(from) {
		var dlg = $("task-drawer"), first;

		S.drawerFrom = from || document.activeElement;
		if (!dlg.open) {
			dlg.showModal();
			document.body.classList.add("yard-modal-open");
		}
		first = Array.prototype.find.call(
		    $("task-create").querySelectorAll("input, select, textarea"),
		    function (x) {
			    return !x.disabled && x.offsetParent !== null;
		    });
		if (first)
			first.focus();
	}

	function closeDrawer() {
		var dlg = $("task-drawer"), from = S.drawerFrom;

		if (dlg.open)
			dlg.close();
		document.body.classList.remove("yard-modal-open");
		if (S.editing)
			endEdit();
		S.drawerFrom = null;
		if (from && from.isConnected && !from.hidden)
			from.focus();
		else if (!$("task-new").hidden)
			$("task-new").focus();
	}

	/* ---- edit ------------------------------------------------------------ */

	async function startEdit(id, from) {
		var task, f = $("task-create").elements, sp, k, h;

		try {
			task = await Y.api("GET", "/tasks/" + id);
		} catch (err) {
			Y.banner($("banner"), "error", Y.errorText(err));
			return;
		}
		sp = task.spec || {};
		k = sp[task.kind] || {};
		h = sp.health || {};
		S.editing = { id: task.id, spec: sp };
		/* Typed edits are kept per task (bridge.js drafts). */
		$("task-create").dataset.yardDraftScope = String(task.id);
		clearErrors();
		if (!Array.prototype.some.call(f.node_id.options, function (o) {
			return o.value === String(task.node_id);
		}))
			f.node_id.appendChild(el("option", { value:
			    String(task.node_id), text: task.node_name }));
		f.node_id.value = String(task.node_id);
		f.node_id.disabled = true;
		showRoots();
		f.name.value = task.name;
		f.kind.value = task.kind;
		f.kind.disabled = true;
		showKind();
		f.deploy_dir.value = sp.deploy_dir || "";
		f.command.value = k.command || "";
		f.args.value = (task.kind === "console" ? k.args || [] : [])
		    .join("\n");
		f.jar.value = k.jar || "";
		f.jvm_options.value = (k.jvm_options || []).join("\n");
		f.jar_args.value = (task.kind === "jar" ? k.args || [] : [])
		    .join("\n");
		f.home.value = k.home || "";
		f.base.value = k.base || "";
		f.app_path.value = k.app_path || "";
		f.port.value = k.port || "";
		f.env.value = Object.keys(sp.env || {}).map(function (n) {
			return n + "=" + sp.env[n];
		}).join("\n");
		f.stop_grace.value = sp.stop_grace;
		f.restart.value = (sp.restart || {}).policy || "on-failure";
		f.health_path.value = h.path || "";
		f.health_port.value = h.port || "";
		f.health_interval.value = h.interval || "";
		f.log_files.value = (sp.log_files || []).join("\n");
		f.preserved_paths.value = (sp.preserved_paths || []).join("\n");
		f.shared_paths.value = (sp.shared_paths || []).join("\n");
		f.keep_releases.value = sp.keep_releases || "";
		$("task-create").dataset.mode = "edit";
		$("form-title").textContent = t("tasks.edit.title",
		    { name: task.name });
		$("task-submit").textContent = t("tasks.edit.submit");
		openDrawer(from);
	}

	function endEdit() {
		var f = $("task-create").elements;

		S.editing = null;
		delete $("task-create").dataset.yardDraftScope;
		f.node_id.disabled = false;
		f.kind.disabled = false;
		$("task-create").dataset.mode = "create";
		$("form-title").textContent = t("tasks.create.title");
		$("task-submit").textContent = t("tasks.create.submit");
		/* A node the caller does not manage was only there to edit. */
		Array.prototype.slice.call(f.node_id.options).forEach(function (o) {
			if (!S.nodes.some(function (n) {
				return String(n.id) === o.value;
			}))
				o.remove();
		});
		showRoots();
		f.name.value = "";
		clearErrors();
	}

	function clearErrors() {
		Y.clearFieldErrors($("task-create"));
		$("task-create").querySelectorAll("[data-field-error]").forEach(
		    function (x) {
			showError(x, null);
		});
	}

	async function onCreate(ev) {
		var form = ev.target, f = form.elements, b, task, box, editing;

		ev.preventDefault();
		clearErrors();
		b = buildSpec(f);
		if (!b.error && rootsError(b.spec.deploy_dir) !== null)
			b = { error: "spec.deploy_dir",
			    text: rootsError(b.spec.deploy_dir) };
		if (b.error) {
			showError(errorBox(b.error), b.text);
			focusError();
			return;
		}
		editing = S.editing;
		try {
			if (editing)
				task = await Y.api("PUT", "/tasks/" + editing.id,
				    { name: f.name.value.trim(), spec: b.spec });
			else
				task = await Y.api("POST", "/tasks", {
					node_id: Number(f.node_id.value),
					name: f.name.value.trim(),
					spec: b.spec
				});
		} catch (err) {
			/* Every field error beside its field, translated; the
			 * first bad field focused, a summary announced. */
			Y.showFieldErrors(form, err);
			return;
		}
		closeDrawer();
		Y.banner($("banner"), "success", t(editing ? "tasks.edit.saved" :
		    "tasks.create.saved", { name: task.name }));
		if (!editing) {
			S.newId = task.id;
			form.reset();
			showKind();
			showRoots();
		}
		changed();
	}

	/* The first field with an error gets the focus. */
	function focusError() {
		var input = $("task-create").querySelector("[aria-invalid=true]");

		if (input !== null)
			input.focus();
	}
})();
