/*
 * Yard "tasks" module page, the releases part (loaded before tasks.js,
 * which drives it through window.YardReleases):
 *
 * - a task's Releases view under its row (GET /tasks/ID/releases): each
 *   release's number, package and version, state (live, good, bad, kept),
 *   when and by whom; two releases ticked show the files changed between
 *   their packages (GET /packages/A/diff?against=B); Roll back on a good
 *   or kept release that is not live (confirmed; POST rollback);
 * - the Deploy / Update dialog: pick a package (the task's own first,
 *   newest first, searchable), see what it changes against what the task
 *   runs (GET /packages/P/diff?task_id=T) and which paths stay as they are
 *   on the node (the spec's preserved and shared paths), adopt (deploy)
 *   or clean (update), then POST deploy when nothing is live, update
 *   otherwise;
 * - the Move dialog: a new deploy directory, checked in the page
 *   (absolute, no "..", another one, under the node's roots), POST move.
 *
 * Every action needs manage on the task; viewers and operators see the
 * list and its diff only.  The server checks every call regardless.
 *
 * Test hooks: tr[data-releases-of] > .releases[data-state] with
 * tr[data-release][data-release-state], input[data-action=select-release],
 * button[data-action=rollback|release-diff], #releases-diff-<task>
 * [data-state][data-from][data-to]; dialog#deploy-dialog[data-mode=deploy|
 * update][data-task-id] with #deploy-search, li[data-package-id]
 * (input[name=deploy-package]), #deploy-diff[data-state][data-against],
 * [data-count][data-n], tr[data-change][data-path], #deploy-kept
 * (li[data-preserved], li[data-shared]), #deploy-adopt, #deploy-clean,
 * #deploy-error, [data-action=deploy-confirm|deploy-cancel];
 * dialog#move-dialog with #move-current, #move-dir, #move-error,
 * [data-action=move-confirm|move-cancel].
 */
(function () {
	"use strict";

	var Y = window.Yard;
	var t = Y.t;
	var el = Y.el;
	var DIFF_PAGE = 200;
	var PICK_PAGE = 50;
	var RELEASE_TYPES = ["deploy", "update", "rollback", "move"];
	var ROLLBACK_FROM = ["good", "kept"];

	var C = {		/* hooks set by tasks.js */
		issued: function () {},
		banner: function () {},
		rootsError: function () {
			return null;
		},
		osFamily: function () {
			return "linux";
		}
	};
	var panels = {};	/* task id -> {task, node, items, sel, seq} */
	var D = null;		/* the open deploy dialog's state */

	function init(hooks) {
		Object.assign(C, hooks || {});
	}

	function isRelease(type) {
		return RELEASE_TYPES.indexOf(type) !== -1;
	}

	function mayManage(task) {
		return Y.may(task.level, "manage");
	}

	var bytes = Y.bytes;

	function pkgText(name, version) {
		if (!name)
			return t("tasks.rel.noPackage");
		return name + (version ? " · " + version : "");
	}

	var STATE_BADGE = { live: "badge--success", good: "badge--info",
	    bad: "badge--danger", kept: "" };

	function stateBadge(state) {
		return el("span", { class: "badge " + (STATE_BADGE[state] || ""),
		    dataset: { releaseBadge: state },
		    text: t("tasks.rel.state." + state) });
	}

	/* ---- a diff (counts and files), shared by both views ----------------- */

	/*
	 * Fill box with a diff answer (GET /packages/ID/diff): counts and the
	 * files, with Load more paging through path (the URL without cursor).
	 */
	async function showDiff(box, path, cursor, isCurrent) {
		var res, body, more, counts;

		if (!cursor) {
			Y.clear(box);
			box.dataset.state = "loading";
			box.appendChild(el("p", { class: "muted",
			    text: t("common.loading") }));
		}
		try {
			res = await Y.api("GET", path + (path.indexOf("?") === -1 ?
			    "?" : "&") + Y.qs({ cursor: cursor,
			    limit: DIFF_PAGE }).replace(/^\?/, ""));
		} catch (err) {
			if (!isCurrent())
				return null;
			if (!cursor)
				Y.clear(box);
			if (err.status === 404 && err.code === "not_deployed")
				return diffNothing(box);
			box.appendChild(el("p", { class: "field__error",
			    text: Y.errorText(err) }));
			box.dataset.state = "error";
			return null;
		}
		if (!isCurrent())
			return null;
		if (!cursor) {
			Y.clear(box);
			box.dataset.against = res.against ?
			    String(res.against.id) : "";
			counts = res.counts || countItems(res);
			box.appendChild(el("div", { class: "diff-counts" },
			    ["added", "changed", "removed", "unchanged"].map(
			    function (k) {
				    var n = counts[k];

				    if (typeof n !== "number")
					    return null;
				    return el("span", { class: "badge " + ({
					added: "badge--success",
					changed: "badge--warning",
					removed: "badge--danger",
					unchanged: "" })[k],
					dataset: { count: k, n: n },
					text: t("packages.diff." + k,
					    { n: n.toLocaleString(Y.lang) }) +
					    (res.counts || !res.next ? "" : "+") });
			    })));
			box.appendChild(el("div", { class: "table-wrap diff-scroll" },
			    el("table", { class: "yard-table" },
				el("thead", null, el("tr", null,
				    el("th", { scope: "col",
					text: t("packages.diff.col.change") }),
				    el("th", { scope: "col",
					text: t("packages.diff.col.path") }),
				    el("th", { scope: "col",
					text: t("packages.diff.col.size") }))),
				el("tbody", { dataset: { diffBody: "" } }))));
		}
		body = box.querySelector("[data-diff-body]");
		more = box.querySelector("[data-diff-more]");
		if (more)
			more.remove();
		(res.items || []).forEach(function (d) {
			body.appendChild(Y.diffRow(d, "mono-path"));
		});
		if (!cursor && (res.items || []).length === 0)
			body.appendChild(el("tr", { class: "empty-row" },
			    el("td", { colspan: "3", class: "muted",
				text: t("tasks.rel.diff.same") })));
		if (res.next)
			box.appendChild(el("button", { type: "button",
			    class: "btn btn--small", dataset: { diffMore: "" },
			    text: t("common.loadMore"), onclick: function () {
				    showDiff(box, path, res.next, isCurrent);
			    } }));
		box.dataset.state = "ready";
		return res;
	}

	/* Counts from the first page, when the answer carries none. */
	function countItems(res) {
		var c = { added: 0, changed: 0, removed: 0 };

		(res.items || []).forEach(function (d) {
			if (typeof c[d.change] === "number")
				c[d.change]++;
		});
		return c;
	}

	function diffNothing(box) {
		box.dataset.against = "";
		box.dataset.state = "ready";
		box.appendChild(el("p", { class: "muted",
		    text: t("tasks.rel.deploy.nothingLive") }));
		return { against: null, counts: null, items: [] };
	}

	/* ---- the Releases view ----------------------------------------------- */

	/*
	 * The releases view of a task: one element per task, kept across the
	 * list's refreshes (tasks.js puts it back under the row), so that
	 * ticked releases and an open diff survive.
	 */
	function panel(task) {
		var p = panels[task.id];

		if (!p) {
			p = panels[task.id] = { task: task, items: null, sel: [],
			    seq: 0, node: el("div", { class: "releases",
			    dataset: { state: "loading",
				taskId: String(task.id) } }) };
			refresh(task.id);
		}
		p.task = task;
		return p.node;
	}

	function forget(id) {
		delete panels[id];
	}

	async function refresh(id) {
		var p = panels[id], seq, res;

		if (!p)
			return;
		seq = ++p.seq;
		try {
			res = await Y.api("GET", "/tasks/" + id + "/releases" +
			    Y.qs({ limit: 200 }));
		} catch (err) {
			if (seq !== p.seq)
				return;
			p.error = Y.errorText(err);
			p.node.dataset.state = "error";
			renderPanel(p);
			return;
		}
		if (seq !== p.seq)
			return;
		p.error = null;
		p.items = res.items || [];
		p.sel = p.sel.filter(function (n) {
			return p.items.some(function (r) {
				return r.n === n;
			});
		});
		renderPanel(p);
		p.node.dataset.state = "ready";
	}

	function renderPanel(p) {
		var node = p.node, task = p.task, body, diffBtn, diffBox;
		var manage = mayManage(task);

		diffBox = node.querySelector(".releases__diff");
		Y.clear(node);
		diffBtn = el("button", { type: "button", class: "btn btn--small",
		    dataset: { action: "release-diff" },
		    text: t("tasks.rel.action.diff"), onclick: function () {
			    releaseDiff(p);
		    } });
		node.appendChild(el("div", { class: "releases__head" },
		    el("h3", { class: "section-title", text: t("tasks.rel.title",
			{ name: task.name }) }),
		    el("div", { class: "toolbar" },
			el("span", { class: "muted", text: t("tasks.rel.diff.hint") }),
			diffBtn)));
		if (p.error) {
			node.appendChild(el("p", { class: "field__error",
			    text: p.error }));
			diffBtn.disabled = true;
			return;
		}
		body = el("tbody");
		node.appendChild(el("div", { class: "table-wrap" },
		    el("table", { class: "yard-table" },
			el("thead", null, el("tr", null,
			    el("th", { scope: "col", text: t("tasks.rel.col.pick") }),
			    el("th", { scope: "col", text: t("tasks.rel.col.n") }),
			    el("th", { scope: "col", text: t("tasks.rel.col.package") }),
			    el("th", { scope: "col", text: t("tasks.rel.col.state") }),
			    el("th", { scope: "col", text: t("tasks.rel.col.at") }),
			    el("th", { scope: "col", text: t("tasks.rel.col.by") }),
			    el("th", { scope: "col", text: "" }))),
			body)));
		if (p.items.length === 0)
			body.appendChild(el("tr", { class: "empty-row" },
			    el("td", { colspan: "7", class: "empty",
				text: t("tasks.rel.empty") })));
		p.items.forEach(function (r) {
			var box = el("input", { type: "checkbox",
			    dataset: { action: "select-release" },
			    "aria-label": t("tasks.rel.pick", { n: r.n }),
			    checked: p.sel.indexOf(r.n) !== -1 });

			box.addEventListener("change", function () {
				var i = p.sel.indexOf(r.n);

				if (box.checked && i === -1)
					p.sel.push(r.n);
				else if (!box.checked && i !== -1)
					p.sel.splice(i, 1);
				/* Two at a time: the oldest pick goes. */
				while (p.sel.length > 2)
					p.sel.shift();
				node.querySelectorAll(
				    "input[data-action=select-release]")
				    .forEach(function (b) {
					b.checked = p.sel.indexOf(Number(
					    b.closest("tr").dataset.release)) !== -1;
				});
				diffState(p, diffBtn);
			});
			body.appendChild(el("tr", { dataset: { release: String(r.n),
			    releaseState: r.state, packageId: r.package_id ?
				String(r.package_id) : "" },
			    class: r.state === "live" ? "is-selected" : null },
			    el("td", null, box),
			    el("td", { class: "cell-num", text: String(r.n) }),
			    el("td", { text: pkgText(r.name, r.version),
				title: r.sha256 ? "SHA-256 " + r.sha256 : null }),
			    el("td", null, stateBadge(r.state)),
			    el("td", { text: Y.formatTime(r.deployed_at),
				title: Y.formatTimeFull(r.deployed_at) }),
			    el("td", { text: r.deployed_by_name ||
				r.deployed_by_sub || (r.deployed_by ?
				"#" + r.deployed_by : t("common.none")),
				title: r.deployed_by_sub || null }),
			    el("td", { class: "cell-actions" },
				manage && r.state !== "live" &&
				ROLLBACK_FROM.indexOf(r.state) !== -1 ?
				el("button", { type: "button",
				    class: "btn btn--small",
				    dataset: { action: "rollback" },
				    text: t("tasks.rel.action.rollback"),
				    onclick: function (ev) {
					    rollback(p, r, ev.currentTarget);
				    } }) : null)));
		});
		diffState(p, diffBtn);
		if (diffBox)
			node.appendChild(diffBox);
	}

	/* The two ticked releases, newer first, or a reason why not. */
	function diffPair(p) {
		var a, b;

		if (p.sel.length !== 2)
			return { why: t("tasks.rel.diff.pickTwo") };
		a = p.items.find(function (r) {
			return r.n === Math.max(p.sel[0], p.sel[1]);
		});
		b = p.items.find(function (r) {
			return r.n === Math.min(p.sel[0], p.sel[1]);
		});
		if (!a || !b)
			return { why: t("tasks.rel.diff.pickTwo") };
		if (!a.package_id || !b.package_id)
			return { why: t("tasks.rel.diff.noPackage") };
		return { newer: a, older: b };
	}

	function diffState(p, btn) {
		var d = diffPair(p);

		btn.disabled = Boolean(d.why);
		btn.title = d.why || "";
	}

	function releaseDiff(p) {
		var d = diffPair(p), box, seq;

		if (d.why)
			return;
		box = p.node.querySelector(".releases__diff");
		if (!box) {
			box = el("div", { class: "releases__diff",
			    id: "releases-diff-" + p.task.id });
			p.node.appendChild(box);
		}
		seq = p.diffSeq = (p.diffSeq || 0) + 1;
		box.dataset.from = String(d.older.n);
		box.dataset.to = String(d.newer.n);
		Y.clear(box);
		box.appendChild(el("p", { class: "muted", dataset: { diffBasis: "" },
		    text: t("tasks.rel.diff.basis", { from: d.older.n, to: d.newer.n,
			fromPkg: pkgText(d.older.name, d.older.version),
			toPkg: pkgText(d.newer.name, d.newer.version) }) }));
		var files = el("div");
		box.appendChild(files);
		showDiff(files, "/packages/" + d.newer.package_id + "/diff?" +
		    Y.qs({ against: d.older.package_id }).replace(/^\?/, ""),
		    "", function () {
			    return p.diffSeq === seq && panels[p.task.id] === p;
		    }).then(function () {
			    box.dataset.state = files.dataset.state || "error";
		    });
	}

	async function rollback(p, r, btn) {
		var task = p.task, live, c, ok;

		live = p.items.find(function (x) {
			return x.state === "live";
		});
		ok = await Y.confirm({
			title: t("tasks.rel.confirm.rollback.title", { n: r.n,
			    name: task.name }),
			text: t("tasks.rel.confirm.rollback.text", { n: r.n,
			    pkg: pkgText(r.name, r.version),
			    live: live ? live.n : t("common.none") }),
			ok: t("tasks.rel.action.rollback"),
			danger: true,
			anchor: btn
		});
		if (!ok)
			return;
		try {
			c = await Y.api("POST", "/commands", { type: "rollback",
			    task_id: task.id, release: r.n });
		} catch (err) {
			C.banner("error", Y.errorText(err));
			return;
		}
		C.issued(task, "rollback", c);
	}

	/* ---- the Deploy / Update dialog ------------------------------------- */

	function section(title, hint) {
		return el("div", { class: "dialog-section" },
		    el("h3", { class: "section-title", text: title }),
		    hint ? el("p", { class: "muted", text: hint }) : null);
	}

	/*
	 * Open the dialog for task (a list item), with package pkgId picked
	 * when given (the Packages page's Attach), near anchor.
	 */
	async function openDeploy(task, pkgId, anchor) {
		var dlg, st, res;

		if (D)
			D.close();
		st = D = { task: task, seq: 0, pkg: null, mode: null,
		    spec: null, live: null, q: "", listSeq: 0, diffSeq: 0 };
		dlg = st.dlg = el("dialog", { id: "deploy-dialog",
		    class: "yard-dialog yard-dialog--wide",
		    "aria-labelledby": "deploy-title",
		    dataset: { taskId: String(task.id), state: "loading" } },
		    el("div", { class: "yard-dialog__body" },
			el("div", { id: "deploy-title",
			    class: "yard-dialog__title",
			    text: t("tasks.rel.deployUpdate.title",
				{ name: task.name }) }),
			el("p", { id: "deploy-current", class: "muted",
			    text: t("common.loading") }),
			el("div", { id: "deploy-content" })),
		    el("div", { class: "yard-dialog__actions" },
			el("span", { id: "deploy-error", class: "field__error toolbar__grow",
			    role: "alert", hidden: true }),
			el("button", { type: "button", class: "btn",
			    dataset: { action: "deploy-cancel" },
			    text: t("common.cancel"), onclick: function () {
				    st.close();
			    } }),
			el("button", { type: "button", class: "btn btn--primary",
			    dataset: { action: "deploy-confirm" },
			    disabled: true, text: t("tasks.rel.action.deploy"),
			    onclick: function () {
				    confirmDeploy(st);
			    } })));
		document.body.classList.add("yard-modal-tall");
		st.close = Y.dialog(dlg, anchor, function () {
			document.body.classList.remove("yard-modal-tall");
			if (D === st)
				D = null;
		});
		try {
			res = await Promise.all([
				Y.api("GET", "/tasks/" + task.id),
				Y.api("GET", "/tasks/" + task.id + "/releases" +
				    Y.qs({ limit: 200 }))
			]);
		} catch (err) {
			if (D !== st)
				return;
			$d("deploy-current").textContent = "";
			dlg.dataset.state = "error";
			showDeployError(st, Y.errorText(err));
			return;
		}
		if (D !== st)
			return;
		st.spec = res[0].spec || {};
		st.kind = res[0].kind;
		st.live = (res[1].items || []).find(function (r) {
			return r.state === "live";
		}) || null;
		st.mode = st.live ? "update" : "deploy";
		dlg.dataset.mode = st.mode;
		$d("deploy-title").textContent = t("tasks.rel." + st.mode + ".title",
		    { name: task.name });
		$d("deploy-current").textContent = st.live ?
		    t("tasks.rel.deploy.live", { n: st.live.n,
			pkg: pkgText(st.live.name, st.live.version),
			at: Y.formatTime(st.live.deployed_at) }) :
		    t("tasks.rel.deploy.none", { dir: st.spec.deploy_dir || "" });
		dlg.querySelector("[data-action=deploy-confirm]").textContent =
		    t("tasks.rel.action." + st.mode);
		buildDeploy(st);
		dlg.dataset.state = "ready";
		await loadPackages(st, pkgId);
		Y.placeDialog(dlg, anchor);
	}

	function $d(id) {
		return document.getElementById(id);
	}

	function showDeployError(st, text) {
		var box = $d("deploy-error");

		if (!box || D !== st)
			return;
		box.textContent = text || "";
		box.hidden = !text;
	}

	function buildDeploy(st) {
		var box = $d("deploy-content"), search, pick, kept, opts;
		var timer = null;

		search = el("input", { id: "deploy-search", class: "search",
		    type: "search", maxlength: "200", autocomplete: "off",
		    placeholder: t("tasks.rel.deploy.search"),
		    "aria-label": t("tasks.rel.deploy.search") });
		search.addEventListener("input", function () {
			clearTimeout(timer);
			timer = setTimeout(function () {
				st.q = search.value.trim();
				loadPackages(st, null);
			}, 200);
		});
		pick = section(t("tasks.rel.deploy.pick"));
		pick.appendChild(el("div", { class: "toolbar" }, search));
		pick.appendChild(el("ul", { id: "deploy-packages",
		    class: "pick-list", role: "radiogroup",
		    "aria-label": t("tasks.rel.deploy.pick"),
		    dataset: { state: "loading" } }));
		box.appendChild(pick);

		box.appendChild(el("div", { class: "dialog-section" },
		    el("h3", { class: "section-title",
			text: t(st.mode === "update" ? "tasks.rel.deploy.diff.update" :
			    "tasks.rel.deploy.diff.deploy") }),
		    el("div", { id: "deploy-diff", dataset: { state: "none" } },
			el("p", { class: "muted",
			    text: t("tasks.rel.deploy.pickFirst") }))));

		kept = section(t("tasks.rel.deploy.kept"), t(st.mode === "update" ?
		    "tasks.rel.deploy.kept.update" : "tasks.rel.deploy.kept.deploy"));
		kept.id = "deploy-kept";
		kept.appendChild(keptList(st));
		box.appendChild(kept);

		opts = section(t("tasks.rel.deploy.options"));
		if (st.mode === "deploy") {
			opts.appendChild(el("label", { class: "option-row" },
			    el("input", { id: "deploy-adopt", type: "checkbox",
				"aria-describedby": "deploy-adopt-hint" }),
			    el("span", { text: t("tasks.rel.deploy.adopt") })));
			opts.appendChild(el("p", { id: "deploy-adopt-hint",
			    class: "option-hint",
			    text: t("tasks.rel.deploy.adopt.hint",
				{ dir: st.spec.deploy_dir || "" }) }));
		} else {
			var clean = el("input", { id: "deploy-clean",
			    type: "checkbox",
			    "aria-describedby": "deploy-clean-hint" });
			var hint = el("p", { id: "deploy-clean-hint",
			    class: "option-hint",
			    text: t("tasks.rel.deploy.overlay.hint") });

			clean.addEventListener("change", function () {
				hint.textContent = t(clean.checked ?
				    "tasks.rel.deploy.clean.warning" :
				    "tasks.rel.deploy.overlay.hint");
				hint.classList.toggle("option-hint--warning",
				    clean.checked);
				hint.dataset.warning = clean.checked ? "1" : "0";
			});
			opts.appendChild(el("label", { class: "option-row" },
			    clean, el("span", { text: t("tasks.rel.deploy.clean") })));
			opts.appendChild(hint);
		}
		box.appendChild(opts);
	}

	/* The spec's preserved and shared paths: kept as they are on the node. */
	function keptList(st) {
		var sp = st.spec || {};
		var pres = Array.isArray(sp.preserved_paths) ?
		    sp.preserved_paths.slice() : [];
		var shared = Array.isArray(sp.shared_paths) ? sp.shared_paths : [];
		var list = el("ul", { class: "path-list" });

		if (st.kind === "tomcat" && !pres.some(function (x) {
			return x.replace(/\/+$/, "") === "conf";
		}))
			pres.push({ tomcat: "conf/" });
		pres.forEach(function (x) {
			var path = typeof x === "string" ? x : x.tomcat;

			list.appendChild(el("li", { dataset: { preserved: path } },
			    path, el("span", { class: "path-list__note",
				text: t(typeof x === "string" ?
				    "tasks.rel.deploy.preserved" :
				    "tasks.rel.deploy.preserved.tomcat") })));
		});
		shared.forEach(function (x) {
			list.appendChild(el("li", { dataset: { shared: x } }, x,
			    el("span", { class: "path-list__note",
				text: t("tasks.rel.deploy.shared") })));
		});
		if (pres.length === 0 && shared.length === 0)
			return el("p", { class: "muted", dataset: { keptNone: "" },
			    text: t("tasks.rel.deploy.kept.none") });
		return list;
	}

	/*
	 * The packages to pick from: the task's own first, then every other
	 * one the caller may see, each group newest first; with pkgId, that
	 * one picked (fetched alone when the lists do not hold it).
	 */
	async function loadPackages(st, pkgId) {
		var seq = ++st.listSeq, own, all, extra = null, list, items;
		var task = st.task;

		try {
			own = Y.api("GET", "/packages" + Y.qs({ task: task.id,
			    q: st.q, order: "newest", limit: PICK_PAGE }));
			all = Y.api("GET", "/packages" + Y.qs({ q: st.q,
			    order: "newest", limit: PICK_PAGE }));
			if (pkgId)
				extra = Y.api("GET", "/packages/" + pkgId)
				    .catch(function () {
					return null;
				    });
			own = await own;
			all = await all;
			extra = await extra;
		} catch (err) {
			if (D !== st || seq !== st.listSeq)
				return;
			showDeployError(st, Y.errorText(err));
			return;
		}
		if (D !== st || seq !== st.listSeq)
			return;
		own = (own.items || []).filter(function (p) {
			return p.target && p.target.task_id === task.id;
		});
		items = (all.items || []).filter(function (p) {
			return !own.some(function (o) {
				return o.id === p.id;
			});
		});
		if (extra && !own.concat(items).some(function (p) {
			return p.id === extra.id;
		})) {
			if (extra.target && extra.target.task_id === task.id)
				own.unshift(extra);
			else
				items.unshift(extra);
		}
		list = $d("deploy-packages");
		Y.clear(list);
		if (own.length > 0)
			list.appendChild(el("li", { class: "pick-list__group",
			    role: "presentation", text: t("tasks.rel.deploy.own") }));
		own.forEach(function (p) {
			list.appendChild(pickItem(st, p, true));
		});
		if (items.length > 0 && own.length > 0)
			list.appendChild(el("li", { class: "pick-list__group",
			    role: "presentation", text: t("tasks.rel.deploy.other") }));
		items.forEach(function (p) {
			list.appendChild(pickItem(st, p, false));
		});
		if (own.length + items.length === 0)
			list.appendChild(el("li", { class: "pick-list__item muted",
			    role: "presentation",
			    dataset: { empty: "" }, text: t(st.q ?
				"packages.empty.filtered" : "packages.empty") }));
		list.dataset.state = "ready";
		if (pkgId && !st.pkg) {
			if (extra)
				pickPackage(st, extra);
			else
				showDeployError(st, t("tasks.rel.deploy.gone"));
		}
	}

	function pickItem(st, p, own) {
		var live = st.live && st.live.package_id === p.id;
		var radio = el("input", { type: "radio", name: "deploy-package",
		    value: String(p.id), checked: st.pkg && st.pkg.id === p.id });
		/* In a radiogroup, not a list: the radios are what counts. */
		var li = el("li", { class: "pick-list__item" + (st.pkg &&
		    st.pkg.id === p.id ? " is-selected" : ""), role: "presentation",
		    dataset: { packageId: String(p.id), own: own ? "1" : "0" } },
		    radio,
		    el("span", { class: "pick-list__main",
			text: pkgText(p.name, p.version) }),
		    live ? el("span", { class: "badge badge--success",
			text: t("tasks.rel.deploy.isLive") }) : null,
		    el("span", { class: "pick-list__sub",
			text: t("tasks.rel.deploy.pkgSub", {
			    target: p.task_name || (p.node_name ?
				t("packages.target.node", { name: p.node_name }) :
				t("packages.target.none")),
			    at: Y.formatTime(p.created_at),
			    size: bytes(p.size) }),
			title: p.filename || null }));

		li.addEventListener("click", function (ev) {
			if (ev.target !== radio)
				radio.checked = true;
			pickPackage(st, p);
		});
		return li;
	}

	function pickPackage(st, p) {
		var box = $d("deploy-diff"), seq, btn;

		if (D !== st)
			return;
		st.pkg = p;
		document.querySelectorAll("#deploy-packages li[data-package-id]")
		    .forEach(function (li) {
			var on = li.dataset.packageId === String(p.id);
			var r = li.querySelector("input[type=radio]");

			li.classList.toggle("is-selected", on);
			if (r)
				r.checked = on;
		});
		st.dlg.dataset.packageId = String(p.id);
		showDeployError(st, null);
		btn = st.dlg.querySelector("[data-action=deploy-confirm]");
		btn.disabled = false;
		seq = ++st.diffSeq;
		box.dataset.packageId = String(p.id);
		showDiff(box, "/packages/" + p.id + "/diff?" + Y.qs({
		    task_id: st.task.id }).replace(/^\?/, ""), "", function () {
			return D === st && st.diffSeq === seq;
		}).then(function (res) {
			if (!res || D !== st || st.diffSeq !== seq)
				return;
			box.insertBefore(el("p", { class: "muted",
			    dataset: { diffBasis: "" },
			    text: res.against ? t("tasks.rel.deploy.against", {
				pkg: pkgText(res.against.name,
				    res.against.version) }) :
				t("tasks.rel.deploy.nothingLive") }), box.firstChild);
			Y.placeDialog(st.dlg, null);
		});
	}

	async function confirmDeploy(st) {
		var body, c, btn = st.dlg.querySelector(
		    "[data-action=deploy-confirm]");
		var adopt = $d("deploy-adopt"), clean = $d("deploy-clean");

		if (!st.pkg || !st.mode)
			return;
		body = { type: st.mode, task_id: st.task.id,
		    package_id: st.pkg.id };
		if (st.mode === "deploy")
			body.adopt = Boolean(adopt && adopt.checked);
		else
			body.clean = Boolean(clean && clean.checked);
		btn.disabled = true;
		btn.setAttribute("aria-busy", "true");
		try {
			c = await Y.api("POST", "/commands", body);
		} catch (err) {
			btn.disabled = false;
			btn.removeAttribute("aria-busy");
			showDeployError(st, Y.errorText(err));
			return;
		}
		st.close();
		C.issued(st.task, st.mode, c);
	}

	/* ---- the Move dialog ------------------------------------------------- */

	/* Whether dir is absolute for the node's OS family, without "..". */
	function absolute(dir, os) {
		var parts;

		if (os === "windows") {
			if (!/^([A-Za-z]:[\\/]|\\\\[^\\/]+[\\/][^\\/]+)/.test(dir))
				return false;
			parts = dir.split(/[\\/]/);
		} else {
			if (dir.charAt(0) !== "/")
				return false;
			parts = dir.split("/");
		}
		return parts.indexOf("..") === -1;
	}

	/*
	 * Whether a and b are the same directory or one holds the other (by
	 * whole components; Windows: either separator, any case), which a
	 * move cannot do.
	 */
	function dirParts(x, os) {
		return (os === "windows" ? x.toLowerCase().split(/[\\/]/) :
		    x.split("/")).filter(function (c) {
			return c !== "" && c !== ".";
		});
	}

	function nested(a, b, os) {
		var pa = dirParts(a, os), pb = dirParts(b, os), i;

		for (i = 0; i < Math.min(pa.length, pb.length); i++) {
			if (pa[i] !== pb[i])
				return false;
		}
		return true;
	}

	/*
	 * The server's refusal of a move in the page's language where its
	 * message is one we know, else as it came.
	 */
	function moveErrorText(err) {
		var m = err.serverMessage || "", r;

		if (err.status === 400 || err.status === 409) {
			if ((r = /outside the node's allowed roots \(([^)]*)\)/
			    .exec(m)))
				return t("tasks.rel.move.error.roots", { roots: r[1] });
			if (/absolute/.test(m))
				return t("tasks.rel.move.error.absolute");
			if (/is the task's deploy_dir|inside it or around it/
			    .test(m))
				return t("tasks.rel.move.error.same");
			if (/not empty|exists/.test(m))
				return t("tasks.rel.move.error.exists");
		}
		if (err.code === "command_in_progress" || err.code ===
		    "node_revoked" || err.code === "forbidden" || !m)
			return Y.errorText(err);
		return m;
	}

	async function openMove(task, anchor) {
		var dlg, close, input, err, cur, res, os;

		input = el("input", { id: "move-dir", type: "text",
		    maxlength: "1024", spellcheck: "false", autocomplete: "off",
		    "aria-describedby": "move-error",
		    placeholder: "/srv/yard/…" });
		err = el("div", { id: "move-error", class: "field__error",
		    dataset: { fieldError: "deploy_dir" }, hidden: true });
		cur = el("p", { id: "move-current", class: "muted",
		    text: t("common.loading") });
		dlg = el("dialog", { id: "move-dialog", class: "yard-dialog",
		    "aria-labelledby": "move-title",
		    dataset: { taskId: String(task.id) } },
		    el("form", { id: "move-form", novalidate: true },
			el("div", { class: "yard-dialog__body stack" },
			    el("div", { id: "move-title",
				class: "yard-dialog__title",
				text: t("tasks.rel.move.title", { name: task.name }) }),
			    cur,
			    el("label", { class: "field__label", for: "move-dir",
				text: t("tasks.rel.move.dir") }),
			    input, err,
			    el("p", { class: "muted", text: t("tasks.rel.move.hint") })),
			el("div", { class: "yard-dialog__actions" },
			    el("button", { type: "button", class: "btn",
				dataset: { action: "move-cancel" },
				text: t("common.cancel"), onclick: function () {
					close();
				} }),
			    el("button", { type: "submit", class: "btn btn--primary",
				dataset: { action: "move-confirm" },
				text: t("tasks.rel.action.move") }))));
		close = Y.dialog(dlg, anchor);
		input.addEventListener("input", function () {
			showErr(null);
		});

		function showErr(text) {
			err.textContent = text || "";
			err.hidden = !text;
			if (text)
				input.setAttribute("aria-invalid", "true");
			else
				input.removeAttribute("aria-invalid");
		}

		try {
			res = await Y.api("GET", "/tasks/" + task.id);
		} catch (e) {
			cur.textContent = Y.errorText(e);
			return;
		}
		os = C.osFamily(task.node_id);
		cur.dataset.dir = res.spec.deploy_dir;
		cur.textContent = t("tasks.rel.move.current", {
		    dir: res.spec.deploy_dir });
		input.value = res.spec.deploy_dir;
		input.focus();
		input.select();
		dlg.querySelector("form").addEventListener("submit",
		    async function (ev) {
			var dir = input.value.trim(), c, why, btn;

			ev.preventDefault();
			if (!absolute(dir, os))
				why = t(os === "windows" ?
				    "tasks.rel.move.error.absolute.windows" :
				    "tasks.rel.move.error.absolute");
			else if (nested(dir, res.spec.deploy_dir, os))
				why = t("tasks.rel.move.error.same");
			else
				why = C.rootsError(dir, task.node_id);
			if (why) {
				showErr(why);
				return;
			}
			btn = dlg.querySelector("[data-action=move-confirm]");
			btn.disabled = true;
			try {
				c = await Y.api("POST", "/commands", {
					type: "move", task_id: task.id,
					deploy_dir: dir });
			} catch (e) {
				btn.disabled = false;
				showErr(moveErrorText(e));
				return;
			}
			close();
			C.issued(task, "move", c);
		});
	}

	window.YardReleases = {
		init: init,
		isRelease: isRelease,
		panel: panel,
		forget: forget,
		refresh: refresh,
		openDeploy: openDeploy,
		openMove: openMove,
		absolute: absolute
	};
})();
