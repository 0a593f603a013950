/*
 * Yard "tasks" module page: the tasks the user may view, their state,
 * pid, CPU and memory (refreshed every 2 s), start / stop / restart with
 * confirmation for the disruptive ones, the command's outcome, and a
 * create form per kind with the server's field errors shown inline; Edit
 * loads a task's settings into the same form (node and kind fixed) and
 * saves them with PUT, keeping settings the form does not show.
 * Actions follow the caller's level on each task, as the server reports
 * it (task.level): start, stop, restart and Logs need operate; Edit and
 * Uninstall need manage; creating needs manage on a node (the picker
 * offers only those).  Actions a level does not allow are not shown; the
 * server checks every call regardless.  A task whose latest command failed
 * shows that command's output under its row (a start the node's policy
 * refused says why); the deploy directory field offers the roots the
 * chosen node's policy allows and refuses others before sending.
 * Releases (releases.js) opens a task's releases under its row (everyone
 * who may view it); Deploy / Update and Move (manage) open their dialogs;
 * a running deploy, update, rollback or move shows its step and percent
 * in the row's state cell, polled while it runs.  ?deploy=PACKAGE&task=ID
 * (the Packages page's Attach) opens the deploy dialog with that package.
 * Configuration (config.js) opens a task's configuration under the list
 * (everyone who may view it; editing needs manage); ?config=ID opens it.
 *
 * Test hooks: <tr data-task-id data-task-name data-state data-level>,
 * buttons data-action="start" | "stop" | "restart" | "uninstall" |
 * "edit" | "logs" | "metrics" | "history" | "releases" | "deploy" |
 * "move" | "config", span[data-view-only], td[data-cell=state] > .progress[data-step]
 * [data-percent][data-command-id], tr[data-releases-of],
 * tr[data-last-lines-of], tr[data-last-command-of][data-policy],
 * form#task-create (data-mode=create|edit), #task-cancel-edit,
 * #task-deploy-roots (datalist), #task-deploy-hint[data-roots],
 * #task-last, #banner, body[data-yard-page=loading|ready|error].
 */
(function () {
	"use strict";

	var Y = window.Yard;
	var R = window.YardReleases;
	var CF = window.YardConfig;
	var A = window.YardAlerts;
	var t = Y.t;
	var el = Y.el;
	var REFRESH_MS = 2000;
	var COMMAND_POLL_MS = 400;
	var FINAL = ["succeeded", "failed", "timed_out", "cancelled"];

	var S = {
		q: "",
		items: [],
		nodes: [],		/* nodes the caller manages */
		allNodes: [],		/* every visible node, for its roots */
		busy: {},		/* task id -> command id in progress */
		progress: {},		/* task id -> {id, type, state, progress} */
		watching: {},		/* command ids being polled */
		releases: {},		/* task ids whose releases are open */
		deployLink: null,	/* {pkg, task} of ?deploy=&task= */
		configLink: null,	/* task id of ?config=ID */
		seq: 0,
		loaded: false,
		focus: null,		/* ?task=ID */
		timer: null,
		editing: null,		/* {id, spec} while the form edits */
		alerts: null		/* GET /alerts/summary (YardAlerts) */
	};

	function $(id) {
		return document.getElementById(id);
	}

	Y.onReady(init);

	function init() {
		var p = new URLSearchParams(location.search);

		if (/^[0-9]{1,18}$/.test(p.get("task") || ""))
			S.focus = Number(p.get("task"));
		if (/^[0-9]{1,18}$/.test(p.get("config") || ""))
			S.configLink = Number(p.get("config"));
		if (S.focus !== null && /^[0-9]{1,18}$/.test(p.get("deploy") || ""))
			S.deployLink = { pkg: Number(p.get("deploy")),
			    task: S.focus };
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
		CF.init({ closed: function () {
			setQuery("config", null);
			render();
		} });
		$("task-search").addEventListener("input", function (ev) {
			S.q = ev.target.value.trim();
			load();
		});
		$("task-kind").addEventListener("change", showKind);
		$("task-node").addEventListener("change", showRoots);
		$("task-create").addEventListener("submit", onCreate);
		$("task-cancel-edit").addEventListener("click", endEdit);
		$("task-create").addEventListener("input", function (ev) {
			var box = ev.target.getAttribute("aria-describedby");
			if (box && $(box))
				showError($(box), null);
		});
		showKind();
		loadNodes();
		load();
	}

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
		if (!S.editing)
			$("create-panel").hidden = S.nodes.length === 0;
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
		Y.banner($("banner"), null);
		S.items = res.items || [];
		S.loaded = true;
		$("tasks-panel").hidden = false;
		followReleases();
		S.items.forEach(CF.update);
		render();
		Y.setPageState("ready");
		S.timer = setTimeout(load, REFRESH_MS);
		loadAlerts();
		deepLink();
		configLink();
	}

	/* Firing counts and mutes next to the names (YardAlerts). */
	async function loadAlerts() {
		var s = await A.summary();

		if (s === null || s === S.alerts)
			return;
		S.alerts = s;
		render();
	}

	/* ?config=ID (kept in the URL while open): the Configuration view. */
	function configLink() {
		var id = S.configLink, task;

		if (id === null)
			return;
		S.configLink = null;
		task = S.items.find(function (x) {
			return x.id === id;
		});
		if (task)
			openConfig(task, null);
	}

	function setQuery(name, value) {
		var p = new URLSearchParams(location.search);

		if (value === null)
			p.delete(name);
		else
			p.set(name, value);
		history.replaceState(history.state, "", location.pathname +
		    (p.toString() ? "?" + p.toString() : ""));
	}

	async function openConfig(task, anchor) {
		await CF.open(task, anchor);
		if (CF.isOpen(task.id))
			setQuery("config", String(task.id));
		render();
	}

	/* Configuration: everyone who may view the task (editing: manage). */
	function configButton(task) {
		var open = CF.isOpen(task.id);

		return el("button", { type: "button",
		    class: "btn btn--small btn--link",
		    dataset: { action: "config" },
		    "aria-expanded": open ? "true" : "false",
		    text: t("tasks.action.config"),
		    onclick: function (ev) {
			    if (CF.isOpen(task.id))
				    $("config-panel").scrollIntoView({
					block: "start" });
			    else
				    openConfig(task, ev.target);
		    } });
	}

	/*
	 * A deploy, update, rollback or move in flight (issued here or
	 * elsewhere) is followed until it ends: its progress on the row.
	 */
	function followReleases() {
		S.items.forEach(function (task) {
			var lc = task.last_command;

			if (lc && R.isRelease(lc.type) &&
			    FINAL.indexOf(lc.state) === -1 && !S.watching[lc.id])
				watch(task, lc.type, lc.id, lc);
		});
	}

	/* ?deploy=PACKAGE&task=ID: the deploy dialog, once the list is in. */
	function deepLink() {
		var link = S.deployLink, task, p, row;

		if (link === null)
			return;
		S.deployLink = null;
		p = new URLSearchParams(location.search);
		p.delete("deploy");
		history.replaceState(history.state, "", location.pathname +
		    (p.toString() ? "?" + p.toString() : ""));
		task = S.items.find(function (x) {
			return x.id === link.task;
		});
		if (!task || !canManage(task)) {
			Y.banner($("banner"), "error", t("tasks.rel.deploy.linkNoTask"));
			return;
		}
		row = $("tasks-body").querySelector('tr[data-task-id="' +
		    task.id + '"]');
		R.openDeploy(task, link.pkg, row);
	}

	function stateBadge(state) {
		var kind = {
			running: "success", stopping: "warning",
			starting: "info", unhealthy: "warning",
			failed: "danger", crash_loop: "danger"
		}[state] || "";

		return el("span", { class: "badge" + (kind ? " badge--" + kind :
		    ""), text: t("tasks.state." + state) });
	}

	/* The state, and a release command's progress under it. */
	function stateCell(task) {
		var pr = S.progress[task.id], bar = null;

		if (pr && FINAL.indexOf(pr.state) === -1) {
			bar = Y.progressBar(pr.state === "running" ?
			    pr.progress : null);
			bar.dataset.commandId = pr.id;
			bar.dataset.type = pr.type;
			bar.title = t("tasks.action." + pr.type) + " — " +
			    t("tasks.cmdstate." + pr.state);
		}
		return el("td", { dataset: { cell: "state" } },
		    stateBadge(task.state), bar);
	}

	/* Patch a row's state cell in place (between list refreshes). */
	function patchState(id) {
		var task = S.items.find(function (x) {
			return x.id === id;
		});
		var cell = $("tasks-body").querySelector('tr[data-task-id="' + id +
		    '"] td[data-cell="state"]');

		if (task && cell)
			cell.replaceWith(stateCell(task));
	}

	function fmtMem(b) {
		if (typeof b !== "number")
			return "—";
		return Y.bytes(b);
	}

	/* A command button, or null when the caller's level does not allow
	 * it (start, stop, restart: operate; uninstall: manage). */
	function actionButton(task, action) {
		var running = task.state === "running" ||
		    task.state === "unhealthy" || task.state === "starting";
		var why = null;
		var b;

		if (action === "uninstall" ? !canManage(task) : !canOperate(task))
			return null;
		if (S.busy[task.id])
			why = t("tasks.why.busy");
		else if (action === "start" && (running ||
		    task.state === "stopping"))
			why = t("tasks.why.running");
		else if (action === "stop" && !running)
			why = t("tasks.why.stopped");
		b = el("button", { type: "button", class: "btn btn--small" +
		    (action === "stop" || action === "uninstall" ?
		    " btn--danger-text" : ""),
		    dataset: { action: action }, text: t("tasks.action." +
		    action) });
		if (why !== null) {
			b.disabled = true;
			b.title = why;
		}
		b.addEventListener("click", function () {
			act(task, action, b);
		});
		return b;
	}

	/* What a viewer sees instead of the buttons they may not use. */
	function viewOnly(task) {
		if (canOperate(task))
			return null;
		return el("span", { class: "badge", dataset: { viewOnly: "" },
		    title: t("tasks.why.view"), text: t("tasks.viewOnly") });
	}

	/*
	 * A button opening another module about this task (through EWS):
	 * its commands, logs or metrics.
	 */
	function navButton(action, module, query) {
		return el("button", { type: "button",
		    class: "btn btn--small btn--link",
		    dataset: { action: action },
		    text: t("tasks.action." + action),
		    onclick: function () {
			    Y.navigate(module, query);
		    } });
	}

	function render() {
		var body = $("tasks-body");

		Y.clear(body);
		if (S.items.length === 0) {
			body.appendChild(el("tr", { class: "empty-row" },
			    el("td", { colspan: "9", class: "empty",
				text: t("tasks.empty") })));
		}
		S.items.forEach(function (task) {
			var m = task.metrics || {};
			var lc = task.last_command;
			var up = task.state === "running" ||
			    task.state === "starting" ||
			    task.state === "unhealthy";
			var tr = el("tr", { dataset: { taskId: String(task.id),
			    taskName: task.name, state: task.state,
			    level: task.level || "none" } },
			    el("td", { dataset: { cell: "name" } }, task.name,
				A.marks("task", task.id, S.alerts)),
			    el("td", { text: task.node_name }),
			    el("td", { text: t("tasks.kind." + task.kind) }),
			    stateCell(task),
			    el("td", { class: "cell-num", text: task.pid ?
				String(task.pid) : "—" }),
			    el("td", { class: "cell-num", text: typeof m.cpu ===
				"number" && up ? m.cpu.toFixed(1) + "%" : "—" }),
			    el("td", { class: "cell-num", text: up ?
				fmtMem(m.rss) : "—" }),
			    el("td", { class: "cell-num", text: String(task.restarts ||
				0) }),
			    el("td", { class: "cell-actions" },
				el("div", { class: "row-actions" },
				    viewOnly(task),
				    actionButton(task, "start"),
				    actionButton(task, "restart"),
				    actionButton(task, "stop"),
				    actionButton(task, "uninstall"),
				    editButton(task),
				    releaseButton(task, "deploy"),
				    releaseButton(task, "move"),
				    releasesToggle(task),
				    configButton(task),
				    canOperate(task) ? navButton("logs", "logs",
					{ task: task.id }) : null,
				    navButton("metrics", "metrics",
					{ node: task.node_id, task: task.id }),
				    navButton("history", "commands",
					{ task: task.id }),
				    canManage(task) ? A.muteButton("task",
					{ id: task.id, name: task.name },
					function () {
						A.summary(true).then(loadAlerts);
					}) : null)));
			if (task.id === S.focus)
				tr.classList.add("is-highlight");
			body.appendChild(tr);
			if (S.releases[task.id])
				body.appendChild(el("tr", { class: "row-detail",
				    dataset: { releasesOf: String(task.id) } },
				    el("td", { colspan: "9" }, R.panel(task))));
			/* Why it is down: the end of its log, as the agent saw it. */
			if ((task.state === "exited" || task.state === "failed" ||
			    task.state === "crash_loop") && task.last_lines)
				body.appendChild(el("tr", { class: "row-detail",
				    dataset: { lastLinesOf: String(task.id) } },
				    el("td", { colspan: "9" },
					el("div", { class: "muted",
					    text: t("tasks.lastLines") }),
					el("pre", { class: "command",
					    text: task.last_lines }))));
			/* Why its latest command failed (a policy refusal, say). */
			if (lc && (lc.state === "failed" ||
			    lc.state === "timed_out") && !S.busy[task.id])
				body.appendChild(lastCommandRow(task, lc));
		});
		Object.keys(S.releases).forEach(function (id) {
			if (!S.items.some(function (x) {
				return String(x.id) === id;
			})) {
				delete S.releases[id];
				R.forget(Number(id));
			}
		});
		$("tasks-count").textContent = t("tasks.count",
		    { count: S.items.length });
		if (S.focus !== null) {
			var row = body.querySelector('tr[data-task-id="' +
			    S.focus + '"]');
			if (row !== null && !S.scrolled) {
				S.scrolled = true;
				row.scrollIntoView({ block: "center" });
			}
		}
	}

	/* The agent's refusal by policy reads "...: policy: <rule>". */
	function isPolicy(output) {
		return /(^|: )policy: /.test(output || "");
	}

	function lastCommandRow(task, lc) {
		var policy = isPolicy(lc.output);

		return el("tr", { class: "row-detail", dataset: {
		    lastCommandOf: String(task.id), commandState: lc.state,
		    policy: policy ? "1" : "0" } },
		    el("td", { colspan: "9" },
			el("div", { class: "muted", title: Y.formatTimeFull(
			    lc.finished_at || lc.issued_at) || null,
			    text: t(policy ? "tasks.lastCommand.policy" :
				"tasks.lastCommand.failed", {
				    action: t("tasks.action." + lc.type),
				    state: t("tasks.cmdstate." + lc.state),
				    time: Y.formatTime(lc.finished_at ||
					lc.issued_at) }) }),
			el("pre", { class: "command", text: (lc.output ||
			    t("common.none")) + (lc.output_truncated ? "\n…" :
			    "") })));
	}

	/* ---- releases: deploy, update, rollback, move (releases.js) ---------- */

	/* Deploy / Update and Move: manage only. */
	function releaseButton(task, action) {
		var b;

		if (!canManage(task))
			return null;
		b = el("button", { type: "button", class: "btn btn--small",
		    dataset: { action: action },
		    text: t("tasks.action." + (action === "deploy" ?
			"deployUpdate" : action)) });
		if (S.busy[task.id]) {
			b.disabled = true;
			b.title = t("tasks.why.busy");
		}
		b.addEventListener("click", function () {
			if (action === "deploy")
				R.openDeploy(task, null, b);
			else
				R.openMove(task, b);
		});
		return b;
	}

	/* Releases: open or close the task's releases under its row. */
	function releasesToggle(task) {
		var open = Boolean(S.releases[task.id]);

		return el("button", { type: "button",
		    class: "btn btn--small btn--link",
		    dataset: { action: "releases" },
		    "aria-expanded": open ? "true" : "false",
		    text: t("tasks.action.releases"),
		    onclick: function () {
			    if (S.releases[task.id]) {
				    delete S.releases[task.id];
			    } else {
				    S.releases[task.id] = true;
				    R.refresh(task.id);
			    }
			    render();
		    } });
	}

	/* A release command was issued here: show the releases, follow it. */
	function issued(task, type, c) {
		S.releases[task.id] = true;
		watch(task, type, c.id, c);
	}

	function sleep(ms) {
		return new Promise(function (r) {
			setTimeout(r, ms);
		});
	}

	/*
	 * Poll a deploy, update, rollback or move until it ends: its step
	 * and percent on the task's row, its outcome in #task-last, then the
	 * releases and the list again.
	 */
	async function watch(task, type, id, first) {
		var d = first || { state: "queued" }, gone = 0;

		if (S.watching[id])
			return;
		S.watching[id] = true;
		S.busy[task.id] = id;
		S.progress[task.id] = { id: id, type: type, state: d.state,
		    progress: d.progress || null };
		render();
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
			patchState(task.id);
			status(task, type, d.state, FINAL.indexOf(d.state) !== -1 ?
			    d.output || "" : "");
		}
		delete S.watching[id];
		if (S.busy[task.id] === id)
			delete S.busy[task.id];
		if (S.progress[task.id] && S.progress[task.id].id === id)
			delete S.progress[task.id];
		R.refresh(task.id);
		load();
	}

	/* ---- commands -------------------------------------------------------- */

	async function act(task, action, button) {
		var c, d;

		if (action !== "start") {
			var ok = await Y.confirm({
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
		render();
		status(task, action, "queued", "");
		for (;;) {
			await new Promise(function (r) {
				setTimeout(r, COMMAND_POLL_MS);
			});
			try {
				d = await Y.api("GET", "/commands/" + c.id);
			} catch (err) {
				continue;
			}
			status(task, action, d.state, d.output || "");
			if (FINAL.indexOf(d.state) !== -1)
				break;
		}
		delete S.busy[task.id];
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

	/* ---- edit ------------------------------------------------------------ */

	/* Edit: manage only (it decides what the task runs). */
	function editButton(task) {
		if (!canManage(task))
			return null;
		return el("button", { type: "button",
		    class: "btn btn--small btn--link",
		    dataset: { action: "edit" }, text: t("tasks.action.edit"),
		    onclick: function () {
			    startEdit(task.id);
		    } });
	}

	async function startEdit(id) {
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
		$("task-create").dataset.mode = "edit";
		$("form-title").textContent = t("tasks.edit.title",
		    { name: task.name });
		$("task-submit").textContent = t("tasks.edit.submit");
		$("task-cancel-edit").hidden = false;
		$("create-panel").hidden = false;
		$("create-panel").scrollIntoView({ block: "start" });
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
		$("task-cancel-edit").hidden = true;
		/* A node the caller does not manage was only there to edit. */
		Array.prototype.slice.call(f.node_id.options).forEach(function (o) {
			if (!S.nodes.some(function (n) {
				return String(n.id) === o.value;
			}))
				o.remove();
		});
		$("create-panel").hidden = S.nodes.length === 0;
		showRoots();
		f.name.value = "";
	}

	async function onCreate(ev) {
		var f = ev.target.elements, b, task, box;

		ev.preventDefault();
		$("task-create").querySelectorAll("[data-field-error]").forEach(
		    function (x) {
			showError(x, null);
		});
		b = buildSpec(f);
		if (!b.error && rootsError(b.spec.deploy_dir) !== null)
			b = { error: "spec.deploy_dir",
			    text: rootsError(b.spec.deploy_dir) };
		if (b.error) {
			showError(errorBox(b.error), b.text);
			return;
		}
		try {
			if (S.editing)
				task = await Y.api("PUT", "/tasks/" + S.editing.id,
				    { name: f.name.value.trim(), spec: b.spec });
			else
				task = await Y.api("POST", "/tasks", {
					node_id: Number(f.node_id.value),
					name: f.name.value.trim(),
					spec: b.spec
				});
		} catch (err) {
			box = errorBox(err.field);
			if (box !== null) {
				showError(box, (err.field || "") + ": " +
				    (err.serverMessage || Y.errorText(err)));
				return;
			}
			Y.banner($("banner"), "error", Y.errorText(err));
			return;
		}
		S.focus = task.id;
		S.scrolled = false;
		if (S.editing) {
			endEdit();
			Y.banner($("banner"), "success", t("tasks.edit.saved",
			    { name: task.name }));
		}
		f.name.value = "";
		load();
	}
})();
