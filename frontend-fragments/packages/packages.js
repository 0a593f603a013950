/*
 * Yard "packages" module page: the update packages the user may see
 * (uploaded through EWS and checked by Yard), searchable by name and paged;
 * a package's details on the same page (?package=ID, or the deep link
 * /ui/packages/ID of notifications and e-mails): its metadata, the
 * checks' verdict, its files as a tree read one directory at a time
 * (GET /packages/ID/manifest?path=, paged, so a package of 100,000 entries
 * never arrives at once), and the files added, changed and removed
 * against what its task has deployed (GET /packages/ID/diff?task_id=T)
 * or since the previous package of the same target (GET
 * /packages/ID/diff), paged.  Attach to task (for whoever manages some
 * task) picks one of the tasks the user manages, the package's own first,
 * and opens the Tasks page's deploy dialog with the package picked
 * (tasks?deploy=ID&task=T, through EWS when framed).
 *
 * Test hooks: tr[data-package-id][data-package-name], #pkg-search,
 * #load-more, tr.empty-row[data-empty]; #package-detail[data-package-id]
 * [data-state=none|loading|ready|error] with #detail-verdict[data-verdict],
 * [data-fact=<key>], #attach-wrap[data-state=loading|ready] >
 * button[data-action=attach],
 * dialog#attach-dialog with select#attach-task and
 * [data-action=attach-confirm|attach-cancel], [data-action=close];
 * #detail-tree[data-state] with
 * li[data-path][data-dir] (directories: button[data-action=toggle]
 * [aria-expanded], files: [data-sha256], button[data-action=copy-sha]),
 * button[data-action=more] to page a directory; #detail-diff[data-state]
 * [data-against][data-basis=deployed|previous] with #diff-basis,
 * button[data-basis][aria-pressed] (packages of a task),
 * [data-count=added|changed|removed],
 * tr[data-change][data-path], #diff-more.
 */
(function () {
	"use strict";

	var Y = window.Yard;
	var t = Y.t;
	var el = Y.el;
	var PAGE = 50;
	var DIR_PAGE = 500;
	var DIFF_PAGE = 200;

	var S = {
		q: "",
		items: [],
		next: null,
		seq: 0,
		open: null,	/* the package shown, or null */
		openSeq: 0,
		basis: "deployed",	/* the diff's: deployed | previous */
		diffSeq: 0,
		managed: null	/* a promise of the tasks the caller manages */
	};

	function $(id) {
		return document.getElementById(id);
	}

	Y.onReady(init);

	function init() {
		var m = /^\/ui\/packages\/([0-9]{1,18})$/.exec(location.pathname);
		var p = new URLSearchParams(location.search);
		var id = m ? m[1] : p.get("package");
		var timer = null;

		$("pkg-search").addEventListener("input", function (ev) {
			clearTimeout(timer);
			timer = setTimeout(function () {
				S.q = ev.target.value.trim();
				load(false);
			}, 200);
		});
		$("load-more").addEventListener("click", function () {
			load(true);
		});
		load(false);
		if (id && /^[0-9]{1,18}$/.test(id))
			openPackage(Number(id));
	}

	/* ---- formatting ------------------------------------------------------ */

	var bytes = Y.bytes;

	function count(n) {
		return typeof n === "number" ? n.toLocaleString(Y.lang) :
		    t("common.none");
	}

	function targetText(p) {
		var tg = p.target || {};

		if (tg.task_id)
			return (p.task_name || "#" + tg.task_id) +
			    (p.node_name ? " (" + p.node_name + ")" : "");
		if (tg.node_id)
			return t("packages.target.node", {
			    name: p.node_name || "#" + tg.node_id });
		return t("packages.target.none");
	}

	function uploader(p) {
		return p.uploader_name || p.uploader_sub || t("common.none");
	}

	/* ---- the list -------------------------------------------------------- */

	async function load(more) {
		var seq = ++S.seq, res;

		try {
			res = await Y.api("GET", "/packages" + Y.qs({ q: S.q,
			    order: "newest", limit: PAGE,
			    cursor: more ? S.next : "" }));
		} catch (err) {
			if (seq !== S.seq)
				return;
			/* A refused search next to its box, in the page's
			 * words; the list stays as it was. */
			if (err.fields) {
				Y.showFieldErrors($("pkg-search").parentNode, err);
				return;
			}
			Y.banner($("banner"), "error", Y.errorText(err));
			Y.setPageState(err.status === 403 ? "forbidden" : "error");
			return;
		}
		if (seq !== S.seq)
			return;
		Y.clearFieldErrors($("pkg-search").parentNode);
		S.items = more ? S.items.concat(res.items || []) :
		    (res.items || []);
		S.next = res.next || null;
		render();
		Y.setPageState("ready");
	}

	function render() {
		var body = $("packages-body");
		var rows = S.items;

		Y.clear(body);
		if (rows.length === 0) {
			body.appendChild(el("tr", { class: "empty-row",
			    dataset: { empty: S.q ? "filtered" : "none" } },
			    el("td", { colspan: "7", class: "muted",
			    text: t(S.q ? "packages.empty.filtered" :
			    "packages.empty") })));
		}
		rows.forEach(function (p) {
			var tr = el("tr", { dataset: { packageId: p.id,
			    packageName: p.name }, class: S.open &&
			    S.open.id === p.id ? "is-selected" : null },
			    el("td", null, el("button", { type: "button",
			    class: "btn btn--link", dataset: { action: "open" },
			    text: p.name, title: p.filename || p.name,
			    onclick: function () {
				    openPackage(p.id);
			    } })),
			    el("td", { text: p.version || t("common.none") }),
			    el("td", { text: targetText(p) }),
			    el("td", { text: bytes(p.size) }),
			    el("td", { text: count(p.entries) }),
			    el("td", { text: uploader(p),
			    title: p.uploader_sub || "" }),
			    el("td", { text: Y.formatTime(p.created_at),
			    title: Y.formatTimeFull(p.created_at) }));
			body.appendChild(tr);
		});
		$("packages-count").textContent = t(S.next ?
		    "common.shownMore" : "common.shown", { n: rows.length });
		$("load-more").hidden = !S.next;
	}

	/* ---- the URL --------------------------------------------------------- */

	function setUrl(id) {
		var p = new URLSearchParams(location.search);
		var q;

		if (id !== null)
			p.set("package", id);
		else
			p.delete("package");
		q = p.toString();
		history.replaceState(history.state, "", "/ui/packages" +
		    (q !== "" ? "?" + q : ""));
	}

	/* ---- the detail ------------------------------------------------------ */

	async function openPackage(id) {
		var box = $("package-detail"), seq = ++S.openSeq, p;

		box.hidden = false;
		box.dataset.packageId = String(id);
		box.dataset.state = "loading";
		Y.clear(box);
		box.appendChild(el("div", { class: "panel__body loading",
		    text: t("common.loading") }));
		setUrl(id);
		try {
			p = await Y.api("GET", "/packages/" + id);
		} catch (err) {
			if (seq !== S.openSeq)
				return;
			Y.clear(box);
			box.dataset.state = "error";
			box.appendChild(el("div", { class: "panel__body" },
			    el("p", { text: err.status === 404 ?
			    t("packages.detail.notFound") :
			    Y.errorText(err) }),
			    closeButton()));
			return;
		}
		if (seq !== S.openSeq)
			return;
		S.open = p;
		renderDetail(p);
		render();
		box.dataset.state = "ready";
		if (box.scrollIntoView)
			box.scrollIntoView({ block: "start" });
	}

	function closeButton() {
		return el("button", { type: "button", class: "btn btn--small",
		    dataset: { action: "close" }, text: t("common.close"),
		    onclick: closeDetail });
	}

	function closeDetail() {
		var box = $("package-detail");

		S.open = null;
		S.openSeq++;
		box.hidden = true;
		box.dataset.state = "none";
		Y.clear(box);
		setUrl(null);
		render();
	}

	function fact(key, label, value, title) {
		return el("div", { class: "facts__item", dataset: { fact: key } },
		    el("dt", { class: "facts__term", text: label }),
		    el("dd", { class: "facts__value", text: value,
		    title: title || null }));
	}

	/* The tasks the caller manages (Attach offers them), asked once. */
	function managedTasks() {
		if (S.managed === null)
			S.managed = Y.api("GET", "/tasks" + Y.qs({ limit: 200 }))
			    .then(function (res) {
				return (res.items || []).filter(function (x) {
					return Y.may(x.level, "manage");
				});
			}, function () {
				S.managed = null;
				return [];
			});
		return S.managed;
	}

	/*
	 * Attach to task: shown to whoever manages some task (the server
	 * checks the deploy itself); filled in once the tasks are known.
	 */
	function attachControl(p) {
		var wrap = el("span", { id: "attach-wrap", hidden: true,
		    dataset: { state: "loading" } });

		managedTasks().then(function (tasks) {
			wrap.dataset.state = "ready";
			if (!S.open || S.open.id !== p.id || tasks.length === 0)
				return;
			wrap.appendChild(el("button", { type: "button",
			    class: "btn btn--primary",
			    dataset: { action: "attach" },
			    text: t("packages.attach"), onclick: function (ev) {
				    attach(p, tasks, ev.currentTarget);
			    } }));
			wrap.hidden = false;
		});
		return wrap;
	}

	/* Pick a task, then the Tasks page's deploy dialog takes over. */
	function attach(p, tasks, anchor) {
		var tg = p.target || {};
		var sel = el("select", { id: "attach-task" });
		var close;
		var sorted = tasks.slice().sort(function (a, b) {
			return (b.id === tg.task_id) - (a.id === tg.task_id) ||
			    (b.node_id === tg.node_id) - (a.node_id === tg.node_id) ||
			    a.name.localeCompare(b.name);
		});

		sorted.forEach(function (x) {
			sel.appendChild(el("option", { value: String(x.id),
			    text: x.name + " @ " + x.node_name +
				(x.id === tg.task_id ? " — " +
				t("packages.attach.own") : "") }));
		});
		close = Y.dialog(el("dialog", { id: "attach-dialog",
		    class: "yard-dialog", "aria-labelledby": "attach-title" },
		    el("div", { class: "yard-dialog__body stack" },
			el("div", { id: "attach-title",
			    class: "yard-dialog__title",
			    text: t("packages.attach.title", { name: p.name +
				(p.version ? " · " + p.version : "") }) }),
			el("label", { class: "field__label", for: "attach-task",
			    text: t("packages.attach.task") }),
			sel,
			el("p", { class: "muted",
			    text: t("packages.attach.hint") })),
		    el("div", { class: "yard-dialog__actions" },
			el("button", { type: "button", class: "btn",
			    dataset: { action: "attach-cancel" },
			    text: t("common.cancel"), onclick: function () {
				    close();
			    } }),
			el("button", { type: "button", class: "btn btn--primary",
			    dataset: { action: "attach-confirm" },
			    text: t("packages.attach.go"), onclick: function () {
				    var task = sel.value;

				    close();
				    Y.navigate("tasks", { deploy: p.id,
					task: task });
			    } }))), anchor);
		sel.focus();
	}

	function renderDetail(p) {
		var box = $("package-detail");

		Y.clear(box);
		box.appendChild(el("div", { class: "panel__head" },
		    el("h2", { id: "detail-name", text: p.name +
		    (p.version ? " · " + p.version : "") }),
		    el("div", { class: "toolbar" }, attachControl(p),
		    closeButton())));
		box.appendChild(el("div", { class: "panel__section" },
		    el("p", null, el("span", { id: "detail-verdict",
		    class: "badge badge--success",
		    dataset: { verdict: "accepted" },
		    text: t("packages.verdict.accepted") }),
		    el("span", { class: "muted", text: " " +
		    t("packages.verdict.hint") })),
		    el("dl", { class: "facts" },
		    fact("target", t("packages.col.target"), targetText(p)),
		    fact("size", t("packages.col.size"), bytes(p.size),
		    count(p.size) + " B"),
		    fact("entries", t("packages.col.entries"),
		    count(p.entries)),
		    fact("filename", t("packages.fact.filename"),
		    p.filename || t("common.none")),
		    fact("uploaded_by", t("packages.col.by"), uploader(p),
		    p.uploader_sub),
		    fact("created_at", t("packages.col.at"),
		    Y.formatTimeFull(p.created_at)),
		    fact("sha256", "SHA-256", p.sha256)),
		    p.notes ? el("div", { class: "pkg-notes-block",
		    dataset: { fact: "notes" } },
		    el("div", { class: "facts__term",
		    text: t("packages.fact.notes") }),
		    el("p", { class: "pkg-notes", text: p.notes })) : null));
		box.appendChild(el("div", { class: "panel__section" },
		    el("h3", { class: "section-title",
		    text: t("packages.files") }),
		    el("ul", { id: "detail-tree", class: "pkg-tree",
		    role: "tree", dataset: { state: "loading" } })));
		box.appendChild(el("div", { class: "panel__section",
		    id: "detail-diff", dataset: { state: "loading" } }));
		loadDir(p.id, "", $("detail-tree"), "");
		S.basis = p.target && p.target.task_id ? "deployed" : "previous";
		startDiff(p);
	}

	/* The diff from its start, on the basis chosen. */
	function startDiff(p) {
		var box = $("detail-diff");

		S.diffSeq++;
		Y.clear(box);
		box.dataset.state = "loading";
		box.dataset.basis = S.basis;
		box.appendChild(el("h3", { class: "section-title",
		    text: t("packages.diff") }));
		if (p.target && p.target.task_id)
			box.appendChild(el("div", { class: "segmented",
			    id: "diff-basis-pick", role: "group",
			    "aria-label": t("packages.diff.basis") },
			    ["deployed", "previous"].map(function (b) {
				    return el("button", { type: "button",
					class: "btn btn--small",
					dataset: { basis: b },
					"aria-pressed": S.basis === b ? "true" :
					    "false",
					text: t("packages.diff.basis." + b),
					onclick: function () {
						if (S.basis === b)
							return;
						S.basis = b;
						startDiff(p);
					} });
			    })));
		loadDiff(p, "");
	}

	/* ---- the file tree: one directory at a time, paged ------------------- */

	async function loadDir(id, path, list, cursor) {
		var res, more;

		try {
			res = await Y.api("GET", "/packages/" + id + "/manifest" +
			    Y.qs({ path: path, cursor: cursor,
			    limit: DIR_PAGE }));
		} catch (err) {
			list.appendChild(el("li", { class: "muted",
			    text: Y.errorText(err) }));
			list.dataset.state = "error";
			return;
		}
		if (!S.open || S.open.id !== id)
			return;
		more = list.querySelector(":scope > li[data-more]");
		if (more)
			list.removeChild(more);
		if (!cursor && res.items.length === 0)
			list.appendChild(el("li", { class: "muted",
			    text: t("packages.files.empty") }));
		res.items.forEach(function (e) {
			list.appendChild(e.dir ? dirItem(id, path, e) :
			    fileItem(path, e));
		});
		if (res.next) {
			list.appendChild(el("li", { dataset: { more: "1" } },
			    el("button", { type: "button",
			    class: "btn btn--small", dataset: { action: "more" },
			    text: t("common.loadMore"), onclick: function () {
				    loadDir(id, path, list, res.next);
			    } })));
		}
		list.dataset.state = "ready";
	}

	function join(dir, name) {
		return dir === "" ? name : dir + "/" + name;
	}

	function dirItem(id, dir, e) {
		var path = join(dir, e.name);
		var sub = el("ul", { role: "group", hidden: true });
		var btn = el("button", { type: "button",
		    class: "pkg-tree__toggle pkg-tree__name",
		    dataset: { action: "toggle" }, "aria-expanded": "false",
		    text: e.name + "/", title: path });
		var loaded = false;

		btn.addEventListener("click", function () {
			var open = btn.getAttribute("aria-expanded") !== "true";

			btn.setAttribute("aria-expanded", open ? "true" : "false");
			sub.hidden = !open;
			if (open && !loaded) {
				loaded = true;
				sub.dataset.state = "loading";
				loadDir(id, path, sub, "");
			}
		});
		return el("li", { role: "treeitem", dataset: { path: path,
		    dir: "1" } },
		    el("div", { class: "pkg-tree__row" }, btn,
		    el("span", { class: "pkg-tree__meta",
		    text: t(e.files === 1 ? "packages.files.dir1" :
		    "packages.files.dir", { n: count(e.files),
		    size: bytes(e.size) }) })), sub);
	}

	function fileItem(dir, e) {
		var path = join(dir, e.name);

		return el("li", { role: "treeitem", dataset: { path: path,
		    dir: "0", sha256: e.sha256 } },
		    el("div", { class: "pkg-tree__row" },
		    el("span", { class: "pkg-tree__file pkg-tree__name",
		    text: e.name, title: path + "\nSHA-256 " + e.sha256 }),
		    el("span", { class: "pkg-tree__meta", text: bytes(e.size),
		    title: count(e.size) + " B" }),
		    el("button", { type: "button",
		    class: "btn btn--link btn--small",
		    dataset: { action: "copy-sha" }, title: e.sha256,
		    text: t("packages.copySha"), onclick: function (ev) {
			    copy(e.sha256, ev.currentTarget);
		    } })));
	}

	async function copy(text, btn) {
		var ok = false;

		try {
			if (navigator.clipboard && window.isSecureContext) {
				await navigator.clipboard.writeText(text);
				ok = true;
			}
		} catch (e) {
			ok = false;
		}
		btn.dataset.copied = ok ? "true" : "false";
		/* Framed without clipboard-write, or plain HTTP: the hash stays
		 * in the title, to select by hand. */
		btn.textContent = t(ok ? "common.copied" :
		    "packages.copyFailed");
	}

	/* ---- the diff -------------------------------------------------------- */

	/* What the diff compares with, in words. */
	function basisText(p, res, deployed) {
		var task = p.task_name || "#" + (p.target || {}).task_id;
		var name = res.against ? res.against.name +
		    (res.against.version ? " · " + res.against.version : "") :
		    "";

		if (deployed)
			return res.against ? t("packages.diff.basis.live",
			    { task: task, name: name }) :
			    t("packages.diff.notDeployed", { task: task });
		return res.against ? t(p.target && p.target.task_id ?
		    "packages.diff.basis.task" : "packages.diff.basis.node", {
		    name: name, at: Y.formatTimeFull(res.against.created_at) }) :
		    t("packages.diff.none");
	}

	async function loadDiff(p, cursor) {
		var box = $("detail-diff"), res, table, body, seq = S.diffSeq;
		var deployed = S.basis === "deployed";

		try {
			res = await Y.api("GET", "/packages/" + p.id + "/diff" +
			    Y.qs({ task_id: deployed ? p.target.task_id : null,
			    cursor: cursor, limit: DIFF_PAGE }));
		} catch (err) {
			if (seq !== S.diffSeq)
				return;
			if (deployed && err.status === 404 &&
			    err.code === "not_deployed" && !cursor) {
				res = { against: null, counts: null, items: [],
				    next: null };
			} else {
				box.appendChild(el("p", { class: "muted",
				    text: Y.errorText(err) }));
				box.dataset.state = "error";
				return;
			}
		}
		if (!S.open || S.open.id !== p.id || seq !== S.diffSeq)
			return;
		if (!cursor) {
			box.dataset.against = res.against ?
			    String(res.against.id) : "";
			box.appendChild(el("p", { id: "diff-basis",
			    class: "muted", text: basisText(p, res, deployed) }));
			/* Nothing deployed: the answer lists every file as
			 * added; the file tree above shows them already. */
			if (!res.against) {
				box.dataset.state = "ready";
				return;
			}
			box.appendChild(el("div", { class: "pkg-counts" },
			    ["added", "changed", "removed", "unchanged"].map(
			    function (k) {
				    if (!res.counts ||
					typeof res.counts[k] !== "number")
					    return null;
				    return el("span", { class: "badge " + ({
					added: "badge--success",
					changed: "badge--warning",
					removed: "badge--danger",
					unchanged: "" })[k],
					dataset: { count: k, n: res.counts[k] },
					text: t("packages.diff." + k,
					{ n: count(res.counts[k]) }) });
			    })));
			table = el("table", { class: "yard-table",
			    id: "diff-table" },
			    el("thead", null, el("tr", null,
			    el("th", { scope: "col",
			    text: t("packages.diff.col.change") }),
			    el("th", { scope: "col",
			    text: t("packages.diff.col.path") }),
			    el("th", { scope: "col",
			    text: t("packages.diff.col.size") }))),
			    el("tbody", { id: "diff-body" }));
			box.appendChild(el("div", { class: "table-wrap" }, table));
			box.appendChild(el("button", { type: "button",
			    id: "diff-more", class: "btn btn--small",
			    text: t("common.loadMore"), hidden: true }));
		}
		body = $("diff-body");
		res.items.forEach(function (d) {
			body.appendChild(Y.diffRow(d, "pkg-diff__path"));
		});
		if (res.items.length === 0 && !cursor)
			body.appendChild(el("tr", { class: "empty-row" },
			    el("td", { colspan: "3", class: "muted",
			    text: t("packages.diff.same") })));
		$("diff-more").hidden = !res.next;
		$("diff-more").onclick = res.next ? function () {
			$("diff-more").hidden = true;
			loadDiff(p, res.next);
		} : null;
		box.dataset.state = "ready";
	}
})();
