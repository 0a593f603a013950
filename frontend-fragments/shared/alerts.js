/*
 * Yard alerts helpers shared by the alerts, nodes and tasks pages
 * (window.YardAlerts): the units of each rule kind, the firing/muted marks
 * next to a node or task (GET /api/v1/alerts/summary, asked at most every
 * 10 s), and the "Mute…" dialog (POST /api/v1/mutes).  Loaded after
 * bridge.js.
 *
 *   YardAlerts.KINDS, isNodeKind(k), isStateKind(k), isBelow(k)
 *   YardAlerts.unit(k)            -> "%" | "MiB" | "" (i18n'd label key)
 *   YardAlerts.fmt(k, v)          -> "93.5 %", "2,048 MiB", "3", "yes"
 *   YardAlerts.condition(k, th)   -> "> 90 %" (fires when)
 *   YardAlerts.summary(force)     -> Promise of the summary (cached 10 s)
 *   YardAlerts.marks(type, id, s) -> span.alert-marks (or null)
 *   YardAlerts.muteButton(type, target, onDone) -> button[data-action=mute]
 *   YardAlerts.muteDialog(type, target, anchor, onDone)
 *
 * Test hooks: span.alert-marks[data-alert-marks=node|task][data-id] with
 * button[data-alert-firing=N] and span[data-alert-muted][title];
 * dialog#mute-dialog[data-target-type][data-target-id] with #mute-until,
 * #mute-reason, #mute-error, [data-field-error=until|reason],
 * [data-action=mute-confirm|mute-cancel].
 */
(function () {
	"use strict";

	var Y = window.Yard;
	var t = Y.t;
	var el = Y.el;
	var TTL_MS = 10000;

	var KINDS = ["task_cpu", "task_memory", "task_exit", "task_crash_loop",
	    "task_restarts", "health_failing", "node_offline", "node_disk",
	    "node_memory"];
	var UNIT = { task_cpu: "percentCore", task_memory: "mib",
	    node_memory: "mib", node_disk: "percentFree", task_restarts: "count",
	    health_failing: "count", task_exit: "state",
	    task_crash_loop: "state", node_offline: "state" };

	var cache = { at: 0, data: null, pending: null };

	function isNodeKind(k) {
		return typeof k === "string" && k.slice(0, 5) === "node_";
	}

	function isStateKind(k) {
		return UNIT[k] === "state";
	}

	function isBelow(k) {
		return k === "node_disk" || k === "node_memory";
	}

	/* The unit's short label ("%", "MiB", ""), in the page language. */
	function unit(k) {
		var u = UNIT[k];

		return u && u !== "state" && u !== "count" ?
		    t("alerts.unit." + u) : "";
	}

	function num(v) {
		if (typeof v !== "number" || !isFinite(v))
			return null;
		return Math.abs(v) >= 100 ? Math.round(v).toLocaleString("en") :
		    String(Math.round(v * 10) / 10);
	}

	/* A value of kind k with its unit; null (no data) as such. */
	function fmt(k, v) {
		var n = num(v), u;

		if (n === null)
			return t("alerts.value.noData");
		if (isStateKind(k))
			return t(v >= 1 ? "alerts.value.yes" : "alerts.value.no");
		u = unit(k);
		return u ? n + " " + u : n;
	}

	/* "> 90 %": when a rule of kind k fires at threshold th. */
	function condition(k, th) {
		if (isStateKind(k))
			return t("alerts.cond." + k);
		return (isBelow(k) ? "< " : k === "health_failing" ? "≥ " :
		    "> ") + fmt(k, th);
	}

	/* ---- the summary ------------------------------------------------- */

	function summary(force) {
		if (!force && cache.data !== null && Date.now() - cache.at < TTL_MS)
			return Promise.resolve(cache.data);
		if (cache.pending !== null)
			return cache.pending;
		cache.pending = Y.api("GET", "/alerts/summary").then(function (res) {
			cache.pending = null;
			if (res === null || typeof res !== "object")
				return cache.data;
			cache.data = { nodes: res.nodes || {}, tasks: res.tasks || {} };
			cache.at = Date.now();
			return cache.data;
		}, function () {
			/* No marks rather than a broken page. */
			cache.pending = null;
			return cache.data;
		});
		return cache.pending;
	}

	/*
	 * The marks after a node's or task's name: a firing count (a button
	 * opening the alerts page on that target) and a muted marker with the
	 * reason and end in its title.  null when there is nothing to show.
	 */
	function marks(type, id, s) {
		var e = s && s[type === "node" ? "nodes" : "tasks"] ?
		    s[type === "node" ? "nodes" : "tasks"][String(id)] : null;
		var box, firing, q = {};

		if (!e)
			return null;
		firing = Number(e.firing) || 0;
		if (firing === 0 && !e.muted_until)
			return null;
		box = el("span", { class: "alert-marks",
		    dataset: { alertMarks: type, id: String(id) } });
		q[type === "node" ? "node_id" : "task_id"] = id;
		if (firing > 0)
			box.appendChild(el("button", { type: "button",
			    class: "badge badge--danger alert-badge",
			    dataset: { alertFiring: String(firing) },
			    title: t("alerts.badge.firing.title", { n: firing }),
			    text: t("alerts.badge.firing", { n: firing }),
			    onclick: function (ev) {
				    ev.stopPropagation();
				    ev.preventDefault();
				    Y.navigate("alerts", q);
			    } }));
		if (e.muted_until)
			box.appendChild(el("span", { class: "badge badge--warning",
			    dataset: { alertMuted: "" },
			    title: t("alerts.badge.muted.title", {
				until: Y.formatTimeFull(e.muted_until),
				reason: e.mute_reason || "" }),
			    text: t("alerts.badge.muted") }));
		return box;
	}

	/* ---- muting ------------------------------------------------------ */

	function pad2(n) {
		return (n < 10 ? "0" : "") + n;
	}

	/* A Date as the value of an <input type=datetime-local>. */
	function localInput(d) {
		return d.getFullYear() + "-" + pad2(d.getMonth() + 1) + "-" +
		    pad2(d.getDate()) + "T" + pad2(d.getHours()) + ":" +
		    pad2(d.getMinutes());
	}

	function muteButton(type, target, onDone) {
		return el("button", { type: "button", class: "btn btn--small btn--link",
		    dataset: { action: "mute" }, text: t("alerts.mute.action"),
		    title: t("alerts.mute.action.title"),
		    onclick: function (ev) {
			    ev.stopPropagation();
			    muteDialog(type, target, ev.currentTarget, onDone);
		    } });
	}

	/*
	 * The mute dialog for a node or task ({id, name}): until (default two
	 * hours from now) and a reason; onDone(mute) after the server took it.
	 */
	function muteDialog(type, target, anchor, onDone) {
		var until = el("input", { id: "mute-until", type: "datetime-local",
		    required: true, value: localInput(new Date(Date.now() +
		    2 * 3600 * 1000)), "aria-describedby": "mute-until-error" });
		var reason = el("input", { id: "mute-reason", type: "text",
		    maxlength: "500", required: true,
		    placeholder: t("alerts.mute.reason.placeholder"),
		    "aria-describedby": "mute-reason-error" });
		var err = el("div", { id: "mute-error", class: "field__error",
		    role: "alert", hidden: true });
		var ok, close, dlg;

		function fieldError(f, text) {
			var box = dlg.querySelector('[data-field-error="' + f + '"]');
			if (box === null)
				return false;
			box.textContent = text || "";
			box.hidden = !text;
			return true;
		}

		async function submit(ev) {
			var d = new Date(until.value), body = { reason:
			    reason.value.trim() }, res;

			ev.preventDefault();
			Y.clearFieldErrors(ev.target);
			fieldError("until", null);
			fieldError("reason", null);
			Y.banner(err);
			if (until.value === "" || isNaN(d.getTime()) ||
			    d.getTime() <= Date.now()) {
				fieldError("until", t("alerts.mute.error.until"));
				until.focus();
				return;
			}
			if (body.reason === "") {
				fieldError("reason", t("error.required"));
				reason.focus();
				return;
			}
			body[type === "node" ? "node_id" : "task_id"] =
			    Number(target.id);
			body.until = d.toISOString();
			ok.disabled = true;
			try {
				res = await Y.api("POST", "/mutes", body);
			} catch (e) {
				ok.disabled = false;
				/* Each refusal in the page's words next to its
				 * control; the target's and the rest in err. */
				Y.showFieldErrors(ev.target, e, { banner: err });
				return;
			}
			cache.at = 0;
			close();
			if (typeof onDone === "function")
				onDone(res);
		}

		ok = el("button", { type: "submit", class: "btn btn--primary",
		    dataset: { action: "mute-confirm" },
		    text: t("alerts.mute.confirm") });
		dlg = el("dialog", { id: "mute-dialog", class: "yard-dialog",
		    "aria-labelledby": "mute-title",
		    dataset: { targetType: type, targetId: String(target.id) } },
		    el("form", { class: "yard-dialog__body", novalidate: true,
			onsubmit: submit },
			el("h2", { id: "mute-title", class: "yard-dialog__title",
			    text: t("alerts.mute.title." + type,
			    { name: target.name || "#" + target.id }) }),
			el("p", { class: "muted", text: t("alerts.mute.hint") }),
			el("div", { class: "field" },
			    el("label", { class: "field__label", for: "mute-until",
				text: t("alerts.mute.until") }), until,
			    el("div", { id: "mute-until-error",
				class: "field__error",
				dataset: { fieldError: "until" }, hidden: true })),
			el("div", { class: "field" },
			    el("label", { class: "field__label", for: "mute-reason",
				text: t("alerts.mute.reason") }), reason,
			    el("div", { id: "mute-reason-error",
				class: "field__error",
				dataset: { fieldError: "reason" }, hidden: true })),
			err,
			el("div", { class: "yard-dialog__actions" },
			    el("button", { type: "button", class: "btn",
				dataset: { action: "mute-cancel" },
				text: t("common.cancel"),
				onclick: function () {
					close();
				} }), ok)));
		close = Y.dialog(dlg, anchor);
		reason.focus();
		return close;
	}

	window.YardAlerts = Object.freeze({
		KINDS: KINDS,
		isNodeKind: isNodeKind,
		isStateKind: isStateKind,
		isBelow: isBelow,
		unit: unit,
		fmt: fmt,
		condition: condition,
		summary: summary,
		marks: marks,
		muteButton: muteButton,
		muteDialog: muteDialog,
		localInput: localInput
	});
})();
