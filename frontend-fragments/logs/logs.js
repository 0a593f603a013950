/*
 * Yard "logs" module page: a task's captured output or one of its log
 * files, read live from its node, in the logs view (shared/logview.js:
 * lines, follow, search, wrap, pause, height, download).  This page adds
 * the task picker: ?task=ID (and &file=) preselect; switching task starts
 * afresh.  Only tasks the caller may operate are offered (reading logs
 * needs operate).  &at=ISO (an alert event's time, from the alerts page)
 * says when that was and offers to search the lines of that minute.
 *
 * Test hooks: those of shared/logview.js, and #log-at[data-at] with
 * [data-action=search-at].
 */
(function () {
	"use strict";

	var Y = window.Yard;
	var t = Y.t;
	var el = Y.el;
	var V = window.YardLogView;
	var view = null;
	var preset = {}, refused = null;

	function $(id) {
		return document.getElementById(id);
	}

	/* The view's parts are there from the start, as in the markup. */
	V.build($("logs-panel"), { picker: true });
	Y.onReady(init);

	async function init() {
		var p = new URLSearchParams(location.search), res, at = null;

		if (/^[0-9]{1,18}$/.test(p.get("task") || ""))
			preset.task = p.get("task");
		if (p.get("at") && !isNaN(Date.parse(p.get("at"))))
			at = new Date(p.get("at"));
		view = V.mount($("logs-panel"), {
			task: function () {
				return $("l-task").value;
			},
			banner: $("banner"),
			file: p.get("file") || undefined
		});
		if (at !== null)
			showAt(at);
		try {
			res = await Y.api("GET", "/tasks" + Y.qs({ limit: 200 }));
		} catch (err) {
			Y.banner($("banner"), "error", Y.errorText(err));
			res = { items: [] };
		}
		/* Reading logs needs operate on the task. */
		(res.items || []).forEach(function (x) {
			if (!Y.may(x.level, "operate")) {
				if (String(x.id) === preset.task)
					refused = t("logs.needOperate",
					    { name: x.name });
				return;
			}
			$("l-task").appendChild(el("option", { value: String(x.id),
			    text: x.name + " @ " + x.node_name }));
		});
		if (preset.task)
			$("l-task").value = preset.task;
		$("l-task").addEventListener("change", view.taskChanged);
		Y.setPageState("ready");
		/* Asked for a task whose logs this user may not read: say so,
		 * rather than showing another task's. */
		if (refused !== null) {
			Y.banner($("banner"), "warning", refused);
			view.setState("done", "");
			return;
		}
		view.start();
	}

	/*
	 * The time an alert pointed at.  Logs are read by lines, not by time,
	 * so offer a search for that minute as most logs write it
	 * ("YYYY-MM-DD HH:mm", local time).
	 */
	function showAt(d) {
		var pad = function (n) {
			return (n < 10 ? "0" : "") + n;
		};
		var text = d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" +
		    pad(d.getDate()) + " " + pad(d.getHours()) + ":" +
		    pad(d.getMinutes());

		$("banner").after(el("div", { id: "log-at", class: "notice",
		    dataset: { at: d.toISOString() } },
		    el("span", { class: "notice__text", text: t("logs.at",
			{ time: Y.formatTimeFull(d.toISOString()) }) }), " ",
		    el("button", { type: "button", class: "btn btn--small",
			dataset: { action: "search-at" },
			text: t("logs.at.search", { text: text }),
			onclick: function () {
				view.searchNode(text);
			} })));
	}
})();
