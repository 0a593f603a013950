/*
 * Yard logs view (shared by the Logs page, logs/logs.js, and a task's
 * own page, the Logs tab of tasks/task.js): one task's captured output
 * or one of its log files, read live from its node.  Last N lines,
 * download, and a follow that appends new lines as they come (a
 * long-poll per chunk; the server answers within ~0.3 s of a write).
 * Switching file or lines starts afresh.  Reading logs needs operate on
 * the task; the API enforces it, the pages offer only such tasks.
 *
 * Each line shows its number (counted from the first line read) and,
 * when it carries no time of its own, the time the server received it
 * (the "at" of the answer that brought it); both are attributes drawn by
 * CSS, so a copy of the text does not take them along.  Typing in the
 * search box highlights the hits in the lines read (<mark>); Enter and
 * Shift-Enter jump to the next and previous hit; "context" shows only the
 * hit lines with N lines around them.  "Search on node" asks the agent
 * for the matching lines of the whole file instead.  Wrap and pause are
 * toggles (aria-pressed); while paused, new lines wait and the follow
 * goes on; resume shows them.  The view is resizable (its handle, or the
 * arrow keys on it) and keeps its height per user.  At most DOM_LINES
 * lines are in the page at once ("earlier"/"newer" buttons page on), so
 * multi-MB logs stay smooth.
 *
 * YardLogView.build(box, {picker}) fills box with the view's controls
 * and output (with the Logs page's task picker #l-task when picker is
 * set); YardLogView.mount(box, opts) runs it: opts.task() the task id
 * (a string), opts.banner where errors show, opts.file a file to open
 * first.  It answers {start, stop, taskChanged, searchNode, setState}:
 * stop() ends the follow (no further request is made; one in flight is
 * left to end, within the server's 20 s) and start() begins afresh.
 * One view per page: its parts carry fixed ids.
 *
 * Test hooks: #l-task, #l-file, #l-lines, #l-q, #l-follow, #l-download,
 * #l-search, #l-prev, #l-next, #l-hits, #l-context, #l-wrap, #l-pause,
 * #l-earlier, #l-later, #l-handle, #log-output (data-state = loading |
 * following | paused | done | error | stopped; data-lines: lines read)
 * with .log-line[data-n][data-time] children (a stderr line also
 * .log-line--stderr[data-stream=stderr] with span.log-stream) and
 * mark.log-hit (current:
 * .log-hit--current), #log-status.
 */
(function () {
	"use strict";

	var Y = window.Yard;
	var t = Y.t;
	var el = Y.el;
	var MAX_LINES = 200000; /* kept in memory; the oldest go first */
	var DOM_LINES = 1000; /* in the page at once */
	var MIN_H = 120, MAX_H = 4000;
	/* A line that starts with a time of its own ("2026-12-02 19:40",
	 * "[19:40:01]", "Dec  2 19:40:01"). */
	var OWN_TIME = /^\s*[[(]?(\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}|\d{2}:\d{2}:\d{2}|[A-Z][a-z]{2} [ \d]\d \d{2}:\d{2})/;

	function storeKey(what) {
		var me = Y.me || {};
		return "yard.logs." + what + "." + (me.sub || me.id || "");
	}

	function load(what) {
		try {
			return window.localStorage.getItem(storeKey(what));
		} catch (e) {
			return null;
		}
	}

	function save(what, v) {
		try {
			window.localStorage.setItem(storeKey(what), String(v));
		} catch (e) {
			/* no storage: the setting lasts as long as the page */
		}
	}

	/* ---- the view's parts ------------------------------------------------ */

	function label(forId, key) {
		return el("label", { for: forId, dataset: { i18n: key } });
	}

	function button(id, key, attrs) {
		return el("button", Object.assign({ id: id, type: "button",
		    class: "btn btn--small", dataset: { i18n: key } }, attrs));
	}

	/* The controls and the output, into box (strings from i18n.js). */
	function build(box, o) {
		var controls, search, lines, context;

		o = o || {};
		controls = el("form", { id: "controls", class: "toolbar",
		    autocomplete: "off" });
		if (o.picker) {
			controls.appendChild(label("l-task", "logs.task"));
			controls.appendChild(el("select", { id: "l-task",
			    name: "task" }, el("option", { value: "",
				dataset: { i18n: "logs.pickTask" } })));
		}
		lines = el("select", { id: "l-lines", name: "lines" });
		[100, 200, 500, 1000, 5000].forEach(function (n) {
			lines.appendChild(el("option", { value: String(n),
			    text: String(n), selected: n === 200 }));
		});
		controls.appendChild(label("l-file", "logs.file"));
		controls.appendChild(el("select", { id: "l-file", name: "file" },
		    el("option", { value: "stdout", text: "stdout" })));
		controls.appendChild(label("l-lines", "logs.lines"));
		controls.appendChild(lines);
		controls.appendChild(el("label", { class: "field--check" },
		    el("input", { id: "l-follow", type: "checkbox",
			name: "follow", checked: true }), " ",
		    el("span", { dataset: { i18n: "logs.follow" } })));
		controls.appendChild(button("l-download", "logs.download",
		    { dataset: { action: "download", i18n: "logs.download" } }));

		context = el("select", { id: "l-context" });
		["all", "0", "2", "5", "10"].forEach(function (v) {
			context.appendChild(el("option", { value: v,
			    selected: v === "all",
			    dataset: { i18n: "logs.context." + v } }));
		});
		search = el("div", { class: "toolbar", role: "search" },
		    el("label", { class: "visually-hidden", for: "l-q",
			dataset: { i18n: "logs.search" } }),
		    el("input", { id: "l-q", type: "search", name: "q",
			maxlength: "200", form: "controls",
			"aria-describedby": "l-q-hint",
			dataset: { i18nPlaceholder: "logs.searchPlaceholder" } }),
		    el("span", { id: "l-q-hint", class: "visually-hidden",
			dataset: { i18n: "logs.searchHint" } }),
		    button("l-prev", "logs.prevHit", { dataset: {
			action: "prev-hit", i18n: "logs.prevHit",
			i18nTitle: "logs.prevHit.title" } }),
		    button("l-next", "logs.nextHit", { dataset: {
			action: "next-hit", i18n: "logs.nextHit",
			i18nTitle: "logs.nextHit.title" } }),
		    el("span", { id: "l-hits", class: "muted",
			"aria-live": "polite" }),
		    label("l-context", "logs.context"),
		    context,
		    el("button", { id: "l-search", type: "submit",
			form: "controls", class: "btn btn--small",
			dataset: { i18n: "logs.searchNode",
			    i18nTitle: "logs.searchNode.title" } }),
		    button("l-wrap", "logs.wrap", { "aria-pressed": "false" }),
		    button("l-pause", "logs.pause", { "aria-pressed": "false" }));

		box.appendChild(el("div", { class: "panel__head" }, controls,
		    search));
		box.appendChild(el("div", { class: "panel__body stack" },
		    el("div", { id: "log-status", class: "muted",
			"aria-live": "polite" }),
		    el("button", { id: "l-earlier", type: "button",
			class: "btn btn--small btn--link", hidden: true }),
		    el("div", { id: "log-output", class: "command log-output",
			tabindex: "0", role: "log", "aria-live": "off",
			dataset: { i18nAriaLabel: "logs.output" } }),
		    el("button", { id: "l-later", type: "button",
			class: "btn btn--small btn--link", hidden: true }),
		    el("div", { id: "l-handle", class: "log-handle",
			role: "separator", "aria-orientation": "horizontal",
			tabindex: "0", "aria-controls": "log-output",
			dataset: { i18nAriaLabel: "logs.resize",
			    i18nTitle: "logs.resize.title" } })));
		lines.value = "200";
		context.value = "all";
		Y.applyI18n(box);
		return box;
	}

	/* ---- one view ---------------------------------------------------------- */

	function mount(root, opts) {
		/* gen: bumped on every change, so a stale loop stops. */
		var S = {
			gen: 0, preset: { file: opts.file }, nodeQ: "",
			lines: [],	/* {text, at, own} */
			first: 1,	/* the number of lines[0] */
			from: 0, to: 0,	/* lines[from..to) are in the page */
			pending: [],	/* arrived while paused */
			paused: false,
			q: "", hits: [], cur: -1,
			context: "all",
			rows: null,	/* context view: line indexes (-1: a gap) */
			stick: true	/* keep the newest line in view */
		};

		function $(id) {
			return root.querySelector("#" + id);
		}

		initView();
		["l-lines", "l-follow", "l-file"].forEach(function (id) {
			$(id).addEventListener("change", function () {
				S.nodeQ = "";
				start();
			});
		});
		/* The form's submit is "search on node". */
		$("controls").addEventListener("submit", function (ev) {
			ev.preventDefault();
			S.nodeQ = $("l-q").value.trim();
			start();
		});
		$("l-download").addEventListener("click", download);
		window.addEventListener("beforeunload", function () {
			S.gen++;
		});

		/* ---- the view's own controls ----------------------------------- */

		function initView() {
			var out = $("log-output"), q = $("l-q"), timer = 0, h;

			/* The reader scrolling up stops the view from following the
			 * end; back at the bottom, it follows again.  Scrolls the page
			 * makes itself (to the end) do not count. */
			out.addEventListener("scroll", function () {
				if (Date.now() - (S.autoAt || 0) < 150)
					return;
				S.stick = out.scrollTop + out.clientHeight >=
				    out.scrollHeight - 24;
			});

			q.addEventListener("input", function () {
				clearTimeout(timer);
				timer = setTimeout(function () {
					setQuery(q.value);
				}, 150);
			});
			/* Enter / Shift-Enter: next / previous hit (not the form). */
			q.addEventListener("keydown", function (ev) {
				if (ev.key !== "Enter")
					return;
				ev.preventDefault();
				clearTimeout(timer);
				setQuery(q.value);
				jump(ev.shiftKey ? -1 : 1);
			});
			$("l-next").addEventListener("click", function () {
				setQuery(q.value);
				jump(1);
			});
			$("l-prev").addEventListener("click", function () {
				setQuery(q.value);
				jump(-1);
			});
			$("l-context").addEventListener("change", function () {
				S.context = $("l-context").value;
				renderAll(false);
			});
			$("l-wrap").addEventListener("click", function () {
				setWrap($("l-wrap").getAttribute("aria-pressed") !== "true");
			});
			setWrap(load("wrap") === "1");
			$("l-pause").addEventListener("click", function () {
				setPaused(!S.paused);
			});
			$("l-earlier").addEventListener("click", function () {
				S.from = Math.max(0, S.from - DOM_LINES);
				renderAll(false);
				$("l-earlier").focus();
			});
			$("l-later").addEventListener("click", function () {
				S.to = Math.min(S.lines.length, S.to + DOM_LINES);
				S.from = Math.max(0, Math.min(S.from, S.to - DOM_LINES));
				renderAll(false);
				if (!$("l-later").hidden)
					$("l-later").focus();
				else
					out.focus();
			});

			/* Height: kept per user; the handle drags or takes arrows. */
			h = Number(load("height"));
			if (h >= MIN_H && h <= MAX_H) {
				setHeight(h);
			} else {
				$("l-handle").setAttribute("aria-valuenow",
				    String(out.offsetHeight));
				$("l-handle").setAttribute("aria-valuemin", String(MIN_H));
				$("l-handle").setAttribute("aria-valuemax", String(MAX_H));
			}
			initHandle();
			if (typeof ResizeObserver === "function")
				new ResizeObserver(function () {
					/* A CSS resize of the box itself counts too. */
					if (out.dataset.h !== String(out.offsetHeight) &&
					    out.style.height !== "")
						save("height", out.offsetHeight);
				}).observe(out);
		}

		function setHeight(px) {
			var out = $("log-output");

			px = Math.round(Math.max(MIN_H, Math.min(MAX_H, px)));
			out.style.height = px + "px";
			out.style.maxHeight = "none";
			out.dataset.h = String(px);
			$("l-handle").setAttribute("aria-valuenow", String(px));
			$("l-handle").setAttribute("aria-valuemin", String(MIN_H));
			$("l-handle").setAttribute("aria-valuemax", String(MAX_H));
			save("height", px);
		}

		function initHandle() {
			var hd = $("l-handle"), out = $("log-output"), drag = null;

			hd.addEventListener("keydown", function (ev) {
				var step = ev.shiftKey ? 200 : 40, h = out.offsetHeight;
				if (ev.key === "ArrowUp")
					setHeight(h - step);
				else if (ev.key === "ArrowDown")
					setHeight(h + step);
				else if (ev.key === "Home")
					setHeight(MIN_H);
				else if (ev.key === "End")
					setHeight(window.innerHeight * 0.9);
				else
					return;
				ev.preventDefault();
			});
			hd.addEventListener("pointerdown", function (ev) {
				drag = { y: ev.clientY, h: out.offsetHeight };
				hd.setPointerCapture(ev.pointerId);
				ev.preventDefault();
			});
			hd.addEventListener("pointermove", function (ev) {
				if (drag !== null)
					setHeight(drag.h + ev.clientY - drag.y);
			});
			["pointerup", "pointercancel"].forEach(function (k) {
				hd.addEventListener(k, function () {
					drag = null;
				});
			});
		}

		function setWrap(on) {
			$("l-wrap").setAttribute("aria-pressed", String(on));
			$("log-output").classList.toggle("log-output--wrap", on);
			save("wrap", on ? "1" : "0");
		}

		function setPaused(on) {
			var out = $("log-output");

			S.paused = on;
			$("l-pause").setAttribute("aria-pressed", String(on));
			$("l-pause").textContent = t(on ? "logs.resume" : "logs.pause");
			if (!on && S.pending.length > 0) {
				var more = S.pending;
				S.pending = [];
				addLines(more);
			}
			if (out.dataset.state === "following" || out.dataset.state ===
			    "paused")
				setState(on ? "paused" : "following", on ?
				    t("logs.paused", { n: S.pending.length }) :
				    t("logs.following", { time: now() }));
		}

		/* ---- lines -------------------------------------------------------- */

		/* UTF-8 bytes of s (the answer's stderr ranges count bytes). */
		function utf8Len(s) {
			var n = 0, i, c;

			for (i = 0; i < s.length; i++) {
				c = s.charCodeAt(i);
				if (c < 0x80)
					n += 1;
				else if (c < 0x800)
					n += 2;
				else if (c >= 0xd800 && c <= 0xdbff &&
				    i + 1 < s.length) {
					n += 4;
					i++;
				} else
					n += 3;
			}
			return n;
		}

		/*
		 * Text into lines stamped `at` (epoch ms; the server's
		 * receipt); err: the line holds a byte the task wrote to
		 * stderr (its newline included), from the answer's `stderr`
		 * byte ranges.
		 */
		function split(text, at, stderr) {
			var parts, out = [], pos = 0, r = 0;

			if (!text)
				return out;
			stderr = stderr || [];
			/* A chunk that ends a line half way continues the last one. */
			parts = text.split("\n");
			if (parts[parts.length - 1] === "")
				parts.pop();
			parts.forEach(function (s, k) {
				var end = pos + utf8Len(s) + 1;

				while (r < stderr.length && stderr[r][1] <= pos)
					r++;
				out.push({ text: s, at: at, own: OWN_TIME.test(s),
				    cont: k === 0 && S.open,
				    err: r < stderr.length && stderr[r][0] < end });
				pos = end;
			});
			S.open = text.charAt(text.length - 1) !== "\n";
			return out;
		}

		function clearLines() {
			S.lines = [];
			S.pending = [];
			S.first = 1;
			S.from = S.to = 0;
			S.open = false;
			S.hits = [];
			S.cur = -1;
		}

		/* New lines (a follow's chunk): append, and trim the oldest. */
		function addLines(add) {
			var atEnd = S.to === S.lines.length, out = $("log-output");
			var bottom = S.stick, drop;

			if (add.length === 0)
				return;
			/* A chunk that ended half way through a line: its rest. */
			add = add.filter(function (l) {
				if (!l.cont || S.lines.length === 0)
					return true;
				S.lines[S.lines.length - 1].text += l.text;
				S.lines[S.lines.length - 1].err =
				    S.lines[S.lines.length - 1].err || l.err;
				if (S.to === S.lines.length)
					S.dirty = true;
				return false;
			});
			Array.prototype.push.apply(S.lines, add);
			if (S.lines.length > MAX_LINES) {
				drop = S.lines.length - MAX_LINES;
				S.lines.splice(0, drop);
				S.first += drop;
				S.from = Math.max(0, S.from - drop);
				S.to = Math.max(0, S.to - drop);
			}
			$("log-output").dataset.lines = String(S.lines.length);
			findHits();
			if (!atEnd || S.rows !== null || S.dirty) {
				S.dirty = false;
				if (atEnd)
					S.to = S.lines.length;
				if (atEnd && S.to - S.from > DOM_LINES && bottom)
					S.from = S.to - DOM_LINES;
				renderAll(true);
				return;
			}
			/* The fast path: append the new ones, drop from the top. */
			var frag = document.createDocumentFragment(), i;
			for (i = S.to; i < S.lines.length; i++)
				frag.appendChild(lineNode(i));
			out.appendChild(frag);
			S.to = S.lines.length;
			if (bottom) {
				while (S.to - S.from > DOM_LINES && out.firstChild) {
					out.removeChild(out.firstChild);
					S.from++;
				}
				toEnd();
			}
			pager();
		}

		function toEnd() {
			var out = $("log-output");

			S.autoAt = Date.now();
			out.scrollTop = out.scrollHeight;
		}

		function fmtTime(ms) {
			var d = new Date(ms), p = function (n) {
				return (n < 10 ? "0" : "") + n;
			};

			return p(d.getHours()) + ":" + p(d.getMinutes()) + ":" +
			    p(d.getSeconds());
		}

		/*
		 * One line: number and time as attributes (CSS draws them);
		 * a line the task wrote to stderr is .log-line--stderr
		 * (data-stream) with a visible, translated label that a copy
		 * of the text leaves out.
		 */
		function lineNode(i) {
			var l = S.lines[i], n = el("div", { class: "log-line" +
			    (l.err ? " log-line--stderr" : ""),
			    dataset: { n: String(S.first + i) } });
			var low, ql, k = 0, j;

			if (!l.own && l.at)
				n.dataset.time = fmtTime(l.at);
			if (l.err) {
				n.dataset.stream = "stderr";
				n.appendChild(el("span", { class: "log-stream",
				    text: t("logs.stderr"),
				    title: t("logs.stderr.title") }));
			}
			if (S.q === "") {
				n.appendChild(document.createTextNode(l.text));
				return n;
			}
			low = l.text.toLowerCase();
			ql = S.q.toLowerCase();
			while ((j = low.indexOf(ql, k)) !== -1) {
				if (j > k)
					n.appendChild(document.createTextNode(
					    l.text.slice(k, j)));
				n.appendChild(el("mark", { class: "log-hit",
				    text: l.text.slice(j, j + ql.length) }));
				k = j + ql.length;
			}
			if (k < l.text.length)
				n.appendChild(document.createTextNode(l.text.slice(k)));
			return n;
		}

		/* The hit lines (indexes) of S.q among the lines read. */
		function findHits() {
			var ql = S.q.toLowerCase(), i;

			S.hits = [];
			if (ql === "")
				return;
			for (i = 0; i < S.lines.length; i++)
				if (S.lines[i].text.toLowerCase().indexOf(ql) !== -1)
					S.hits.push(i);
			if (S.cur >= S.hits.length)
				S.cur = S.hits.length - 1;
			hitsText();
		}

		function hitsText() {
			$("l-hits").textContent = S.q === "" ? "" :
			    S.hits.length === 0 ? t("logs.hits.none") :
			    t("logs.hits", { i: S.cur < 0 ? "–" : S.cur + 1,
				n: S.hits.length });
		}

		function setQuery(v) {
			v = v.trim();
			if (v === S.q)
				return;
			S.q = v;
			S.cur = -1;
			findHits();
			hitsText();
			renderAll(true);
		}

		/* Next (1) or previous (-1) hit, wrapping; it is brought into view. */
		function jump(dir) {
			var i, node;

			if (S.hits.length === 0) {
				hitsText();
				return;
			}
			S.cur = S.cur < 0 ? (dir > 0 ? 0 : S.hits.length - 1) :
			    (S.cur + dir + S.hits.length) % S.hits.length;
			i = S.hits[S.cur];
			if (S.rows === null && (i < S.from || i >= S.to)) {
				S.from = Math.max(0, i - DOM_LINES / 2);
				S.to = Math.min(S.lines.length, S.from + DOM_LINES);
				renderAll(false);
			} else if (S.rows !== null && S.rows.indexOf(i) === -1) {
				renderAll(false);
			}
			Array.prototype.forEach.call($("log-output").querySelectorAll(
			    ".log-hit--current"), function (m) {
				m.classList.remove("log-hit--current");
			});
			node = $("log-output").querySelector('.log-line[data-n="' +
			    (S.first + i) + '"] mark');
			if (node !== null) {
				node.classList.add("log-hit--current");
				S.stick = false;
				S.autoAt = Date.now();
				node.scrollIntoView({ block: "center" });
			}
			hitsText();
		}

		/*
		 * Rebuild the page's lines: lines[from..to), or, with a context
		 * chosen and a search typed, the hit lines and N around each (at
		 * most DOM_LINES rows, the newest), a gap marked between groups.
		 */
		function renderAll(keepPlace) {
			var out = $("log-output"), frag = document.createDocumentFragment();
			var n, rows, last = -2, i, j, top = out.scrollTop;
			var bottom = S.stick;

			S.rows = null;
			if (S.q !== "" && S.context !== "all") {
				n = Number(S.context);
				rows = [];
				S.hits.forEach(function (h) {
					for (j = Math.max(0, h - n, last + 1);
					    j <= Math.min(S.lines.length - 1, h + n); j++) {
						if (j > last + 1 && rows.length > 0)
							rows.push(-1);
						rows.push(j);
						last = j;
					}
				});
				if (rows.length > DOM_LINES)
					rows = rows.slice(rows.length - DOM_LINES);
				S.rows = rows.filter(function (x) {
					return x >= 0;
				});
				rows.forEach(function (x) {
					frag.appendChild(x < 0 ? el("div", {
					    class: "log-gap", text: "…" }) : lineNode(x));
				});
			} else {
				if (S.to > S.lines.length || S.to < S.from)
					S.to = S.lines.length;
				for (i = S.from; i < S.to; i++)
					frag.appendChild(lineNode(i));
			}
			Y.clear(out);
			out.appendChild(frag);
			if (bottom && S.to === S.lines.length && S.cur < 0)
				toEnd();
			else if (keepPlace) {
				S.autoAt = Date.now();
				out.scrollTop = top;
			}
			pager();
		}

		/* The "earlier" / "newer" buttons of the page's window. */
		function pager() {
			var e = $("l-earlier"), l = $("l-later"), ctx = S.rows !== null;

			e.hidden = ctx || S.from === 0;
			e.textContent = t("logs.earlier", { n: S.from });
			l.hidden = ctx || S.to >= S.lines.length;
			l.textContent = t("logs.later", { n: S.lines.length - S.to });
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

		/* HH:mm:ss, as the line times: no "PM" on a Chinese page. */
		function now() {
			return fmtTime(Date.now());
		}

		/* Start afresh with text (stamped at). */
		function show(text, at, stderr) {
			clearLines();
			S.lines = split(text, at, stderr);
			S.to = S.lines.length;
			S.from = Math.max(0, S.to - DOM_LINES);
			$("log-output").dataset.lines = String(S.lines.length);
			findHits();
			hitsText();
			S.stick = true;
			renderAll(false);
			toEnd();
		}

		function params() {
			return {
				task: opts.task(),
				file: $("l-file").value || S.preset.file || "stdout",
				lines: $("l-lines").value,
				q: S.nodeQ,
				follow: $("l-follow").checked
			};
		}

		function sleep(ms) {
			return new Promise(function (r) {
				setTimeout(r, ms);
			});
		}

		function followText() {
			return S.paused ? t("logs.paused", { n: S.pending.length }) :
			    t("logs.following", { time: now() });
		}

		async function start() {
			var gen = ++S.gen, p = params(), res, seq, path, rid, add;

			Y.banner(opts.banner);
			if (!p.task) {
				show("", 0);
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
				Y.banner(opts.banner, "error", Y.errorText(err));
				return;
			}
			if (gen !== S.gen)
				return;
			S.preset.file = undefined;
			setFiles(res.files, p.file);
			show(res.text, res.at || Date.now(), res.stderr);
			var note = p.q !== "" ? t("logs.matches", { n: res.matches || 0,
			    shown: S.lines.length }) :
			    t("logs.loaded", { n: p.lines, time: now() });
			if (res.truncated)
				note += " · " + t("logs.truncated");
			if (!follow || !res.request) {
				setState("done", res.text === "" && p.q === "" ?
				    t("logs.empty") : note);
				return;
			}
			setState(S.paused ? "paused" : "following", followText());
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
				if (res.text) {
					add = split(res.text, res.at || Date.now(),
					    res.stderr);
					if (S.paused)
						Array.prototype.push.apply(S.pending, add);
					else
						addLines(add);
				}
				if (res.seq !== null && res.seq !== undefined)
					seq = res.seq;
				setState(S.paused ? "paused" : "following", followText());
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
			Y.banner(opts.banner);
			try {
				r = await Y.request("GET", "/tasks/" + p.task + "/logs" +
				    Y.qs({ file: p.file, download: 1 }), undefined, true);
			} catch (err) {
				Y.banner(opts.banner, "error", Y.errorText(err));
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

		/* Leave the view: the follow (if any) makes no further request. */
		function stop() {
			var out = $("log-output");

			S.gen++;
			if (out.dataset.state === "following" ||
			    out.dataset.state === "paused" ||
			    out.dataset.state === "loading")
				setState("stopped", t("logs.stopped"));
		}

		return {
			start: start,
			stop: stop,
			/* Another task: its files, from stdout. */
			taskChanged: function () {
				resetFiles();
				S.nodeQ = "";
				start();
			},
			/* "Search on node" for text. */
			searchNode: function (text) {
				$("l-q").value = text;
				S.nodeQ = text;
				start();
			},
			setState: setState
		};
	}

	window.YardLogView = { build: build, mount: mount };
})();
