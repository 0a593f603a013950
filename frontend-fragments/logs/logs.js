/*
 * Yard "logs" module page: a task's captured output or one of its log
 * files, read live from its node.  Last N lines, search, download, and a
 * follow that appends new lines as they come (a long-poll per chunk; the
 * server answers within ~0.3 s of a write).  ?task=ID (and &file=)
 * preselect; switching task, file or lines starts afresh.  Only tasks the
 * caller may operate are offered (reading logs needs operate).  &at=ISO
 * (an alert event's time, from the alerts page) says when that was and
 * offers to search the lines of that minute.
 *
 * Test hooks: #l-task, #l-file, #l-lines, #l-q, #l-follow, #l-download,
 * #log-output (data-state = loading | following | done | error),
 * #log-status, #log-at[data-at] with [data-action=search-at].
 */
(function () {
	"use strict";

	var Y = window.Yard;
	var t = Y.t;
	var el = Y.el;
	var MAX_CHARS = 2 * 1024 * 1024; /* keep the page light */

	/* gen: bumped on every change, so a stale loop stops. */
	var S = { gen: 0, preset: {} };

	function $(id) {
		return document.getElementById(id);
	}

	Y.onReady(init);

	async function init() {
		var p = new URLSearchParams(location.search), res;

		if (/^[0-9]{1,18}$/.test(p.get("task") || ""))
			S.preset.task = p.get("task");
		if (p.get("file"))
			S.preset.file = p.get("file");
		if (p.get("at") && !isNaN(Date.parse(p.get("at"))))
			showAt(new Date(p.get("at")));
		try {
			res = await Y.api("GET", "/tasks" + Y.qs({ limit: 200 }));
		} catch (err) {
			Y.banner($("banner"), "error", Y.errorText(err));
			res = { items: [] };
		}
		/* Reading logs needs operate on the task. */
		(res.items || []).forEach(function (x) {
			if (!Y.may(x.level, "operate")) {
				if (String(x.id) === S.preset.task)
					S.refused = t("logs.needOperate",
					    { name: x.name });
				return;
			}
			$("l-task").appendChild(el("option", { value: String(x.id),
			    text: x.name + " @ " + x.node_name }));
		});
		if (S.preset.task)
			$("l-task").value = S.preset.task;
		["l-task", "l-lines", "l-follow"].forEach(function (id) {
			$(id).addEventListener("change", function () {
				if (id === "l-task")
					resetFiles();
				start();
			});
		});
		$("l-file").addEventListener("change", start);
		$("controls").addEventListener("submit", function (ev) {
			ev.preventDefault();
			start();
		});
		$("l-download").addEventListener("click", download);
		window.addEventListener("beforeunload", function () {
			S.gen++;
		});
		/* Asked for a task whose logs this user may not read: say so,
		 * rather than showing another task's. */
		if (S.refused) {
			Y.banner($("banner"), "warning", S.refused);
			setState("done", "");
			return;
		}
		start();
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
				$("l-q").value = text;
				start();
			} })));
	}

	function resetFiles() {
		var f = $("l-file");

		Y.clear(f);
		f.appendChild(el("option", { value: "stdout", text: "stdout" }));
	}

	/* Keep the file list the agent reported, selecting `want`. */
	function setFiles(files, want) {
		var f = $("l-file");

		if (!Array.isArray(files) || files.length === 0)
			return;
		Y.clear(f);
		files.forEach(function (name) {
			f.appendChild(el("option", { value: name, text: name }));
		});
		f.value = files.indexOf(want) >= 0 ? want : "stdout";
	}

	function setState(state, text) {
		$("log-output").dataset.state = state;
		$("log-status").textContent = text || "";
	}

	function now() {
		return new Date().toLocaleTimeString();
	}

	function show(text, append) {
		var out = $("log-output");
		var atEnd = out.scrollTop + out.clientHeight >=
		    out.scrollHeight - 8;
		var all = append ? out.textContent + text : text;

		if (all.length > MAX_CHARS)
			all = all.slice(all.length - MAX_CHARS);
		out.textContent = all;
		/* Stay at the bottom unless the reader scrolled up. */
		if (atEnd || !append)
			out.scrollTop = out.scrollHeight;
	}

	function params() {
		return {
			task: $("l-task").value,
			file: $("l-file").value || S.preset.file || "stdout",
			lines: $("l-lines").value,
			q: $("l-q").value.trim(),
			follow: $("l-follow").checked
		};
	}

	function sleep(ms) {
		return new Promise(function (r) {
			setTimeout(r, ms);
		});
	}

	async function start() {
		var gen = ++S.gen, p = params(), res, seq, path, rid;

		Y.banner($("banner"));
		if (!p.task) {
			show("");
			setState("done", t("logs.noTask"));
			return;
		}
		path = "/tasks/" + p.task + "/logs";
		/* A search is a one-off; following shows new lines as well. */
		var follow = p.follow && p.q === "";
		setState("loading", "…");
		try {
			res = await Y.api("GET", path + Y.qs({ file: p.file,
			    lines: p.lines, q: p.q || undefined,
			    follow: follow ? 1 : undefined }));
		} catch (err) {
			if (gen !== S.gen)
				return;
			setState("error", "");
			Y.banner($("banner"), "error", Y.errorText(err));
			return;
		}
		if (gen !== S.gen)
			return;
		S.preset.file = undefined;
		setFiles(res.files, p.file);
		show(res.text, false);
		var note = p.q !== "" ? t("logs.matches", { n: res.matches || 0,
		    shown: res.text === "" ? 0 : res.text.split("\n").length - 1 }) :
		    t("logs.loaded", { n: p.lines, time: now() });
		if (res.truncated)
			note += " · " + t("logs.truncated");
		if (!follow || !res.request) {
			setState("done", res.text === "" && p.q === "" ?
			    t("logs.empty") : note);
			return;
		}
		setState("following", t("logs.following", { time: now() }));
		seq = res.seq === null ? -1 : res.seq;
		rid = res.request;
		for (;;) {
			try {
				res = await Y.api("GET", path + Y.qs({
				    request: rid, after: seq }));
			} catch (err) {
				if (gen !== S.gen)
					return;
				setState("error", t("logs.restarting"));
				await sleep(2000);
				if (gen === S.gen)
					start();
				return;
			}
			if (gen !== S.gen)
				return;
			if (res.text)
				show(res.text, true);
			if (res.seq !== null && res.seq !== undefined)
				seq = res.seq;
			setState("following", t("logs.following", { time: now() }));
			if (res.ended) {
				setState("loading", t("logs.restarting"));
				await sleep(1000);
				if (gen === S.gen)
					start();
				return;
			}
		}
	}

	async function download() {
		var p = params(), r, a, url;

		if (!p.task)
			return;
		Y.banner($("banner"));
		try {
			r = await Y.request("GET", "/tasks/" + p.task + "/logs" +
			    Y.qs({ file: p.file, download: 1 }), undefined, true);
		} catch (err) {
			Y.banner($("banner"), "error", Y.errorText(err));
			return;
		}
		url = URL.createObjectURL(new Blob([r.text],
		    { type: "text/plain;charset=utf-8" }));
		a = el("a", { href: url, download: "task-" + p.task + "-" +
		    p.file.replace(/[^A-Za-z0-9._-]+/g, "_") + ".log" });
		document.body.appendChild(a);
		a.click();
		a.remove();
		setTimeout(function () {
			URL.revokeObjectURL(url);
		}, 10000);
	}
})();
