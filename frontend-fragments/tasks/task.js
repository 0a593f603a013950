/*
 * Yard "tasks" module page, a task's own page (/ui/tasks/ID, or
 * ?task=ID inside EWS; tasks.js routes here): a header with the name,
 * node, state (colour and text), uptime, PID, health, exit status and
 * last restart, and the actions the caller may take (Start or Stop and a
 * "more" menu, as on the list); tabs (role=tablist, arrow keys; the tab
 * in ?tab=, kept on reload and back) for the spec, the task's events
 * (GET /tasks/ID/events), logs (the logs view of shared/logview.js for
 * this task, following only while its tab is shown), metrics, commands, releases
 * (releases.js), configuration (config.js) and alert events.  The header
 * is asked for every 2 s and patched in place, so the focus stays.
 *
 * Test hooks: #task-page[data-task-id][data-state=loading|ready|error],
 * #task-head[data-task-id][data-state][data-level] with [data-cell=state],
 * [data-fact=node|uptime|pid|health|exit|restart|adopted], the actions as
 * on the list; [role=tab][data-tab][aria-selected], #tab-<name>
 * [role=tabpanel]; events #task-events[data-state] > li[data-event-id]
 * [data-kind], #events-more; #task-metrics svg[data-chart=cpu|mem];
 * #task-commands tr[data-command-id][data-type][data-state];
 * [data-releases-of] > .releases; #config-panel; #task-alerts
 * tr[data-event-id][data-state]; #task-logs[data-task-id] with the
 * logs view's hooks (#log-output, #l-q, ...) and #l-banner;
 * [data-action=back].
 */
(function () {
	"use strict";

	var Y = window.Yard;
	var t = Y.t;
	var el = Y.el;
	var REFRESH_MS = 2000;
	var TABS = ["overview", "events", "logs", "metrics", "commands",
	    "releases", "config", "alerts"];
	var EVENTS_PAGE = 50;
	/* Spec members shown as typed (paths, commands, variables). */
	var MONO = ["deploy_dir", "command", "args", "jar", "jvm", "home",
	    "base", "app_path", "env", "log_files", "health"];

	var P = null;		/* the open page's state */

	function $(id) {
		return document.getElementById(id);
	}

	function T() {
		return window.YardTasks;
	}

	/* Open task id's page; opts.tab, opts.deploy (a package id). */
	function open(id, opts) {
		var root = $("task-page");

		P = { id: id, task: null, tab: TABS.indexOf(opts.tab) !== -1 ?
		    opts.tab : "overview", deploy: opts.deploy, timer: null,
		    seq: 0, facts: {}, loaded: {}, specKey: null };
		T().onChange = load;
		T().onPaint = paint;
		/* A release command issued here: its releases are what matter. */
		T().onIssued = function () {
			if (P.task)
				select("releases", true);
		};
		root.dataset.taskId = String(id);
		root.dataset.state = "loading";
		root.hidden = false;
		window.YardConfig.init({ closed: function () {
			select("overview", true);
		} });
		document.addEventListener("visibilitychange", function () {
			if (!document.hidden && P.task)
				load();
		});
		load();
	}

	async function load() {
		var seq = ++P.seq, task, first = P.task === null;

		clearTimeout(P.timer);
		try {
			task = await Y.api("GET", "/tasks/" + P.id);
		} catch (err) {
			if (seq !== P.seq)
				return;
			Y.banner($("banner"), "error", Y.errorText(err));
			if (first) {
				$("task-page").dataset.state = "error";
				Y.setPageState(err.status === 403 ? "forbidden" :
				    "error");
				skeletonBack();
				return;
			}
			P.timer = setTimeout(load, REFRESH_MS * 2);
			return;
		}
		if (seq !== P.seq)
			return;
		if (!first)
			Y.banner($("banner"), null);
		P.task = task;
		if (first)
			skeleton();
		paint();
		T().watchLast(task);
		window.YardConfig.update(task);
		if (first) {
			$("task-page").dataset.state = "ready";
			Y.setPageState("ready");
			select(P.tab, false);
			deepLink();
		}
		P.timer = setTimeout(load, document.hidden ? REFRESH_MS * 5 :
		    REFRESH_MS);
	}

	/* ?deploy=PACKAGE (the Packages page's Attach): the deploy dialog. */
	function deepLink() {
		var p;

		if (!P.deploy)
			return;
		p = new URLSearchParams(location.search);
		p.delete("deploy");
		history.replaceState(history.state, "", location.pathname + "?" +
		    p.toString());
		if (!Y.may(P.task.level, "manage")) {
			Y.banner($("banner"), "error",
			    t("tasks.rel.deploy.linkNoTask"));
			return;
		}
		window.YardReleases.openDeploy(P.task, P.deploy, P.head.primary);
	}

	function backLink() {
		return el("a", { href: location.pathname.replace(
		    /\/tasks(\/[0-9]+)?\/?$/, "/tasks"),
		    class: "task-back", dataset: { action: "back" },
		    text: "← " + t("tasks.page.back"),
		    onclick: function (ev) {
			    if (ev.ctrlKey || ev.metaKey || ev.shiftKey)
				    return;
			    ev.preventDefault();
			    Y.navigate("tasks", {});
		    } });
	}

	function skeletonBack() {
		var root = Y.clear($("task-page"));

		root.appendChild(el("nav", {}, backLink()));
	}

	/* ---- the header -------------------------------------------------------- */

	function fact(key, label) {
		var dd = el("dd", { dataset: { fact: key } });

		P.facts[key] = dd;
		return [el("dt", { text: label }), dd];
	}

	function skeleton() {
		var root = Y.clear($("task-page")), h = {}, list, panels;

		P.head = h;
		h.name = el("h2", { id: "task-title" });
		h.marks = el("span");
		h.state = el("span", { dataset: { cell: "state" } });
		h.primary = el("button", { type: "button",
		    class: "btn btn--small", hidden: true,
		    onclick: function () {
			    var a = h.primary.dataset.action;

			    if (h.primary.getAttribute("aria-disabled") ===
				"true")
				    return;
			    T().actions(P.task).forEach(function (x) {
				    if (x.id === a)
					    x.run(h.primary);
			    });
		    } });
		h.menu = T().menuButton(function () {
			return T().actions(P.task).filter(function (a) {
				return h.primary.hidden ||
				    a.id !== h.primary.dataset.action;
			});
		}, t("tasks.more.label", { name: P.task.name }));
		h.box = el("div", { id: "task-head", class: "panel__body" },
		    el("div", { class: "task-head" }, h.name, h.marks, h.state,
			el("span", { class: "toolbar__grow" }),
			el("span", { class: "row-actions" }, h.primary,
			    h.menu.wrap)),
		    el("dl", { class: "task-facts" },
			fact("node", t("tasks.col.node")),
			fact("uptime", t("tasks.col.uptime")),
			fact("pid", t("tasks.col.pid")),
			fact("health", t("tasks.fact.health")),
			fact("exit", t("tasks.fact.exit")),
			fact("restart", t("tasks.fact.restart")),
			fact("restarts", t("tasks.col.restarts")),
			fact("adopted", t("tasks.fact.adopted"))));
		list = el("div", { class: "tablist", role: "tablist",
		    "aria-labelledby": "task-title" });
		panels = el("div");
		P.tabs = {};
		TABS.forEach(function (name) {
			var tab = el("button", { type: "button", role: "tab",
			    id: "tab-" + name + "-tab", "aria-selected": "false",
			    "aria-controls": "tab-" + name, tabindex: "-1",
			    dataset: { tab: name }, text: t("tasks.tab." + name),
			    onclick: function () {
				    select(name, true);
			    } });
			var panel = el("div", { id: "tab-" + name,
			    class: "tabpanel", role: "tabpanel", tabindex: "0",
			    "aria-labelledby": "tab-" + name + "-tab",
			    hidden: true });

			P.tabs[name] = { tab: tab, panel: panel };
			list.appendChild(tab);
			panels.appendChild(panel);
		});
		list.addEventListener("keydown", tabKeys);
		/* The Configuration view lives in its tab. */
		P.tabs.config.panel.appendChild(el("section", {
		    id: "config-panel", class: "config", hidden: true }));
		root.appendChild(el("nav", {}, backLink()));
		root.appendChild(el("section", { class: "panel" }, h.box,
		    el("div", { class: "panel__body" }, list, panels)));
	}

	function setText(node, text) {
		if (node.textContent !== text)
			node.textContent = text;
	}

	/* The header from P.task, in place. */
	function paint() {
		var task = P.task, h = P.head, list, primary, key, A;

		if (!task || !h)
			return;
		A = window.YardAlerts;
		h.box.dataset.taskId = String(task.id);
		h.box.dataset.state = task.state;
		h.box.dataset.level = task.level || "none";
		setText(h.name, task.name);
		document.title = task.name + " · " + t("tasks.title");
		key = task.state + "|" + JSON.stringify(T().progress(task.id));
		if (h.stateKey !== key) {
			h.stateKey = key;
			Y.clear(h.state).appendChild(T().stateNode(task));
		}
		setText(P.facts.node, task.node_name || "—");
		setText(P.facts.uptime, T().uptime(task));
		setText(P.facts.pid, task.pid && T().isUp(task) ?
		    String(task.pid) : "—");
		setText(P.facts.health, task.health ? t("tasks.health." +
		    task.health) : "—");
		setText(P.facts.exit, exitText(task.last_exit));
		setText(P.facts.restart, restartText(task.last_restart));
		setText(P.facts.restarts, String(task.restarts || 0));
		setText(P.facts.adopted, task.adopted_at ? when(task.adopted_at) :
		    "—");
		list = T().actions(task);
		primary = list.find(function (a) {
			return a.id === "stop";
		}) || list.find(function (a) {
			return a.id === "start";
		}) || null;
		T().syncButton(h.primary, primary, T().busy(task.id));
		h.menu.refresh();
		/* Logs need operate: no tab for whoever may not read them. */
		P.tabs.logs.tab.hidden = !Y.may(task.level, "operate");
		if (A && A.marks) {
			A.summary().then(function (s) {
				var m;

				/* Rebuilt only when it changed: the focus stays. */
				if (s === null || s === h.alerts)
					return;
				h.alerts = s;
				m = A.marks("task", task.id, s);
				Y.clear(h.marks);
				if (m)
					h.marks.appendChild(m);
			});
		}
		if (P.tab === "overview")
			overview();
		/* Something happened: the events tab shows it. */
		key = [task.state, task.pid, task.restarts, task.health].join("|");
		if (P.tab === "events" && P.evKey !== undefined &&
		    P.evKey !== key)
			events(false);
		P.evKey = key;
	}

	/* An event time: epoch milliseconds (as the agent sends it) or ISO. */
	function when(at) {
		if (typeof at === "number")
			at = new Date(at).toISOString();
		return Y.formatTime(at);
	}

	/*
	 * last_exit {at, status | signal, by: self|stop|policy|outside}:
	 * "被外部信号 SIGKILL 终止 · 05-02 10:04".
	 */
	function exitText(e) {
		var what, code = typeof e === "object" && e !== null ?
		    (e.status !== undefined ? e.status : e.code) : undefined;

		if (!e)
			return "—";
		if (e.signal)
			what = t(e.by === "outside" ? "tasks.exit.outside" :
			    "tasks.exit.signal", { signal: e.signal });
		else if (typeof code === "number")
			what = t("tasks.exit.code", { code: code });
		else
			what = t("tasks.exit.unknown");
		if (e.by === "stop")
			what += t("tasks.exit.byStop");
		return e.at ? what + " · " + when(e.at) : what;
	}

	/* last_restart {at, reason: exited|signal|health|crash_loop_cooldown}. */
	function restartText(r) {
		var why, key;

		if (!r)
			return "—";
		key = "tasks.restart.reason." + (r.reason || "unknown");
		why = t(key);
		if (why === key)
			why = t("tasks.restart.reason.unknown");
		if (r.crash_loop)
			why += t("tasks.restart.crashLoop");
		return r.at ? why + " · " + when(r.at) : why;
	}

	/* ---- tabs -------------------------------------------------------------- */

	function visibleTabs() {
		return TABS.filter(function (n) {
			return !P.tabs[n].tab.hidden;
		});
	}

	/* Left/Right (and Home/End) move between tabs and show them. */
	function tabKeys(ev) {
		var list = visibleTabs(), i = list.indexOf(P.tab), j;

		switch (ev.key) {
		case "ArrowRight":
			j = (i + 1) % list.length;
			break;
		case "ArrowLeft":
			j = (i - 1 + list.length) % list.length;
			break;
		case "Home":
			j = 0;
			break;
		case "End":
			j = list.length - 1;
			break;
		default:
			return;
		}
		ev.preventDefault();
		select(list[j], true);
		P.tabs[list[j]].tab.focus();
	}

	function select(name, user) {
		var p;

		if (P.tabs[name].tab.hidden)
			name = "overview";
		/* Leaving the Logs tab ends its follow. */
		if (name !== "logs" && P.logs && P.logs.on) {
			P.logs.on = false;
			P.logs.view.stop();
		}
		P.tab = name;
		TABS.forEach(function (n) {
			var on = n === name;

			P.tabs[n].tab.setAttribute("aria-selected", on ? "true" :
			    "false");
			P.tabs[n].tab.tabIndex = on ? 0 : -1;
			P.tabs[n].panel.hidden = !on;
		});
		p = new URLSearchParams(location.search);
		if (name === "overview")
			p.delete("tab");
		else
			p.set("tab", name);
		if (user)
			history.replaceState(history.state, "", location.pathname +
			    "?" + p.toString());
		show(name);
	}

	function show(name) {
		var panel = P.tabs[name].panel, task = P.task;

		switch (name) {
		case "overview":
			overview();
			break;
		case "events":
			events(false);
			break;
		case "logs":
			logs(panel);
			break;
		case "metrics":
			metrics();
			break;
		case "commands":
			commands();
			break;
		case "releases":
			if (!P.loaded.releases) {
				P.loaded.releases = true;
				panel.appendChild(el("div", { dataset: {
				    releasesOf: String(task.id) } },
				    window.YardReleases.panel(task)));
			} else
				window.YardReleases.refresh(task.id);
			break;
		case "config":
			if (!window.YardConfig.isOpen(task.id))
				window.YardConfig.open(task, null);
			break;
		case "alerts":
			alerts();
			break;
		}
	}

	/* ---- Logs: the logs view (shared/logview.js), this task only --------- */

	/*
	 * Built on the first visit; each visit reads afresh (and follows,
	 * when Follow is on) until the tab is left.  The API answers only
	 * whoever may operate the task (the tab is hidden for the others).
	 */
	function logs(panel) {
		var box, banner;

		if (!P.logs) {
			banner = el("div", { id: "l-banner", hidden: true });
			box = el("div", { id: "task-logs", class: "panel",
			    dataset: { taskId: String(P.id) } });
			panel.appendChild(banner);
			panel.appendChild(box);
			window.YardLogView.build(box, {});
			P.logs = { on: false, view: window.YardLogView.mount(box, {
			    task: function () {
				    return String(P.id);
			    },
			    banner: banner }) };
		}
		if (!P.logs.on) {
			P.logs.on = true;
			P.logs.view.start();
		}
	}

	/* ---- Overview: the spec, readable ------------------------------------- */

	function joined(v) {
		if (Array.isArray(v))
			return v.length ? v.join("\n") : "—";
		if (v && typeof v === "object")
			return Object.keys(v).length ? Object.keys(v).map(
			    function (k) {
				    return k + "=" + v[k];
			    }).join("\n") : "—";
		return v === undefined || v === null || v === "" ? "—" :
		    String(v);
	}

	function overview() {
		var task = P.task, sp = task.spec || {}, k, dl, key, h, r;

		key = JSON.stringify([sp, task.kind, task.created_at,
		    task.updated_at]);
		if (P.specKey === key)
			return;
		P.specKey = key;
		k = sp[task.kind] || {};
		h = sp.health || null;
		r = sp.restart || {};
		dl = el("dl", { class: "spec-view", id: "task-spec" });
		function row(label, value, name) {
			dl.appendChild(el("dt", { text: label }));
			dl.appendChild(el("dd", { dataset: { spec: name },
			    class: MONO.indexOf(name) !== -1 ? "mono" : null,
			    text: joined(value) }));
		}
		row(t("tasks.field.kind"), t("tasks.kind." + task.kind), "kind");
		row(t("tasks.field.deploy_dir"), sp.deploy_dir, "deploy_dir");
		if (task.kind === "console") {
			row(t("tasks.field.command"), k.command, "command");
			row(t("tasks.field.args"), k.args, "args");
		} else if (task.kind === "jar") {
			row(t("tasks.field.jar"), k.jar, "jar");
			row(t("tasks.field.jvm_options"), k.jvm_options, "jvm");
			row(t("tasks.field.args"), k.args, "args");
			row(t("tasks.field.port"), k.port, "port");
		} else {
			row(t("tasks.field.home"), k.home, "home");
			row(t("tasks.field.base"), k.base, "base");
			row(t("tasks.field.app_path"), k.app_path, "app_path");
			row(t("tasks.field.port"), k.port, "port");
		}
		row(t("tasks.field.env"), sp.env, "env");
		row(t("tasks.field.restart"), r.policy ? t("tasks.restart." +
		    r.policy) : null, "restart");
		row(t("tasks.field.stop_grace"), sp.stop_grace, "stop_grace");
		row(t("tasks.field.health_path"), h ? (h.path || "") +
		    (h.port ? " :" + h.port : "") + (h.interval ? " · " +
		    t("tasks.page.every", { n: h.interval }) : "") : null,
		    "health");
		row(t("tasks.field.log_files"), sp.log_files, "log_files");
		row(t("tasks.page.created"), Y.formatTimeFull(task.created_at),
		    "created");
		row(t("tasks.page.updated"), Y.formatTimeFull(task.updated_at),
		    "updated");
		Y.clear(P.tabs.overview.panel).appendChild(dl);
	}

	/* ---- Events ------------------------------------------------------------ */

	/*
	 * One event as a sentence with its reason (api.md, Task events):
	 * "被外部信号 SIGKILL 终止", "按策略重启（第 1 次）".  A member the
	 * event lacks picks the sentence without it.
	 */
	function eventText(ev) {
		var p = ev.params || {}, key = "tasks.event." + ev.kind, v;
		var has = function (x) {
			return x !== undefined && x !== null && x !== "";
		};

		v = {
			status: p.status, signal: p.signal, pid: p.pid,
			n: has(p.restarts) ? p.restarts : p.attempt,
			fails: p.health_fails, code: ev.code,
			state: ev.state ? t("tasks.state." + ev.state) : "",
			prev: ev.prev_state ? t("tasks.state." + ev.prev_state) :
			    ""
		};
		switch (ev.kind) {
		case "started":
			key += has(v.pid) ? "" : ".nopid";
			if (ev.code === "policy")
				key += ".policy";
			break;
		case "exited":
			key += has(v.status) ? "" : ".nocode";
			break;
		case "killed":
			key += "." + (["self", "policy"].indexOf(ev.code) !== -1 ?
			    ev.code : "outside") + (has(v.signal) ? "" :
			    ".nosignal");
			break;
		case "restarted":
			key += "." + (["health", "crash_loop_cooldown"].indexOf(
			    ev.code || p.reason) !== -1 ? ev.code || p.reason :
			    "policy") + (has(v.n) ? "" : ".non");
			break;
		case "crash_loop":
			key += has(v.n) ? "" : ".non";
			break;
		case "unhealthy":
			key += has(v.fails) ? "" : ".noreason";
			break;
		case "stopped":
			key += has(v.signal) ? ".signal" : has(v.status) ?
			    ".status" : "";
			break;
		case "lost":
			key += ev.code === "offline" ? ".offline" : "";
			break;
		case "state":
			key += v.prev ? "" : ".noprev";
			break;
		}
		if (t(key, v) === key)
			return t("tasks.event.other", { kind: ev.kind,
			    state: v.state });
		return t(key, v);
	}

	/*
	 * The events, newest first: the first page again (more false: on
	 * showing the tab and when the task's state changed) or the next one.
	 * The list and its button stay in place, so the focus does too.
	 */
	async function events(more) {
		var box = P.tabs.events.panel, list, res, q, my;

		if (!P.ev) {
			P.ev = { next: null, seq: 0 };
			P.ev.list = el("ul", { id: "task-events",
			    class: "events-list", dataset: { state: "loading" },
			    "aria-live": "polite" });
			P.ev.more = el("button", { type: "button", class: "btn",
			    id: "events-more", hidden: true,
			    text: t("tasks.page.more"), onclick: function () {
				    events(true);
			    } });
			box.appendChild(P.ev.list);
			box.appendChild(P.ev.more);
		}
		my = ++P.ev.seq;
		list = P.ev.list;
		q = { limit: EVENTS_PAGE };
		if (more && P.ev.next !== null)
			q.before = P.ev.next;
		try {
			res = await Y.api("GET", "/tasks/" + P.id + "/events" +
			    Y.qs(q));
		} catch (err) {
			if (my !== P.ev.seq)
				return;
			list.dataset.state = "error";
			Y.clear(list).appendChild(el("li", { class: "muted",
			    text: Y.errorText(err) }));
			return;
		}
		if (my !== P.ev.seq)
			return;
		P.ev.next = res.next === undefined ? null : res.next;
		if (!more)
			Y.clear(list);
		(res.items || []).forEach(function (ev) {
			list.appendChild(el("li", { dataset: {
			    eventId: String(ev.id), kind: ev.kind } },
			    el("time", { datetime: ev.at, class: "muted",
				title: Y.formatTimeFull(ev.at),
				text: Y.formatTime(ev.at) }),
			    el("span", { class: "event__text",
				text: eventText(ev) }),
			    el("span", { class: "muted", text: ev.by ?
				t("tasks.event.by", { name: ev.by.name ||
				    String(ev.by.id) }) :
				t("tasks.event.bySystem") })));
		});
		if (list.children.length === 0)
			list.appendChild(el("li", { class: "muted",
			    dataset: { empty: "" }, text: t("tasks.page.noEvents") }));
		list.dataset.state = "ready";
		P.ev.more.hidden = P.ev.next === null;
	}

	/* ---- Metrics ----------------------------------------------------------- */

	async function metrics() {
		var box = P.tabs.metrics.panel, C = window.YardCharts, res, now;

		if (!P.loaded.metrics) {
			P.loaded.metrics = true;
			box.appendChild(el("div", { id: "task-metrics",
			    class: "task-charts" },
			    el("div", {}, el("h3", { text: t("tasks.col.cpu") }),
				el("div", { class: "chart-box",
				    id: "task-chart-cpu" })),
			    el("div", {}, el("h3", { text: t("tasks.col.mem") }),
				el("div", { class: "chart-box",
				    id: "task-chart-mem" }))));
			box.appendChild(el("button", { type: "button",
			    class: "btn btn--link", dataset: { action:
			    "metrics-page" }, text: t("tasks.page.allMetrics"),
			    onclick: function () {
				    Y.navigate("metrics", { node: P.task.node_id,
					task: P.id });
			    } }));
		}
		now = Math.floor(Date.now() / 1000);
		try {
			res = await Y.api("GET", "/metrics" + Y.qs({ task: P.id,
			    from: new Date((now - 3600) * 1000).toISOString() }));
		} catch (err) {
			Y.banner($("banner"), "error", Y.errorText(err));
			return;
		}
		if (!C)
			return;
		chart("cpu", res, 1, { yMin: 0, yFormat: function (v) {
			return C.formatNumber ? C.formatNumber(v) + "%" : v + "%";
		} });
		chart("mem", res, 2, { yMin: 0, yFormat: function (v) {
			return C.formatBytes ? C.formatBytes(v) :
			    String(Math.round(v / 1048576)) + " MiB";
		} });
	}

	function chart(name, res, col, extra) {
		var C = window.YardCharts, pts, opts, box = $("task-chart-" + name);

		pts = (res.points || []).map(function (p) {
			return [p[0], p[col]];
		});
		opts = Object.assign({ chart: name, points: pts.length,
		    from: Date.parse(res.from) / 1000 || pts.length &&
			pts[0][0], to: Date.parse(res.to) / 1000 ||
			Date.now() / 1000, step: res.step,
		    series: [{ name: t("tasks.col." + name), points: pts,
			cls: 1, area: true }],
		    label: t("tasks.col." + name), height: 180,
		    emptyText: t("tasks.page.noMetrics") }, extra);
		P.charts = P.charts || {};
		if (P.charts[name])
			P.charts[name].update(opts);
		else
			P.charts[name] = C.lineChart(box, opts);
	}

	/* ---- Commands ---------------------------------------------------------- */

	async function commands() {
		var box = P.tabs.commands.panel, res, body;

		try {
			res = await Y.api("GET", "/commands" + Y.qs({
			    task_id: P.id, limit: 20 }));
		} catch (err) {
			Y.clear(box).appendChild(el("p", { class: "muted",
			    text: Y.errorText(err) }));
			return;
		}
		body = el("tbody");
		(res.items || []).forEach(function (c) {
			body.appendChild(el("tr", { dataset: { commandId:
			    String(c.id), type: c.type, state: c.state } },
			    el("td", { text: t("tasks.action." + c.type) }),
			    el("td", { text: t("tasks.cmdstate." + c.state) }),
			    el("td", { title: Y.formatTimeFull(c.issued_at),
				text: Y.formatTime(c.issued_at) }),
			    el("td", { text: c.issued_by_sub || "—" }),
			    el("td", { class: "cell-ellipsis",
				text: typeof Y.commandText === "function" ?
				    Y.commandText(c) : c.output || "" })));
		});
		if (!body.firstChild)
			body.appendChild(el("tr", { class: "empty-row" },
			    el("td", { colspan: "5", class: "empty",
				text: t("tasks.page.noCommands") })));
		Y.clear(box).appendChild(el("div", { class: "table-wrap" },
		    el("table", { id: "task-commands", class: "yard-table" },
			el("thead", {}, el("tr", {},
			    el("th", { scope: "col", text: t("tasks.page.cmd.type") }),
			    el("th", { scope: "col", text: t("tasks.col.state") }),
			    el("th", { scope: "col", text: t("tasks.page.cmd.at") }),
			    el("th", { scope: "col", text: t("tasks.page.cmd.by") }),
			    el("th", { scope: "col", text: t("tasks.page.cmd.result") }))),
			body)));
		box.appendChild(el("button", { type: "button",
		    class: "btn btn--link", dataset: { action: "history" },
		    text: t("tasks.page.allCommands"), onclick: function () {
			    Y.navigate("commands", { task: P.id });
		    } }));
	}

	/* ---- Alerts ------------------------------------------------------------ */

	async function alerts() {
		var box = P.tabs.alerts.panel, res, body;

		try {
			res = await Y.api("GET", "/alerts/events" + Y.qs({
			    task_id: P.id, limit: 50 }));
		} catch (err) {
			Y.clear(box).appendChild(el("p", { class: "muted",
			    text: Y.errorText(err) }));
			return;
		}
		body = el("tbody");
		(res.items || []).forEach(function (ev) {
			body.appendChild(el("tr", { dataset: { eventId:
			    String(ev.id), state: ev.state, kind: ev.kind } },
			    el("td", {}, el("button", { type: "button",
				class: "btn btn--link btn--small",
				dataset: { action: "open-alert" },
				text: ev.rule_name || t("alerts.kind." + ev.kind),
				onclick: function () {
					Y.navigate("alerts", { event: ev.id });
				} })),
			    el("td", { text: t("alerts.kind." + ev.kind) }),
			    el("td", { text: t("alerts.state." + ev.state) }),
			    el("td", { title: Y.formatTimeFull(ev.started_at),
				text: Y.formatTime(ev.started_at) }),
			    el("td", { text: ev.resolved_at ?
				Y.formatTime(ev.resolved_at) : "—" })));
		});
		if (!body.firstChild)
			body.appendChild(el("tr", { class: "empty-row" },
			    el("td", { colspan: "5", class: "empty",
				text: t("tasks.page.noAlerts") })));
		Y.clear(box).appendChild(el("div", { class: "table-wrap" },
		    el("table", { id: "task-alerts", class: "yard-table" },
			el("thead", {}, el("tr", {},
			    el("th", { scope: "col", text: t("tasks.page.alert.rule") }),
			    el("th", { scope: "col", text: t("tasks.page.alert.kind") }),
			    el("th", { scope: "col", text: t("tasks.col.state") }),
			    el("th", { scope: "col", text: t("tasks.page.alert.started") }),
			    el("th", { scope: "col", text: t("tasks.page.alert.resolved") }))),
			body)));
		box.appendChild(el("button", { type: "button",
		    class: "btn btn--link", dataset: { action: "all-alerts" },
		    text: t("tasks.page.allAlerts"), onclick: function () {
			    Y.navigate("alerts", { task_id: P.id });
		    } }));
	}

	window.YardTaskPage = { open: open, eventText: eventText };
})();
