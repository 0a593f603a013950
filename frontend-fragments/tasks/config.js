/*
 * Yard "tasks" module page, the Configuration view of a task (loaded
 * before tasks.js, which opens it through window.YardConfig):
 *
 * - key-values (GET /tasks/ID/config): key, effective value (a secret is
 *   "••••••" and never fetched in clear), where it comes from (Apollo or
 *   Yard; Yard's own value, muted, under an Apollo one), secret; add,
 *   edit, remove; Import .properties (POST config/import, merged into the
 *   table: what was added and changed) and Export (GET config/export);
 * - Apollo: app id, cluster, namespaces, auto-apply and auto-restart, and
 *   each namespace's release key, fetch time and error;
 * - mappings key -> (file, format, nodepath), with a preview of the lines
 *   the value would change in the deployed file (GET config/file, then
 *   POST /config/preview);
 * - file overrides (path, content) with a text editor (binary content is
 *   shown by its size only) and a diff against the deployed file;
 * - env switch and the generated .properties file's path;
 * - Save with a comment (PUT config; a 400 names the member, shown next
 *   to it), the version history with each version's diff and Restore;
 * - Apply now and Apply and restart (POST /commands apply-config), the
 *   command's progress and outcome.
 *
 * Viewers see everything read-only (secrets masked); editing, Save,
 * Import, Apply, Restore and reading deployed files need manage.  The
 * server checks every call regardless.
 *
 * Test hooks: section#config-panel[data-task-id][data-state=loading|ready|
 * error][data-level][data-version][data-dirty]; #config-values
 * tr[data-key][data-source][data-secret] (input[data-field=key|value|
 * secret], [data-cell=value], [data-yard-value], button[data-action=
 * remove-value]); #config-import-file, [data-action=config-import|
 * config-export|add-value|add-mapping|add-file|config-save|apply|
 * apply-restart], #config-import-result[data-added][data-changed];
 * #config-apollo-use, #config-apollo-app, #config-apollo-cluster,
 * #config-apollo-ns, #config-apollo-auto-apply,
 * #config-apollo-auto-restart, #config-apollo-status tr[data-namespace];
 * #config-mappings tr[data-mapping] (input/select[data-field=key|file|
 * format|nodepath], button[data-action=preview|remove-mapping]),
 * tr[data-preview-of] > .config-preview[data-state=loading|ready|error|
 * absent|no-answer] (tr[data-line-kind=ctx|del|add]);
 * #config-files [data-file] (input[data-field=path], textarea, 
 * [data-binary][data-size], button[data-action=file-diff|remove-file],
 * .config-filediff[data-state]); #config-env, #config-properties-file,
 * #config-comment, [data-field-error=<member>], #config-save-state;
 * #config-versions tr[data-version] (button[data-action=version-diff|
 * restore]), #config-version-diff[data-version] tr[data-part][data-name]
 * [data-change]; #config-apply[data-state][data-command-id].
 */
(function () {
	"use strict";

	var Y = window.Yard;
	var t = Y.t;
	var el = Y.el;
	var MASK = "••••••";
	var POLL_MS = 400;
	var FINAL = ["succeeded", "failed", "timed_out", "cancelled"];
	var FORMATS = ["xml", "json", "properties"];
	var DIFF_MAX_CELLS = 4000000;	/* lines x lines for the file diff */
	var PREVIEW_CONTEXT = 2;	/* lines the preview shows around */

	var C = {			/* hooks set by tasks.js */
		closed: function () {}
	};
	var S = null;			/* the open view's state */
	var seq = 0;

	function $(id) {
		return document.getElementById(id);
	}

	function init(hooks) {
		Object.assign(C, hooks || {});
	}

	function manage() {
		return S !== null && Y.may(S.task.level, "manage");
	}

	function base() {
		return "/tasks/" + S.task.id + "/config";
	}

	/* ---- bytes and text ------------------------------------------------ */

	function fromBase64(b64) {
		var s = atob(b64 || ""), u = new Uint8Array(s.length), i;

		for (i = 0; i < s.length; i++)
			u[i] = s.charCodeAt(i);
		return u;
	}

	function toBase64(u) {
		var s = "", i;

		for (i = 0; i < u.length; i += 0x8000)
			s += String.fromCharCode.apply(null,
			    u.subarray(i, i + 0x8000));
		return btoa(s);
	}

	/* UTF-8 text of bytes (a BOM kept), or null when they are not. */
	function utf8(u) {
		if (u.indexOf(0) !== -1)
			return null;
		try {
			return new TextDecoder("utf-8", { fatal: true,
			    ignoreBOM: true }).decode(u);
		} catch (e) {
			return null;
		}
	}

	/*
	 * A textarea gives "\n" line ends whatever it was given: a file
	 * whose lines all end "\r\n" gets them back on save.
	 */
	function isCrlf(text) {
		return /\r\n/.test(text) && !/(^|[^\r])\n/.test(text);
	}

	function splitLines(text) {
		var l = text.split("\n");

		if (l.length > 1 && l[l.length - 1] === "")
			l.pop();
		return l.map(function (x) {
			return x.replace(/\r$/, "");
		});
	}

	/* ---- opening and loading ------------------------------------------- */

	/*
	 * Open the view for task ({id, name, level}) in section#config-panel.
	 * Unsaved edits of another task are given up only when confirmed.
	 */
	async function open(task, anchor) {
		if (S !== null && S.dirty && S.task.id !== task.id) {
			if (!await Y.confirm({ text: t("config.discard"),
			    ok: t("config.discard.ok"), danger: true,
			    anchor: anchor }))
				return;
		}
		S = { task: task, listLevel: task.level, seq: ++seq, rows: [],
		    mappings: [],
		    files: [], apollo: null, env: false, propsFile: "",
		    cfg: null, dirty: false, previews: {}, versions: [],
		    next: null };
		skeleton();
		$("config-panel").scrollIntoView({ block: "start" });
		await load();
		loadVersions(false);
	}

	function close() {
		var p = $("config-panel");

		S = null;
		seq++;
		p.hidden = true;
		Y.clear(p);
		delete p.dataset.taskId;
		C.closed();
	}

	function isOpen(id) {
		return S !== null && S.task.id === id;
	}

	/*
	 * The list refreshed: a changed level on the task changes what the
	 * view offers, but never throws away unsaved edits (the server
	 * refuses what the level no longer allows).
	 */
	function update(task) {
		if (S === null || S.task.id !== task.id ||
		    S.listLevel === task.level)
			return;
		S.listLevel = task.level;
		if (S.dirty || S.task.level === task.level)
			return;
		S.task = Object.assign({}, S.task, { level: task.level });
		$("config-panel").dataset.level = task.level || "none";
		renderAll();
	}

	async function load() {
		var my = S.seq, cfg, p = $("config-panel");

		p.dataset.state = "loading";
		try {
			cfg = await Y.api("GET", base());
		} catch (err) {
			if (S === null || my !== S.seq)
				return;
			p.dataset.state = "error";
			Y.banner($("config-banner"), "error", Y.errorText(err));
			return;
		}
		if (S === null || my !== S.seq)
			return;
		fill(cfg);
		p.dataset.state = "ready";
	}

	/* The state from a GET config (or PUT, restore) answer. */
	function fill(cfg) {
		S.cfg = cfg;
		/* The answer's own level is the freshest word on it. */
		if (typeof cfg.level === "string" && cfg.level !== S.task.level) {
			S.task = Object.assign({}, S.task, { level: cfg.level });
			$("config-panel").dataset.level = cfg.level;
		}
		S.rows = (cfg.values || []).map(function (v) {
			var r = { key: v.key, secret: Boolean(v.secret),
			    source: v.source === "apollo" ? "apollo" : "yard",
			    effective: v.value, stored: Boolean(v.secret) };

			if (r.source === "yard") {
				r.has = true;
				r.value = v.secret ? "" : (v.value === null ? "" :
				    String(v.value));
			} else if (typeof v.yard_value === "string") {
				r.has = true;
				r.value = v.yard_value;
			} else {
				/* Apollo's only, or over a Yard secret. */
				r.has = Boolean(v.secret);
				r.value = "";
			}
			return r;
		});
		S.apollo = cfg.apollo ? JSON.parse(JSON.stringify(cfg.apollo)) :
		    null;
		S.mappings = (cfg.mappings || []).map(function (m) {
			return { key: m.key || "", file: m.file || "",
			    format: m.format || "xml", nodepath: m.nodepath || "" };
		});
		S.files = (cfg.files || []).map(function (f) {
			return fileEntry(f.path, fromBase64(f.content_base64));
		});
		S.env = Boolean(cfg.env);
		S.propsFile = cfg.properties_file || "";
		S.previews = {};
		setDirty(false);
		renderAll();
	}

	function fileEntry(path, u) {
		var text = utf8(u);

		return { path: path || "", bytes: u, text: text,
		    crlf: text !== null && isCrlf(text),
		    shown: text === null ? null : text.replace(/\r\n?/g, "\n"),
		    diff: null };
	}

	function setDirty(d) {
		if (S === null)
			return;
		S.dirty = d;
		$("config-panel").dataset.dirty = d ? "1" : "0";
		if ($("config-save-state"))
			$("config-save-state").textContent = d ?
			    t("config.unsaved") : "";
	}

	/* ---- the frame of the view ----------------------------------------- */

	function section(id, title, tools, body) {
		return el("div", { class: "panel__section", id: id },
		    el("div", { class: "config__head" },
			el("h3", { class: "section-title", text: title }),
			el("div", { class: "toolbar" }, tools)),
		    body);
	}

	function th(key, cls) {
		return el("th", { scope: "col", class: cls || null, text: t(key) });
	}

	function errBox(member) {
		return el("div", { class: "field__error",
		    dataset: { fieldError: member }, hidden: true });
	}

	function skeleton() {
		var p = $("config-panel");

		Y.clear(p);
		p.hidden = false;
		p.dataset.taskId = String(S.task.id);
		p.dataset.level = S.task.level || "none";
		p.appendChild(el("div", { class: "panel__head" },
		    el("h2", { id: "config-title", text: t("config.title",
			{ name: S.task.name }) }),
		    el("div", { class: "toolbar" },
			el("span", { id: "config-version", class: "muted" }),
			el("button", { type: "button", class: "btn btn--small",
			    dataset: { action: "config-close" },
			    text: t("common.close"), onclick: function () {
				    tryClose();
			    } }))));
		p.appendChild(el("div", { id: "config-banner", hidden: true }));
		p.appendChild(el("div", { id: "config-body" }));
	}

	async function tryClose() {
		if (S !== null && S.dirty && !await Y.confirm({
		    text: t("config.discard"), ok: t("config.discard.ok"),
		    danger: true }))
			return;
		close();
	}

	function renderAll() {
		var body = $("config-body"), v = S.cfg || {};

		if (body === null)
			return;
		Y.clear(body);
		$("config-version").textContent = v.version ?
		    t("config.version", { n: v.version, author: v.author_name ||
			v.author || t("common.none"),
			at: Y.formatTime(v.created_at) }) +
		    (v.comment ? " · " + v.comment : "") : t("config.noVersion");
		$("config-version").title = v.created_at ?
		    Y.formatTimeFull(v.created_at) : "";
		$("config-panel").dataset.version = String(v.version || 0);
		if (!manage())
			body.appendChild(el("div", { class: "config-note",
			    dataset: { viewOnly: "" } },
			    el("span", { class: "muted",
				text: t("config.viewOnly") })));
		body.appendChild(valuesSection());
		body.appendChild(mappingsSection());
		body.appendChild(filesSection());
		body.appendChild(apolloSection());
		body.appendChild(optionsSection());
		if (manage())
			body.appendChild(saveSection());
		body.appendChild(historySection());
		renderValues();
		renderMappings();
		renderFiles();
		renderVersions();
	}

	/* ---- key-values ---------------------------------------------------- */

	function valuesSection() {
		var tools = [], file;

		if (manage()) {
			file = el("input", { type: "file", id: "config-import-file",
			    class: "visually-hidden", accept: ".properties,text/plain",
			    tabindex: "-1", onchange: function (ev) {
				    if (ev.target.files.length > 0)
					    importFile(ev.target.files[0]);
				    ev.target.value = "";
			    } });
			tools.push(file, el("button", { type: "button",
			    class: "btn btn--small",
			    dataset: { action: "config-import" },
			    text: t("config.import"), onclick: function () {
				    file.click();
			    } }));
		}
		tools.push(el("button", { type: "button", class: "btn btn--small",
		    dataset: { action: "config-export" }, text: t("config.export"),
		    onclick: exportFile }));
		return section("config-values-section", t("config.values"), tools,
		    el("div", null,
			el("div", { id: "config-import-result", class: "muted",
			    role: "status", hidden: true }),
			el("div", { class: "table-wrap" },
			    el("table", { id: "config-values",
				class: "yard-table config-table" },
				el("thead", null, el("tr", null,
				    th("config.col.key"),
				    th("config.col.value"),
				    th("config.col.source"),
				    th("config.col.secret"),
				    manage() ? el("th", { scope: "col",
					class: "cell-actions",
					text: t("config.col.actions") }) : null)),
				el("tbody", { id: "config-values-body" }))),
			manage() ? el("div", { class: "config__add" },
			    el("button", { type: "button",
				class: "btn btn--small",
				dataset: { action: "add-value" },
				text: t("config.addValue"), onclick: function () {
					S.rows.push({ key: "", value: "",
					    secret: false, source: "yard",
					    has: true, stored: false });
					setDirty(true);
					renderValues();
					focusLast("#config-values-body",
					    'input[data-field="key"]');
				} })) : null,
			errBox("values")));
	}

	function focusLast(body, sel) {
		var all = document.querySelectorAll(body + " " + sel);

		if (all.length > 0)
			all[all.length - 1].focus();
	}

	function sourceBadge(r) {
		return el("span", { class: "badge " + (r.source === "apollo" ?
		    "badge--accent" : "badge--info"),
		    dataset: { sourceBadge: r.source },
		    text: t("config.source." + r.source) });
	}

	function renderValues() {
		var body = $("config-values-body");

		if (body === null)
			return;
		Y.clear(body);
		if (S.rows.length === 0)
			body.appendChild(el("tr", { class: "empty-row" },
			    el("td", { colspan: manage() ? "5" : "4",
				class: "empty", text: t("config.values.empty") })));
		S.rows.forEach(function (r, i) {
			body.appendChild(valueRow(r, i));
		});
		keyList();
	}

	/* Keys offered by the mapping editor. */
	function keyList() {
		var dl = $("config-keys");

		if (dl === null)
			return;
		Y.clear(dl);
		S.rows.forEach(function (r) {
			if (r.key)
				dl.appendChild(el("option", { value: r.key }));
		});
	}

	function valueRow(r, i) {
		var edit = manage(), keyCell, valCell, secretBox;

		if (edit && r.source === "yard")
			keyCell = el("td", null, el("input", { type: "text",
			    class: "mono", value: r.key, maxlength: "256",
			    spellcheck: "false", "aria-label": t("config.col.key"),
			    dataset: { field: "key" }, oninput: function (ev) {
				    r.key = ev.target.value;
				    setDirty(true);
				    keyList();
			    } }), errBox("values[" + i + "]"));
		else
			keyCell = el("td", { class: "mono-path", text: r.key },
			    errBox("values[" + i + "]"));
		valCell = el("td", { dataset: { cell: "value" } });
		if (r.source === "apollo") {
			valCell.appendChild(el("div", { class: "config-value",
			    dataset: { effective: "" },
			    text: r.secret ? MASK : String(r.effective) }));
			if (r.has)
				valCell.appendChild(el("div", {
				    class: "muted config-yard",
				    dataset: { yardValue: r.secret ? MASK :
					r.value } },
				    t("config.yardValue") + " ",
				    edit && !r.secret ? valueInput(r) :
				    el("span", { class: "config-value",
					text: r.secret ? MASK : r.value })));
		} else if (edit) {
			valCell.appendChild(valueInput(r));
		} else {
			valCell.appendChild(el("span", { class: "config-value",
			    text: r.secret ? MASK : r.value }));
		}
		secretBox = el("input", { type: "checkbox", checked: r.secret,
		    disabled: !edit || r.source === "apollo",
		    dataset: { field: "secret" },
		    "aria-label": t("config.col.secret"),
		    onchange: function (ev) {
			    r.secret = ev.target.checked;
			    setDirty(true);
			    renderValues();
		    } });
		return el("tr", { dataset: { key: r.key, source: r.source,
		    secret: r.secret ? "1" : "0", row: String(i) } },
		    keyCell, valCell,
		    el("td", null, sourceBadge(r)),
		    el("td", null, secretBox),
		    edit ? el("td", { class: "cell-actions" },
			r.source === "yard" || r.has ?
			el("button", { type: "button",
			    class: "btn btn--small btn--link btn--danger-text",
			    dataset: { action: "remove-value" },
			    title: r.source === "apollo" ?
				t("config.removeYard") : null,
			    text: t("config.remove"), onclick: function () {
				    removeValue(r);
			    } }) : null) : null);
	}

	/* Yard's own value: a secret shows nothing and keeps it unless typed. */
	function valueInput(r) {
		return el("input", { type: r.secret ? "password" : "text",
		    class: "mono config-value-input", value: r.value,
		    maxlength: "65536", spellcheck: "false",
		    autocomplete: r.secret ? "new-password" : "off",
		    placeholder: r.secret && r.stored ? MASK : null,
		    "aria-label": t("config.col.value"),
		    dataset: { field: "value" }, oninput: function (ev) {
			    r.value = ev.target.value;
			    setDirty(true);
		    } });
	}

	function removeValue(r) {
		if (r.source === "apollo") {
			/* Apollo's stays; Yard's own goes. */
			r.has = false;
			r.value = "";
			r.stored = false;
		} else {
			S.rows.splice(S.rows.indexOf(r), 1);
		}
		setDirty(true);
		renderValues();
	}

	/* ---- import and export --------------------------------------------- */

	async function importFile(file) {
		var res, box = $("config-import-result"), added = 0, changed = 0;

		Y.banner($("config-banner"));
		try {
			/* The bytes as they are: the server knows the rules. */
			res = await Y.api("POST", base() + "/import",
			    new Blob([await file.arrayBuffer()],
			    { type: "text/plain" }));
		} catch (err) {
			Y.banner($("config-banner"), "error", Y.errorText(err));
			return;
		}
		(res.values || []).forEach(function (v) {
			var r = S.rows.find(function (x) {
				return x.key === v.key;
			});

			if (r === undefined) {
				S.rows.push({ key: v.key, value: v.value,
				    secret: false, source: "yard", has: true,
				    stored: false });
				added++;
			} else if (!r.has || r.secret || r.value !== v.value) {
				r.has = true;
				r.value = v.value;
				changed++;
			}
		});
		if (added + changed > 0)
			setDirty(true);
		renderValues();
		box.hidden = false;
		box.dataset.added = String(added);
		box.dataset.changed = String(changed);
		box.textContent = t("config.imported", { file: file.name,
		    added: added, changed: changed,
		    n: (res.values || []).length });
	}

	async function exportFile() {
		var r, url, a;

		Y.banner($("config-banner"));
		try {
			r = await Y.request("GET", base() + "/export", undefined,
			    true);
		} catch (err) {
			Y.banner($("config-banner"), "error", Y.errorText(err));
			return;
		}
		url = URL.createObjectURL(new Blob([r.text],
		    { type: "text/plain;charset=utf-8" }));
		a = el("a", { href: url, download: S.task.name.replace(
		    /[^A-Za-z0-9._-]+/g, "_") + ".properties" });
		document.body.appendChild(a);
		a.click();
		a.remove();
		setTimeout(function () {
			URL.revokeObjectURL(url);
		}, 10000);
	}

	/* ---- Apollo -------------------------------------------------------- */

	function apolloSection() {
		var a = S.apollo, edit = manage(), use, fields;

		use = el("label", { class: "option-row" },
		    el("input", { type: "checkbox", id: "config-apollo-use",
			checked: a !== null, disabled: !edit,
			onchange: function (ev) {
				S.apollo = ev.target.checked ? { app_id: "",
				    cluster: "default",
				    namespaces: ["application"],
				    auto_apply: false, auto_restart: false,
				    status: [] } : null;
				setDirty(true);
				replaceSection("config-apollo", apolloSection());
			} }),
		    el("span", { text: t("config.apollo.use") }));
		if (a === null)
			return section("config-apollo", t("config.apollo"), null,
			    el("div", null, use, errBox("apollo")));
		function text(id, label, member, val, set) {
			return el("div", { class: "field" },
			    el("label", { class: "field__label", for: id,
				text: label }),
			    el("input", { type: "text", id: id, class: "mono",
				value: val, disabled: !edit, spellcheck: "false",
				maxlength: "256", oninput: function (ev) {
					set(ev.target.value);
					setDirty(true);
				} }),
			    errBox(member));
		}
		function check(id, label, member) {
			return el("label", { class: "field field--check" },
			    el("input", { type: "checkbox", id: id,
				checked: Boolean(a[member]), disabled: !edit,
				onchange: function (ev) {
					a[member] = ev.target.checked;
					setDirty(true);
				} }),
			    el("span", { text: label }));
		}
		fields = el("div", { class: "form-grid" },
		    text("config-apollo-app", t("config.apollo.app"),
			"apollo.app_id", a.app_id || "", function (v) {
				a.app_id = v;
			}),
		    text("config-apollo-cluster", t("config.apollo.cluster"),
			"apollo.cluster", a.cluster || "", function (v) {
				a.cluster = v;
			}),
		    el("div", { class: "field field--wide" },
			el("label", { class: "field__label",
			    for: "config-apollo-ns",
			    text: t("config.apollo.namespaces") }),
			el("textarea", { id: "config-apollo-ns", class: "mono",
			    rows: "2", spellcheck: "false", disabled: !edit,
			    value: (a.namespaces || []).join("\n"),
			    oninput: function (ev) {
				    a.namespaces = ev.target.value.split(
					/[\n,]/).map(function (s) {
					    return s.trim();
				    }).filter(Boolean);
				    setDirty(true);
			    } }),
			el("span", { class: "field__hint",
			    text: t("config.apollo.namespaces.hint") }),
			errBox("apollo.namespaces")),
		    check("config-apollo-auto-apply",
			t("config.apollo.autoApply"), "auto_apply"),
		    check("config-apollo-auto-restart",
			t("config.apollo.autoRestart"), "auto_restart"));
		return section("config-apollo", t("config.apollo"), null,
		    el("div", { class: "stack" }, use, fields, errBox("apollo"),
			apolloStatus(a.status || [])));
	}

	function apolloStatus(list) {
		if (list.length === 0)
			return el("p", { class: "muted", id: "config-apollo-status",
			    text: t("config.apollo.noStatus") });
		return el("div", { class: "table-wrap" },
		    el("table", { id: "config-apollo-status",
			class: "yard-table config-table" },
			el("thead", null, el("tr", null,
			    th("config.apollo.ns"),
			    th("config.apollo.releaseKey"),
			    th("config.apollo.fetchedAt"),
			    th("config.apollo.error"))),
			el("tbody", null, list.map(function (s) {
				return el("tr", { dataset: {
				    namespace: s.namespace,
				    error: s.error ? "1" : "0" } },
				    el("td", { class: "mono-path",
					text: s.namespace }),
				    el("td", { class: "mono-path",
					text: s.release_key || t("common.none") }),
				    el("td", { text: Y.formatTime(s.fetched_at),
					title: Y.formatTimeFull(s.fetched_at) ||
					null }),
				    el("td", { class: s.error ?
					"field__error" : "muted",
					text: s.error || t("common.none") }));
			}))));
	}

	function replaceSection(id, node) {
		var old = $(id);

		if (old !== null)
			old.replaceWith(node);
	}

	/* ---- mappings and their preview ------------------------------------ */

	function mappingsSection() {
		return section("config-mappings-section", t("config.mappings"),
		    null, el("div", null,
			el("p", { class: "field__hint",
			    text: t("config.mappings.hint") }),
			el("datalist", { id: "config-keys" }),
			el("div", { class: "table-wrap" },
			    el("table", { id: "config-mappings",
				class: "yard-table config-table" },
				el("thead", null, el("tr", null,
				    th("config.col.key"),
				    th("config.col.file"),
				    th("config.col.format"),
				    th("config.col.nodepath"),
				    el("th", { scope: "col", class: "cell-actions",
					text: t("config.col.actions") }))),
				el("tbody", { id: "config-mappings-body" }))),
			manage() ? el("div", { class: "config__add" },
			    el("button", { type: "button",
				class: "btn btn--small",
				dataset: { action: "add-mapping" },
				text: t("config.addMapping"),
				onclick: function () {
					S.mappings.push({ key: "", file: "",
					    format: "xml", nodepath: "" });
					setDirty(true);
					renderMappings();
					focusLast("#config-mappings-body",
					    'input[data-field="key"]');
				} })) : null,
			errBox("mappings")));
	}

	function renderMappings() {
		var body = $("config-mappings-body");

		if (body === null)
			return;
		Y.clear(body);
		if (S.mappings.length === 0)
			body.appendChild(el("tr", { class: "empty-row" },
			    el("td", { colspan: "5", class: "empty",
				text: t("config.mappings.empty") })));
		S.mappings.forEach(function (m, i) {
			body.appendChild(mappingRow(m, i));
			if (S.previews[i])
				body.appendChild(el("tr", { class: "row-detail",
				    dataset: { previewOf: String(i) } },
				    el("td", { colspan: "5" }, S.previews[i])));
		});
	}

	function mappingRow(m, i) {
		var edit = manage();

		function cell(field, extra) {
			if (!edit)
				return el("td", { class: "mono-path",
				    text: m[field] });
			return el("td", null, el("input", Object.assign({
			    type: "text", class: "mono", value: m[field],
			    spellcheck: "false", maxlength: "1024",
			    "aria-label": t("config.col." + field),
			    dataset: { field: field }, oninput: function (ev) {
				    m[field] = ev.target.value;
				    setDirty(true);
			    } }, extra || {})),
			    field === "key" ? errBox("mappings[" + i + "]") : null);
		}
		return el("tr", { dataset: { mapping: String(i), key: m.key } },
		    cell("key", { list: "config-keys" }),
		    cell("file", { placeholder: "conf/app.xml" }),
		    edit ? el("td", null, el("select", {
			"aria-label": t("config.col.format"),
			dataset: { field: "format" }, onchange: function (ev) {
				m.format = ev.target.value;
				setDirty(true);
			} }, FORMATS.map(function (f) {
				return el("option", { value: f, selected:
				    f === m.format, text: t("config.format." + f) });
			}))) : el("td", { text: t("config.format." + m.format) }),
		    cell("nodepath", { placeholder: "root.nodes[0]" }),
		    el("td", { class: "cell-actions" },
			el("div", { class: "row-actions" },
			    edit ? el("button", { type: "button",
				class: "btn btn--small btn--link",
				dataset: { action: "preview" },
				text: t("config.preview"), onclick: function () {
					preview(i);
				} }) : null,
			    edit ? el("button", { type: "button",
				class: "btn btn--small btn--link btn--danger-text",
				dataset: { action: "remove-mapping" },
				text: t("config.remove"), onclick: function () {
					S.mappings.splice(i, 1);
					S.previews = {};
					setDirty(true);
					renderMappings();
				} }) : null)));
	}

	/* The value a key would have: Apollo's, else Yard's (being edited). */
	function valueOf(key) {
		var r = S.rows.find(function (x) {
			return x.key === key;
		});

		if (r === undefined)
			return null;
		/* Not even a newly typed secret goes out for a preview. */
		if (r.secret)
			return { secret: true, value: MASK };
		if (r.source === "apollo")
			return { value: String(r.effective) };
		return { value: r.value };
	}

	/* The deployed file at path: {bytes} or {error, state}. */
	async function deployed(path) {
		var res;

		try {
			res = await Y.api("GET", base() + "/file" +
			    Y.qs({ path: path }));
		} catch (err) {
			if (err.status === 404)
				return { state: "absent",
				    error: t("config.file.absent", { path: path }) };
			if (err.status === 504)
				return { state: "no-answer",
				    error: t("config.file.noAnswer") };
			return { state: "error", error: Y.errorText(err) };
		}
		return { bytes: fromBase64(res.content_base64) };
	}

	async function preview(i) {
		var m = S.mappings[i], my = S.seq, box, file, v, res;

		box = el("div", { class: "config-preview",
		    dataset: { state: "loading" } },
		    el("p", { class: "muted", text: t("common.loading") }));
		S.previews[i] = box;
		renderMappings();
		function done(state, nodes) {
			if (S === null || my !== S.seq)
				return;
			box.dataset.state = state;
			Y.clear(box).appendChild(el("div", null, nodes));
		}
		v = valueOf(m.key);
		if (!m.file || !m.nodepath || v === null) {
			done("error", el("p", { class: "field__error",
			    text: t("config.preview.incomplete") }));
			return;
		}
		file = await deployed(m.file);
		if (file.error) {
			done(file.state, el("p", { class: file.state === "error" ?
			    "field__error" : "muted", text: file.error }));
			return;
		}
		try {
			res = await Y.api("POST", "/config/preview", {
				content_base64: toBase64(file.bytes),
				format: m.format, nodepath: m.nodepath,
				value: v.value });
		} catch (err) {
			done("error", el("p", { class: "field__error",
			    dataset: { previewError: "" },
			    text: err.status === 422 ? t("config.preview.failed",
				{ reason: err.serverMessage || Y.errorText(err) }) :
				Y.errorText(err) }));
			return;
		}
		done("ready", [el("div", { class: "muted",
		    text: t("config.preview.at", { file: m.file, line: res.line }) +
		    (v.secret ? " " + t("config.preview.secret") : "") }),
		    lineTable(res.before || [], res.after || [], res.line)]);
	}

	/*
	 * Lines before and after an edit as diff rows: the lines both share
	 * at the start and the end are context, the rest removed and added.
	 */
	function lineTable(before, after, line) {
		var p = 0, s = 0, rows = [], i, n;

		while (p < before.length && p < after.length &&
		    before[p] === after[p])
			p++;
		/* line is the edited value's; the lines start 2 before it. */
		n = Math.max(1, (Number(line) || 1) - PREVIEW_CONTEXT);
		while (s < before.length - p && s < after.length - p &&
		    before[before.length - 1 - s] === after[after.length - 1 - s])
			s++;
		for (i = 0; i < p; i++)
			rows.push(["ctx", n + i, before[i]]);
		for (i = p; i < before.length - s; i++)
			rows.push(["del", n + i, before[i]]);
		for (i = p; i < after.length - s; i++)
			rows.push(["add", n + i, after[i]]);
		for (i = before.length - s; i < before.length; i++)
			rows.push(["ctx", n + i, before[i]]);
		return linesView(rows);
	}

	/* Rows [kind, number, text] as a table of numbered diff lines. */
	function linesView(rows) {
		return el("table", { class: "config-lines" },
		    el("tbody", null, rows.map(function (r) {
			    return el("tr", { class: "config-line--" + r[0],
				dataset: { lineKind: r[0] } },
				el("td", { class: "config-lines__n",
				    text: r[1] === null ? "" : String(r[1]) }),
				el("td", { class: "config-lines__mark",
				    text: { ctx: " ", del: "−", add: "+",
					gap: "…" }[r[0]] }),
				el("td", { class: "config-lines__text",
				    text: r[2] }));
		    })));
	}

	/* ---- file overrides ------------------------------------------------ */

	function filesSection() {
		return section("config-files-section", t("config.files"), null,
		    el("div", null,
			el("p", { class: "field__hint", text: t("config.files.hint") }),
			el("div", { id: "config-files", class: "stack" }),
			manage() ? el("div", { class: "config__add" },
			    el("button", { type: "button",
				class: "btn btn--small",
				dataset: { action: "add-file" },
				text: t("config.addFile"), onclick: function () {
					S.files.push(fileEntry("",
					    new Uint8Array(0)));
					setDirty(true);
					renderFiles();
					focusLast("#config-files",
					    'input[data-field="path"]');
				} })) : null,
			errBox("files")));
	}

	function renderFiles() {
		var box = $("config-files");

		if (box === null)
			return;
		Y.clear(box);
		if (S.files.length === 0)
			box.appendChild(el("p", { class: "muted",
			    text: t("config.files.empty") }));
		S.files.forEach(function (f, i) {
			box.appendChild(fileBox(f, i));
		});
	}

	function fileBox(f, i) {
		var edit = manage(), content, diffBox;

		if (f.text === null)
			content = el("div", { class: "config-note", dataset: {
			    binary: "", size: String(f.bytes.length) } },
			    el("span", { class: "muted",
				text: t("config.file.binary",
				    { size: Y.bytes(f.bytes.length),
				      n: f.bytes.length }) }));
		else
			content = el("textarea", { class: "mono config-editor",
			    rows: String(Math.min(20, Math.max(4,
				f.shown.split("\n").length + 1))),
			    spellcheck: "false", readonly: edit ? null : "",
			    value: f.shown, "aria-label": t("config.file.content"),
			    dataset: { field: "content" },
			    oninput: function (ev) {
				    f.shown = ev.target.value;
				    setDirty(true);
			    } });
		diffBox = el("div", { class: "config-filediff",
		    dataset: { state: "none" } });
		return el("div", { class: "config-file", dataset: { file:
		    String(i), path: f.path } },
		    el("div", { class: "config__head" },
			edit ? el("input", { type: "text", class: "mono field--wide",
			    value: f.path, spellcheck: "false", maxlength: "1024",
			    placeholder: "conf/app.xml",
			    "aria-label": t("config.col.path"),
			    dataset: { field: "path" }, oninput: function (ev) {
				    f.path = ev.target.value;
				    setDirty(true);
			    } }) : el("span", { class: "mono-path",
			    text: f.path }),
			el("div", { class: "toolbar" },
			    el("span", { class: "muted",
				text: f.crlf ? "CRLF" : "" }),
			    edit ? el("button", { type: "button",
				class: "btn btn--small",
				dataset: { action: "file-diff" },
				text: t("config.file.diff"), onclick: function () {
					fileDiff(f, diffBox);
				} }) : null,
			    edit ? el("button", { type: "button",
				class: "btn btn--small btn--link btn--danger-text",
				dataset: { action: "remove-file" },
				text: t("config.remove"), onclick: function () {
					S.files.splice(i, 1);
					setDirty(true);
					renderFiles();
				} }) : null)),
		    errBox("files[" + i + "]"), content, diffBox);
	}

	/* A file's bytes as saved: its text again (CRLF kept), or as given. */
	function fileBytes(f) {
		var text;

		if (f.text === null)
			return f.bytes;
		if (f.shown === f.text.replace(/\r\n?/g, "\n"))
			return f.bytes;
		text = f.crlf ? f.shown.replace(/\n/g, "\r\n") : f.shown;
		return new TextEncoder().encode(text);
	}

	async function fileDiff(f, box) {
		var my = S.seq, d, a, b;

		box.dataset.state = "loading";
		Y.clear(box).appendChild(el("p", { class: "muted",
		    text: t("common.loading") }));
		if (!f.path) {
			box.dataset.state = "error";
			Y.clear(box).appendChild(el("p", { class: "field__error",
			    text: t("config.file.noPath") }));
			return;
		}
		d = await deployed(f.path);
		if (S === null || my !== S.seq)
			return;
		Y.clear(box);
		if (d.error) {
			box.dataset.state = d.state;
			box.appendChild(el("p", { class: d.state === "error" ?
			    "field__error" : "muted", text: d.error }));
			return;
		}
		a = utf8(d.bytes);
		b = utf8(fileBytes(f));
		if (a === null || b === null) {
			box.dataset.state = "binary";
			box.appendChild(el("p", { class: "muted",
			    text: t(sameBytes(d.bytes, fileBytes(f)) ?
				"config.file.same" : "config.file.binaryDiff",
				{ old: Y.bytes(d.bytes.length),
				  size: Y.bytes(fileBytes(f).length) }) }));
			return;
		}
		box.dataset.state = "ready";
		box.appendChild(el("div", { class: "muted",
		    text: sameBytes(d.bytes, fileBytes(f)) ?
			t("config.file.same") : t("config.file.against",
			{ path: f.path }) }));
		if (!sameBytes(d.bytes, fileBytes(f)))
			box.appendChild(el("div", { class: "diff-scroll" },
			    linesView(diffLines(splitLines(a), splitLines(b)))));
	}

	function sameBytes(a, b) {
		var i;

		if (a.length !== b.length)
			return false;
		for (i = 0; i < a.length; i++) {
			if (a[i] !== b[i])
				return false;
		}
		return true;
	}

	/*
	 * A line diff of a (deployed) and b (override): the shared head and
	 * tail trimmed, the middle by longest common subsequence when small
	 * enough (else all of it removed and added); 2 lines of context
	 * around each change, the rest folded.  Rows [kind, n, text].
	 */
	function diffLines(a, b) {
		var p = 0, s = 0, out = [], am, bm, i, j, L, ops = [], keep;

		while (p < a.length && p < b.length && a[p] === b[p])
			p++;
		while (s < a.length - p && s < b.length - p &&
		    a[a.length - 1 - s] === b[b.length - 1 - s])
			s++;
		am = a.slice(p, a.length - s);
		bm = b.slice(p, b.length - s);
		for (i = 0; i < p; i++)
			ops.push(["ctx", i + 1, a[i]]);
		if (am.length * bm.length <= DIFF_MAX_CELLS) {
			L = [];
			for (i = am.length; i >= 0; i--) {
				L[i] = new Uint32Array(bm.length + 1);
				for (j = bm.length - 1; i < am.length && j >= 0; j--)
					L[i][j] = am[i] === bm[j] ? L[i + 1][j + 1] + 1 :
					    Math.max(L[i + 1][j], L[i][j + 1]);
			}
			i = 0;
			j = 0;
			while (i < am.length || j < bm.length) {
				if (i < am.length && j < bm.length &&
				    am[i] === bm[j]) {
					ops.push(["ctx", p + i + 1, am[i]]);
					i++;
					j++;
				} else if (i < am.length && (j === bm.length ||
				    L[i + 1][j] >= L[i][j + 1])) {
					ops.push(["del", p + i + 1, am[i]]);
					i++;
				} else {
					ops.push(["add", p + j + 1, bm[j]]);
					j++;
				}
			}
		} else {
			am.forEach(function (x, k) {
				ops.push(["del", p + k + 1, x]);
			});
			bm.forEach(function (x, k) {
				ops.push(["add", p + k + 1, x]);
			});
		}
		for (i = a.length - s; i < a.length; i++)
			ops.push(["ctx", i + 1, a[i]]);
		/* Keep the changes and 2 lines around them. */
		keep = ops.map(function () {
			return false;
		});
		ops.forEach(function (o, k) {
			var d;

			if (o[0] === "ctx")
				return;
			for (d = -2; d <= 2; d++) {
				if (k + d >= 0 && k + d < ops.length)
					keep[k + d] = true;
			}
		});
		ops.forEach(function (o, k) {
			if (keep[k])
				out.push(o);
			else if (k > 0 && keep[k - 1])
				out.push(["gap", null, ""]);
		});
		return out;
	}

	/* ---- env and the .properties file --------------------------------- */

	function optionsSection() {
		var edit = manage();

		return section("config-options", t("config.options"), null,
		    el("div", { class: "form-grid" },
			el("label", { class: "field field--check" },
			    el("input", { type: "checkbox", id: "config-env",
				checked: S.env, disabled: !edit,
				onchange: function (ev) {
					S.env = ev.target.checked;
					setDirty(true);
				} }),
			    el("span", { text: t("config.env") })),
			el("div", { class: "field field--wide" },
			    el("label", { class: "field__label",
				for: "config-properties-file",
				text: t("config.propertiesFile") }),
			    el("input", { type: "text",
				id: "config-properties-file", class: "mono",
				value: S.propsFile, disabled: !edit,
				spellcheck: "false", maxlength: "1024",
				placeholder: edit ? "conf/yard.properties" : null,
				oninput: function (ev) {
					S.propsFile = ev.target.value;
					setDirty(true);
				} }),
			    el("span", { class: "field__hint",
				text: t("config.propertiesFile.hint") }),
			    errBox("properties_file")),
			errBox("env")));
	}

	/* ---- save ---------------------------------------------------------- */

	function saveSection() {
		return el("div", { class: "panel__section", id: "config-save" },
		    el("div", { class: "form-grid" },
			el("div", { class: "field field--wide" },
			    el("label", { class: "field__label",
				for: "config-comment",
				text: t("config.comment") }),
			    el("input", { type: "text", id: "config-comment",
				maxlength: "1000",
				placeholder: t("config.comment.hint") }),
			    errBox("comment")),
			el("div", { class: "field field--submit" },
			    el("div", { class: "toolbar" },
				el("button", { type: "button",
				    class: "btn btn--primary",
				    dataset: { action: "config-save" },
				    text: t("config.save"), onclick: save }),
				el("button", { type: "button", class: "btn",
				    dataset: { action: "apply" },
				    text: t("config.apply"), onclick: function (ev) {
					    apply(false, ev.target);
				    } }),
				el("button", { type: "button", class: "btn",
				    dataset: { action: "apply-restart" },
				    text: t("config.applyRestart"),
				    onclick: function (ev) {
					    apply(true, ev.target);
				    } })))),
		    el("div", { id: "config-save-state", class: "muted",
			role: "status", text: S.dirty ? t("config.unsaved") : "" }),
		    el("div", { id: "config-apply", role: "status",
			dataset: { state: "none" } }),
		    errBox(""));
	}

	function clearErrors() {
		document.querySelectorAll("#config-panel [data-field-error]")
		    .forEach(function (b) {
			b.hidden = true;
			b.textContent = "";
		});
	}

	/* The box for a member: values[3].value -> values[3] -> values. */
	function fieldBox(member) {
		var f = member || "", box = null;

		for (;;) {
			box = document.querySelector('#config-panel ' +
			    '[data-field-error="' + f.replace(/"/g, "") + '"]');
			if (box !== null || f === "")
				break;
			f = /[.[]/.test(f) ? f.replace(/(\.[^.[]*|\[[^\]]*\])$/,
			    "") : "";
		}
		return box;
	}

	function showFieldError(member, text) {
		var box = fieldBox(member);

		if (box === null)
			return false;
		box.textContent = text;
		box.hidden = false;
		box.scrollIntoView({ block: "center" });
		return true;
	}

	/*
	 * A refused PUT's fields (as Yard.showFieldErrors does; the panel's
	 * boxes are its own), each in the page's words in the box of its
	 * member (values[i] as the table's
	 * row, see rowMember), several of one box together; those without a
	 * box in the banner.  The first box is scrolled to.
	 */
	function showFieldErrors(err, idx) {
		var first = null, rest = [];

		err.fields.forEach(function (f) {
			var box = fieldBox(rowMember(f.field, idx));
			var text = Y.fieldText(f);

			/* "invalid" (a nodepath the format refuses): only the
			 * server's sentence says why; it is the first's. */
			if (f.code === "invalid" && f.field === err.field &&
			    err.serverMessage)
				text = t("error.detail", { text: text,
				    detail: err.serverMessage });

			if (box === null) {
				rest.push(t("error.field", { field: f.field,
				    text: text }));
				return;
			}
			box.textContent = box.hidden ? text :
			    box.textContent + " " + text;
			box.hidden = false;
			if (first === null)
				first = box;
		});
		if (first !== null)
			first.scrollIntoView({ block: "center" });
		if (rest.length > 0)
			Y.banner($("config-banner"), "error", rest.join(" "));
	}

	/* The PUT body; {error, member} when the page can tell already. */
	function body() {
		var values = [], idx = [], bad = null;

		S.rows.forEach(function (r, i) {
			if (!r.has)
				return;
			if (r.key.trim() === "" && bad === null)
				bad = { member: "values[" + i + "]",
				    text: t("config.error.key") };
			if (r.secret && r.value === "" && !r.stored &&
			    bad === null)
				bad = { member: "values[" + i + "]",
				    text: t("config.error.secret") };
			/* The page never had the stored secret to show. */
			if (!r.secret && r.stored && r.value === "" &&
			    bad === null)
				bad = { member: "values[" + i + "]",
				    text: t("config.error.unsecret") };
			idx.push(i);
			values.push({ key: r.key.trim(), value: r.secret &&
			    r.value === "" ? null : r.value, secret: r.secret });
		});
		if (bad !== null)
			return bad;
		return { idx: idx, body: {
			values: values,
			apollo: S.apollo === null ? null : {
				app_id: (S.apollo.app_id || "").trim(),
				cluster: (S.apollo.cluster || "").trim(),
				namespaces: S.apollo.namespaces || [],
				auto_apply: Boolean(S.apollo.auto_apply),
				auto_restart: Boolean(S.apollo.auto_restart)
			},
			mappings: S.mappings.map(function (m) {
				return { key: m.key.trim(), file: m.file.trim(),
				    format: m.format, nodepath: m.nodepath.trim() };
			}),
			files: S.files.map(function (f) {
				return { path: f.path.trim(),
				    content_base64: toBase64(fileBytes(f)) };
			}),
			env: S.env,
			properties_file: S.propsFile.trim() === "" ? null :
			    S.propsFile.trim(),
			comment: $("config-comment").value.trim()
		} };
	}

	/* values[i] of the answer is the i-th row sent, not of the table. */
	function rowMember(member, idx) {
		return (member || "").replace(/^values\[(\d+)\]/, function (m0,
		    n) {
			return idx[Number(n)] !== undefined ? "values[" +
			    idx[Number(n)] + "]" : m0;
		});
	}

	async function save(ev) {
		var b = body(), res, my = S.seq, button = ev && ev.target;

		clearErrors();
		Y.banner($("config-banner"));
		if (b.text) {
			showFieldError(b.member, b.text);
			return;
		}
		if (button)
			button.setAttribute("aria-busy", "true");
		try {
			res = await Y.api("PUT", base(), b.body);
		} catch (err) {
			if (button)
				button.removeAttribute("aria-busy");
			if (S === null || my !== S.seq)
				return;
			/* Every refusal in the page's language, never the
			 * server's English sentence. */
			if (err.status === 400 && err.fields &&
			    err.fields.length > 0) {
				showFieldErrors(err, b.idx);
				return;
			}
			Y.banner($("config-banner"), "error", Y.errorText(err));
			return;
		}
		if (button)
			button.removeAttribute("aria-busy");
		if (S === null || my !== S.seq)
			return;
		fill(res);
		Y.banner($("config-banner"), "success", t("config.saved",
		    { n: res.version }));
		loadVersions(false);
	}

	/* ---- apply --------------------------------------------------------- */

	async function apply(restart, button) {
		var box = $("config-apply"), c, d, my = S.seq, task = S.task;

		if (S.dirty && !await Y.confirm({ text: t("config.applyUnsaved"),
		    ok: t("config.apply"), anchor: button }))
			return;
		if (restart && !await Y.confirm({
		    title: t("config.confirm.restart.title",
			{ name: task.name }),
		    text: t("config.confirm.restart.text"),
		    ok: t("config.applyRestart"), danger: true, anchor: button }))
			return;
		try {
			c = await Y.api("POST", "/commands", { type: "apply-config",
			    task_id: task.id, restart: restart });
		} catch (err) {
			Y.banner($("config-banner"), "error", Y.errorText(err));
			return;
		}
		d = c;
		box.dataset.commandId = String(c.id);
		for (;;) {
			if (S === null || my !== S.seq)
				return;
			showApply(box, restart, d);
			if (FINAL.indexOf(d.state) !== -1)
				break;
			await new Promise(function (r) {
				setTimeout(r, POLL_MS);
			});
			try {
				d = await Y.api("GET", "/commands/" + c.id);
			} catch (err) {
				continue;
			}
		}
	}

	function showApply(box, restart, d) {
		var action = t(restart ? "config.applyRestart" : "config.apply");

		box.dataset.state = d.state;
		Y.clear(box);
		box.appendChild(el("div", { class: d.state === "failed" ||
		    d.state === "timed_out" ? "field__error" : "muted",
		    text: t("tasks.last", { name: S.task.name, action: action,
			state: t("tasks.cmdstate." + d.state) }) }));
		if (FINAL.indexOf(d.state) === -1)
			box.appendChild(Y.progressBar(d.state === "running" ?
			    d.progress : null));
		else if (d.output || d.code)
			box.appendChild(el("pre", { class: "command",
			    dataset: { output: "" }, text: Y.commandText(d) }));
	}

	/* ---- versions ------------------------------------------------------ */

	function historySection() {
		return section("config-history", t("config.history"), null,
		    el("div", null,
			el("div", { class: "table-wrap" },
			    el("table", { id: "config-versions",
				class: "yard-table config-table" },
				el("thead", null, el("tr", null,
				    th("config.col.version"),
				    th("config.col.author"),
				    th("config.col.at"),
				    th("config.col.comment"),
				    el("th", { scope: "col", class: "cell-actions",
					text: t("config.col.actions") }))),
				el("tbody", { id: "config-versions-body" }))),
			el("div", { id: "config-versions-more" }),
			el("div", { id: "config-version-diff",
			    class: "releases__diff", hidden: true })));
	}

	async function loadVersions(more) {
		var my, res;

		if (S === null)
			return;
		my = S.seq;
		try {
			res = await Y.api("GET", base() + "/versions" +
			    Y.qs({ cursor: more ? S.next : null, limit: 50 }));
		} catch (err) {
			if (S !== null && my === S.seq && $("config-versions-more"))
				Y.clear($("config-versions-more")).appendChild(
				    el("p", { class: "field__error",
					text: Y.errorText(err) }));
			return;
		}
		if (S === null || my !== S.seq)
			return;
		S.versions = more ? S.versions.concat(res.items || []) :
		    res.items || [];
		S.next = res.next || null;
		renderVersions();
	}

	function renderVersions() {
		var body = $("config-versions-body"), more = $("config-versions-more");
		var cur = S.cfg ? S.cfg.version : 0;

		if (body === null)
			return;
		Y.clear(body);
		Y.clear(more);
		if (S.versions.length === 0)
			body.appendChild(el("tr", { class: "empty-row" },
			    el("td", { colspan: "5", class: "empty",
				text: t("config.history.empty") })));
		S.versions.forEach(function (v) {
			body.appendChild(el("tr", { dataset: {
			    version: String(v.version) },
			    class: v.version === cur ? "is-selected" : null },
			    el("td", { class: "cell-num" }, String(v.version),
				v.version === cur ? el("span", {
				    class: "badge badge--success",
				    text: t("config.current") }) : null),
			    el("td", { text: v.author_name || v.author ||
				t("common.none"), title: v.author || null }),
			    el("td", { text: Y.formatTime(v.created_at),
				title: Y.formatTimeFull(v.created_at) || null }),
			    el("td", { class: "cell-wrap" }, v.comment || "",
				v.restored_from ? el("span", { class: "muted",
				    text: " " + t("config.restoredFrom",
					{ n: v.restored_from }) }) : null),
			    el("td", { class: "cell-actions" },
				el("div", { class: "row-actions" },
				    el("button", { type: "button",
					class: "btn btn--small btn--link",
					dataset: { action: "version-diff" },
					text: t("config.versionDiff"),
					onclick: function () {
						versionDiff(v.version);
					} }),
				    manage() && v.version !== cur ?
				    el("button", { type: "button",
					class: "btn btn--small btn--link",
					dataset: { action: "restore" },
					text: t("config.restore"),
					onclick: function (ev) {
						restore(v.version, ev.target);
					} }) : null))));
		});
		if (S.next)
			more.appendChild(el("button", { type: "button",
			    class: "btn btn--small", dataset: { action: "more" },
			    text: t("common.loadMore"), onclick: function () {
				    loadVersions(true);
			    } }));
	}

	/* A value's null is a secret's (never shown); others' is none. */
	function diffValue(v, part) {
		if (v === null || v === undefined)
			return el("span", { class: "muted", text: part === "value" ?
			    MASK : t("common.none") });
		return el("span", { class: "config-value", text: typeof v ===
		    "string" ? v : JSON.stringify(v) });
	}

	async function versionDiff(n) {
		var box = $("config-version-diff"), my = S.seq, res, list;

		box.hidden = false;
		box.dataset.version = String(n);
		box.dataset.state = "loading";
		Y.clear(box).appendChild(el("p", { class: "muted",
		    text: t("common.loading") }));
		try {
			res = await Y.api("GET", base() + "/versions/" + n);
		} catch (err) {
			if (S === null || my !== S.seq)
				return;
			box.dataset.state = "error";
			Y.clear(box).appendChild(el("p", { class: "field__error",
			    text: Y.errorText(err) }));
			return;
		}
		if (S === null || my !== S.seq)
			return;
		list = res.diff || [];
		box.dataset.state = "ready";
		Y.clear(box);
		box.appendChild(el("div", { class: "releases__head" },
		    el("span", { class: "section-title", text: t(n > 1 ?
			"config.diff.title" : "config.diff.first",
			{ n: n, prev: n - 1 }) }),
		    el("button", { type: "button", class: "btn btn--small",
			dataset: { action: "close-diff" },
			text: t("common.close"), onclick: function () {
				box.hidden = true;
				Y.clear(box);
			} })));
		if (list.length === 0) {
			box.appendChild(el("p", { class: "muted",
			    text: t("config.diff.none") }));
			return;
		}
		box.appendChild(el("div", { class: "table-wrap" },
		    el("table", { class: "yard-table config-table" },
			el("tbody", null, list.map(function (d) {
				return el("tr", { dataset: { part: d.part,
				    name: d.name || "", change: d.change } },
				    el("td", null, el("span", { class: "badge " +
					({ added: "badge--success",
					    changed: "badge--warning",
					    removed: "badge--danger" })[d.change],
					text: t("packages.change." + d.change) })),
				    el("td", { text: t("config.part." + d.part) }),
				    el("td", { class: "mono-path",
					text: d.name || "" }),
				    el("td", { class: "cell-wrap" },
					d.change === "added" ? null :
					diffValue(d.old, d.part),
					d.change === "changed" ? " → " : null,
					d.change === "removed" ? null :
					diffValue(d.new, d.part)));
			})))));
	}

	async function restore(n, button) {
		var res, my = S.seq;

		if (S.dirty && !await Y.confirm({ text: t("config.discard"),
		    ok: t("config.discard.ok"), danger: true, anchor: button }))
			return;
		if (!await Y.confirm({
		    title: t("config.confirm.restore.title", { n: n }),
		    text: t("config.confirm.restore.text", { n: n }),
		    ok: t("config.restore"), anchor: button }))
			return;
		try {
			res = await Y.api("POST", base() + "/versions/" + n +
			    "/restore", { comment: t("config.restoreComment",
			    { n: n }) });
		} catch (err) {
			Y.banner($("config-banner"), "error", Y.errorText(err));
			return;
		}
		if (S === null || my !== S.seq)
			return;
		fill(res);
		Y.banner($("config-banner"), "success", t("config.restored",
		    { n: n, v: res.version }));
		loadVersions(false);
	}

	window.YardConfig = {
		init: init,
		open: open,
		close: close,
		isOpen: isOpen,
		update: update,
		/* for tests of the pure parts */
		_diffLines: diffLines,
		_lineTable: lineTable
	};
})();
