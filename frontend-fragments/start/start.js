/*
 * Yard "start" module page: where the host opens a user first.  Once /me
 * has answered it tells the host which modules the user can use (bridge.js
 * posts yard:modules) and goes on to the first usable one, in the order of
 * /me's "modules" (tasks, nodes, metrics, logs, commands, packages,
 * alerts, notifications, permissions, users):
 *   - anyone with a grant, admins included, lands on Tasks;
 *   - an admin of a Yard with no node yet lands on Nodes, to enrol one;
 *   - a user with no grant stays here: a notice says whom to ask and
 *     which account name to give (their inbox is a link away).
 * Framed, Yard.navigate posts yard:navigate; at the top level the address
 * is replaced, so that Back does not come here again.
 *
 * Test hooks: body[data-yard-page], body[data-landing=<module>|none],
 * #start-none, #start-none-text, #start-inbox.
 */
(function () {
	"use strict";

	var Y = window.Yard;
	var t = Y.t;

	function $(id) {
		return document.getElementById(id);
	}

	Y.onReady(init);

	async function init(me) {
		var mods = me && Array.isArray(me.modules) ? me.modules : [];
		var go = mods.find(function (m) {
			return m !== "notifications";
		});
		var res;

		if (go === undefined) {
			showNone(me, mods);
			return;
		}
		if (go === "tasks" && me.admin && mods.indexOf("nodes") !== -1) {
			try {
				res = await Y.api("GET", "/nodes?limit=1");
				if (res && Array.isArray(res.items) &&
				    res.items.length === 0)
					go = "nodes";
			} catch (err) {
				/* Tasks then: its own page reports the error. */
			}
		}
		land(go);
	}

	function land(module) {
		var p, q;

		document.body.dataset.landing = module;
		if (Y.framed) {
			Y.navigate(module);
			return;
		}
		/* The same address as Yard.navigate, without a history entry. */
		p = new URLSearchParams();
		["theme", "lang"].forEach(function (k) {
			var v = new URLSearchParams(location.search).get(k);
			if (v !== null)
				p.set(k, v);
		});
		q = p.toString();
		location.replace(location.pathname.replace(/[^/]*$/, "") +
		    module + (q !== "" ? "?" + q : ""));
	}

	function showNone(me, mods) {
		var inbox = $("start-inbox");

		document.body.dataset.landing = "none";
		$("start-opening").hidden = true;
		$("start-none-text").textContent = t("start.none.text",
		    { sub: me && me.sub ? me.sub : "" });
		inbox.hidden = mods.indexOf("notifications") === -1;
		inbox.addEventListener("click", function (ev) {
			ev.preventDefault();
			Y.navigate("notifications");
		});
		$("start-none").hidden = false;
		Y.setPageState("ready");
	}
})();
