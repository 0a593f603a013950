/*
 * Yard "notifications" module page: the signed-in user's inbox (new
 * packages for targets they manage, alerts firing and resolved), newest
 * first and paged; unread items are marked.  Clicking an item marks it
 * read and opens its package in the packages module, or its alert event
 * in the alerts module (Yard.navigate); "Mark all read" marks the rest.  The
 * unread count goes to the host page as yard:badge (Yard.badge) when the
 * page loads and after every change.
 *
 * Test hooks: tr[data-notification-id][data-read=true|false]
 * [data-package-id][data-alert-event-id] with button[data-action=open];
 * #read-all; #load-more;
 * #unread-count[data-unread]; tr.empty-row[data-empty].
 */
(function () {
	"use strict";

	var Y = window.Yard;
	var t = Y.t;
	var el = Y.el;
	var PAGE = 50;

	var S = {
		items: [],
		next: null,
		unread: 0,
		seq: 0
	};

	function $(id) {
		return document.getElementById(id);
	}

	Y.onReady(init);

	function init() {
		$("load-more").addEventListener("click", function () {
			load(true);
		});
		$("read-all").addEventListener("click", readAll);
		load(false);
		unread();
	}

	/* ---- the count ------------------------------------------------------- */

	async function unread() {
		var res;

		try {
			res = await Y.api("GET", "/notifications/unread");
		} catch (err) {
			return;
		}
		setUnread(res && typeof res.unread === "number" ? res.unread : 0);
	}

	function setUnread(n) {
		var c = $("unread-count");

		S.unread = n;
		c.dataset.unread = String(n);
		c.textContent = t("notifications.unread", { n: n });
		c.hidden = n === 0;
		$("read-all").disabled = n === 0;
		Y.badge(n);
	}

	/* ---- the list -------------------------------------------------------- */

	async function load(more) {
		var seq = ++S.seq, res;

		try {
			res = await Y.api("GET", "/notifications" + Y.qs({
			    limit: PAGE, cursor: more ? S.next : "" }));
		} catch (err) {
			if (seq !== S.seq)
				return;
			Y.banner($("banner"), "error", Y.errorText(err));
			Y.setPageState("error");
			return;
		}
		if (seq !== S.seq)
			return;
		S.items = more ? S.items.concat(res.items || []) :
		    (res.items || []);
		S.next = res.next || null;
		render();
		Y.setPageState("ready");
	}

	function render() {
		var body = $("notifications-body");

		Y.clear(body);
		if (S.items.length === 0) {
			body.appendChild(el("tr", { class: "empty-row",
			    dataset: { empty: "none" } },
			    el("td", { colspan: "3", class: "muted",
			    text: t("notifications.empty") })));
		}
		S.items.forEach(function (n) {
			body.appendChild(el("tr", { dataset: {
			    notificationId: n.id, read: n.read ? "true" : "false",
			    packageId: n.package_id || "",
			    alertEventId: n.alert_event_id || "" } },
			    el("td", null, n.read ? null : el("span", {
			    class: "inbox-dot", title: t("notifications.new") },
			    el("span", { class: "visually-hidden",
			    text: t("notifications.new") }))),
			    el("td", null, el("button", { type: "button",
			    class: "btn btn--link inbox-title",
			    dataset: { action: "open" },
			    text: n.title || t("notifications.kind." + n.kind),
			    onclick: function () {
				    open(n);
			    } })),
			    el("td", { text: Y.formatTime(n.created_at),
			    title: Y.formatTimeFull(n.created_at) })));
		});
		$("notifications-count").textContent = t(S.next ?
		    "common.shownMore" : "common.shown", { n: S.items.length });
		$("load-more").hidden = !S.next;
	}

	/* ---- marking --------------------------------------------------------- */

	async function open(n) {
		if (!n.read) {
			try {
				await Y.api("POST", "/notifications/" + n.id +
				    "/read");
				n.read = true;
				setUnread(Math.max(0, S.unread - 1));
				render();
			} catch (err) {
				Y.banner($("banner"), "error", Y.errorText(err));
			}
		}
		if (n.alert_event_id)
			Y.navigate("alerts", { event: n.alert_event_id });
		else if (n.package_id)
			Y.navigate("packages", { package: n.package_id });
	}

	async function readAll() {
		var btn = $("read-all");

		btn.disabled = true;
		try {
			await Y.api("POST", "/notifications/read-all");
		} catch (err) {
			Y.banner($("banner"), "error", Y.errorText(err));
			btn.disabled = false;
			return;
		}
		S.items.forEach(function (n) {
			n.read = true;
		});
		render();
		setUnread(0);
		unread();
	}
})();
