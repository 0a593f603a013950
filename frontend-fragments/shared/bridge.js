/*
 * Yard embed bridge (SPEC 3.2-3.4): exposes window.Yard.
 *
 * Loaded as a plain (blocking) script in <head>, after i18n.js, so that the
 * theme and language are set before the first paint and the URL fragment
 * token leaves the address bar at once.  It owns the page's EWS token (in
 * memory only), the postMessage protocol with EWS, the API client with its
 * 401 -> refresh -> retry path, the expired-login overlay, iframe resizing,
 * and small DOM/i18n helpers shared by the module pages.
 */
(function () {
	"use strict";

	var W = window;
	var D = document;

	var TOKEN_MAX = 8192;
	var TOKEN_RE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
	var WAIT_MS = 5000;		/* SPEC 3.2: no fresh token within 5 s */
	var ASK_AGAIN_MS = [1000, 2500];	/* ... asking again meanwhile */
	var REFRESH_LEAD_MS = 60000;	/* ask ~60 s before exp ... */
	var REFRESH_FRACTION = 0.8;	/* ... or at 80% of a shorter life */
	var MAX_TIMER_MS = 2147483647;
	var MAX_ATTEMPTS = 3;		/* tokens one API call may go through */
	var SKEW_TRUST_S = 120;		/* local clock vs iat: beyond, trust life */
	/* While the overlay shows, ask the host again after these (capped). */
	var RETRY_MS = [5000, 15000, 30000, 60000];
	var WAKE_ASK_MS = 2000;		/* at most one ask per focus/visibility */
	var RETURN_URL_MAX = 2048;
	var TOKEN_KEY = "yard.token";	/* top level only: sessionStorage */

	var framed = (function () {
		try {
			return W.parent !== W;
		} catch (e) {
			return true;
		}
	})();

	var params = new URLSearchParams(W.location.search);
	var theme = params.get("theme") === "dark" ? "dark" : "light";
	var lang = /^en(-|$)/i.test(params.get("lang") || "") ? "en" : "zh-CN";

	D.documentElement.dataset.theme = theme;
	D.documentElement.lang = lang;
	/* Framed, vh is the content-high iframe's: CSS sizes by this. */
	if (framed)
		D.documentElement.dataset.framed = "";

	/* ---- i18n ---------------------------------------------------------- */

	var strings = W.YardI18n || {};

	/*
	 * Yard.t(key, vars): the string for key in the page language, with
	 * "{name}" replaced by vars.name.  Falls back to zh-CN, then the key.
	 * With a number vars.count, "key_one" or "key_other" (the language's
	 * plural category; Chinese has only "other") is taken first when the
	 * language has it: English "tasks.count_one" is "{count} task".
	 */
	var pluralRules = (function () {
		try {
			return new Intl.PluralRules(lang);
		} catch (e) {
			return null;
		}
	})();

	function pluralKey(table, key, n) {
		var k = key + "_" + (pluralRules !== null ?
		    pluralRules.select(n) : n === 1 ? "one" : "other");

		if (Object.prototype.hasOwnProperty.call(table, k))
			return k;
		if (Object.prototype.hasOwnProperty.call(table, key + "_other"))
			return key + "_other";
		return key;
	}

	function t(key, vars) {
		var table = strings[lang] || {};
		var s;

		if (vars && typeof vars.count === "number")
			key = pluralKey(table, key, vars.count);
		s = Object.prototype.hasOwnProperty.call(table, key) ?
		    table[key] : undefined;
		if (s === undefined && strings["zh-CN"] &&
		    Object.prototype.hasOwnProperty.call(strings["zh-CN"], key))
			s = strings["zh-CN"][key];
		if (s === undefined)
			return key;
		if (vars) {
			s = s.replace(/\{([a-zA-Z0-9_]+)\}/g, function (m, k) {
				return Object.prototype.hasOwnProperty.call(vars,
				    k) && vars[k] !== null && vars[k] !== undefined ?
				    String(vars[k]) : m;
			});
		}
		return s;
	}

	function has(key) {
		var table = strings[lang] || {};
		var zh = strings["zh-CN"] || {};
		return Object.prototype.hasOwnProperty.call(table, key) ||
		    Object.prototype.hasOwnProperty.call(zh, key);
	}

	/* Fill data-i18n* attributes under root. */
	function applyI18n(root) {
		var map = [
			["data-i18n", null],
			["data-i18n-placeholder", "placeholder"],
			["data-i18n-title", "title"],
			["data-i18n-aria-label", "aria-label"]
		];
		map.forEach(function (m) {
			var nodes = (root || D).querySelectorAll("[" + m[0] + "]");
			nodes.forEach(function (n) {
				var key = n.getAttribute(m[0]);
				if (m[1] === null)
					n.textContent = t(key);
				else
					n.setAttribute(m[1], t(key));
			});
		});
	}

	/* ---- configuration ------------------------------------------------- */

	function readConfig() {
		var meta = D.querySelector('meta[name="yard-config"]');
		var c;

		if (meta === null)
			return null;
		try {
			c = JSON.parse(meta.getAttribute("content") || "");
		} catch (e) {
			return null;
		}
		if (c === null || typeof c !== "object" ||
		    !Array.isArray(c.ewsOrigins) ||
		    !c.ewsOrigins.every(function (o) {
			    return typeof o === "string" && o !== "" &&
				o !== "*" && o !== "null";
		    }) ||
		    typeof c.loginUrl !== "string" || c.loginUrl === "" ||
		    typeof c.apiBase !== "string" || c.apiBase.charAt(0) !== "/")
			return null;
		if (typeof c.returnParam !== "string" || c.returnParam === "")
			c.returnParam = "redirect_uri";
		return c;
	}

	var cfg = readConfig();

	/* ---- DOM helpers --------------------------------------------------- */

	var domReady = D.readyState !== "loading";
	var domQueue = [];

	function whenDom(fn) {
		if (domReady)
			fn();
		else
			domQueue.push(fn);
	}

	/*
	 * Yard.el(tag, attrs, ...children): build an element.  attrs: "class",
	 * "text" (textContent), "dataset" (object), "on<event>" (function),
	 * boolean properties (hidden, disabled, checked, selected, required),
	 * anything else via setAttribute.  Children: nodes, strings (as text),
	 * arrays; null/undefined/false are skipped.  Never parses HTML.
	 */
	function el(tag, attrs) {
		var n = D.createElement(tag);
		var k, v, i;

		attrs = attrs || {};
		for (k in attrs) {
			if (!Object.prototype.hasOwnProperty.call(attrs, k))
				continue;
			v = attrs[k];
			if (v === null || v === undefined || v === false)
				continue;
			if (k === "class") {
				n.className = Array.isArray(v) ?
				    v.filter(Boolean).join(" ") : v;
			} else if (k === "text") {
				n.textContent = String(v);
			} else if (k === "dataset") {
				Object.keys(v).forEach(function (dk) {
					if (v[dk] !== null && v[dk] !== undefined)
						n.dataset[dk] = String(v[dk]);
				});
			} else if (k.slice(0, 2) === "on" &&
			    typeof v === "function") {
				n.addEventListener(k.slice(2), v);
			} else if (k === "innerHTML" || k === "style") {
				throw new Error("Yard.el: " + k + " not allowed");
			} else if (k === "hidden" || k === "disabled" ||
			    k === "checked" || k === "selected" ||
			    k === "required") {
				n[k] = Boolean(v);
			} else if (k === "value") {
				n.value = String(v);
			} else {
				n.setAttribute(k, v === true ? "" : String(v));
			}
		}
		for (i = 2; i < arguments.length; i++)
			append(n, arguments[i]);
		return n;
	}

	function append(parent, child) {
		if (child === null || child === undefined || child === false)
			return;
		if (Array.isArray(child)) {
			child.forEach(function (c) {
				append(parent, c);
			});
		} else if (child instanceof Node) {
			parent.appendChild(child);
		} else {
			parent.appendChild(D.createTextNode(String(child)));
		}
	}

	function clear(n) {
		while (n.firstChild)
			n.removeChild(n.firstChild);
		return n;
	}

	/* Query string from an object, skipping null/undefined/"". */
	function qs(obj) {
		var p = new URLSearchParams();
		Object.keys(obj || {}).forEach(function (k) {
			var v = obj[k];
			if (v !== null && v !== undefined && v !== "")
				p.set(k, String(v));
		});
		var s = p.toString();
		return s === "" ? "" : "?" + s;
	}

	function toDate(v) {
		var d;

		if (v === null || v === undefined || v === "")
			return null;
		/*
		 * PostgreSQL's text form ("2026-11-24 21:56:03.52+00") as
		 * ISO 8601, which every browser parses.
		 */
		if (typeof v === "string")
			v = v.replace(/^(\d{4}-\d\d-\d\d) (\d)/, "$1T$2")
			    .replace(/(T[\d:.]+[+-]\d\d)$/, "$1:00");
		d = typeof v === "number" ? new Date(v * 1000) : new Date(v);
		return isNaN(d.getTime()) ? null : d;
	}

	function pad2(n) {
		return (n < 10 ? "0" : "") + n;
	}

	/*
	 * Yard.formatTime(v): a timestamp (ISO string or epoch seconds) as a
	 * compact local "MM-DD HH:mm" (this year) or "YYYY-MM-DD HH:mm";
	 * "never" for null.  Yard.formatTimeFull(v): with seconds and zone,
	 * for tooltips.
	 */
	function formatTime(v) {
		var d = toDate(v);
		var day;

		if (d === null)
			return v === null || v === undefined || v === "" ?
			    t("common.never") : String(v);
		day = pad2(d.getMonth() + 1) + "-" + pad2(d.getDate());
		if (d.getFullYear() !== new Date().getFullYear())
			day = d.getFullYear() + "-" + day;
		return day + " " + pad2(d.getHours()) + ":" + pad2(d.getMinutes());
	}

	function formatTimeFull(v) {
		var d = toDate(v);

		if (d === null)
			return "";
		try {
			return new Intl.DateTimeFormat(lang, {
				dateStyle: "full", timeStyle: "long"
			}).format(d);
		} catch (e) {
			return d.toString();
		}
	}

	function setPageState(s) {
		whenDom(function () {
			D.body.dataset.yardPage = s;
		});
	}

	/* ---- messages to and from EWS ------------------------------------- */

	function pickTargetOrigin() {
		var list = cfg.ewsOrigins;
		var o = null;
		var ao = W.location.ancestorOrigins;

		try {
			if (D.referrer)
				o = new URL(D.referrer).origin;
		} catch (e) {
			o = null;
		}
		if (o !== null && list.indexOf(o) !== -1)
			return o;
		if (ao && ao.length > 0 && list.indexOf(ao[0]) !== -1)
			return ao[0];
		return list.length > 0 ? list[0] : null;
	}

	var targetOrigin = cfg && framed ? pickTargetOrigin() : null;

	function post(msg) {
		if (!framed || targetOrigin === null)
			return;
		try {
			W.parent.postMessage(msg, targetOrigin);
		} catch (e) {
			/* A wrong origin throws nothing; a detached parent might. */
		}
	}

	function validToken(tok) {
		return typeof tok === "string" && tok.length > 0 &&
		    tok.length <= TOKEN_MAX && TOKEN_RE.test(tok);
	}

	function onMessage(ev) {
		var d = ev.data;

		if (!framed || ev.source !== W.parent)
			return;
		if (cfg.ewsOrigins.indexOf(ev.origin) === -1)
			return;
		if (d === null || typeof d !== "object" || Array.isArray(d))
			return;
		if (typeof d.type !== "string")
			return;
		if (d.type === "ews:token") {
			/* Where the sign-in link comes back to: the host's page. */
			if (d.returnUrl !== undefined)
				setReturnUrl(d.returnUrl);
			if (!validToken(d.token))
				return;
			acceptToken(d.token);
		}
	}

	/*
	 * returnUrl (in ews:token): the host page to come back to after a
	 * sign-in, i.e. the portal with this module open.  Only an absolute
	 * http(s) URL on one of the EWS origins is kept; anything else is
	 * ignored (the referrer, then the EWS origin, stand in).
	 */
	function setReturnUrl(v) {
		var u;

		if (typeof v !== "string" || v.length > RETURN_URL_MAX)
			return;
		try {
			u = new URL(v);
		} catch (e) {
			return;
		}
		if ((u.protocol !== "https:" && u.protocol !== "http:") ||
		    u.username !== "" || u.password !== "" ||
		    cfg.ewsOrigins.indexOf(u.origin) === -1)
			return;
		A.returnUrl = u.href;
	}

	/* ---- token state --------------------------------------------------- */

	var A = {
		token: null,
		stale: false,		/* current token refused or expired */
		rejected: [],		/* recently refused tokens, never reused */
		state: "pending",	/* pending | ok | expired */
		started: false,		/* /me requested */
		ready: false,		/* /me answered: Yard.me is set */
		waiters: [],		/* API calls waiting for a token */
		waitTimer: null,	/* 5 s: initial token or refresh */
		askTimer: null,		/* the same request again */
		asked: 0,		/* how often it was repeated */
		refreshTimer: null,
		expiryTimer: null,
		retryTimer: null,	/* overlay shown: ask the host again */
		retries: 0,
		lastWake: 0,
		returnUrl: null		/* host page to come back to (framed) */
	};
	var readyFns = [];

	function setAuthState(s) {
		A.state = s;
		whenDom(function () {
			D.body.dataset.yardAuth = A.state;
			updateAuthUi();
		});
	}

	function decodePayload(tok) {
		var s, bin, bytes, i, p;

		try {
			s = tok.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
			while (s.length % 4 !== 0)
				s += "=";
			bin = W.atob(s);
			bytes = new Uint8Array(bin.length);
			for (i = 0; i < bin.length; i++)
				bytes[i] = bin.charCodeAt(i);
			p = JSON.parse(new TextDecoder().decode(bytes));
			return p !== null && typeof p === "object" ? p : null;
		} catch (e) {
			return null;
		}
	}

	/*
	 * When the token stops working, in local milliseconds, or null when it
	 * has no usable exp.  If the local clock disagrees with the issuer's
	 * iat by more than SKEW_TRUST_S, count the token's life from now
	 * instead, so that a skewed PC neither refreshes in a loop nor
	 * declares every fresh token expired.
	 */
	function tokenDeadline(tok) {
		var p = decodePayload(tok);
		var now = Date.now() / 1000;

		if (p === null || typeof p.exp !== "number" || !isFinite(p.exp))
			return null;
		if (typeof p.iat === "number" && isFinite(p.iat) &&
		    p.iat <= p.exp && Math.abs(now - p.iat) > SKEW_TRUST_S)
			return Date.now() + (p.exp - p.iat) * 1000;
		return p.exp * 1000;
	}

	function clearTimer(name) {
		if (A[name] !== null) {
			clearTimeout(A[name]);
			A[name] = null;
		}
	}

	function rememberRejected(tok) {
		if (tok === null || A.rejected.indexOf(tok) !== -1)
			return;
		A.rejected.push(tok);
		if (A.rejected.length > 8)
			A.rejected.shift();
	}

	function acceptToken(tok) {
		if (A.rejected.indexOf(tok) !== -1)
			return;		/* the server already refused it */
		if (tok === A.token && !A.stale && A.state === "ok")
			return;		/* same token again */
		A.token = tok;
		A.stale = false;
		clearTimer("waitTimer");
		clearTimer("askTimer");
		scheduleRefresh();
		if (A.stale)
			return;		/* arrived expired: a refresh is asked */
		clearTimer("retryTimer");
		A.retries = 0;
		if (!framed)
			storeToken(tok);
		setAuthState("ok");
		flushWaiters();
		if (!A.started) {
			A.started = true;
			loadMe();
		}
	}

	function scheduleRefresh() {
		var dl, remaining, delay, tok = A.token;

		clearTimer("refreshTimer");
		clearTimer("expiryTimer");
		dl = tokenDeadline(tok);
		if (dl === null)
			return;
		remaining = dl - Date.now();
		if (remaining <= 0) {
			/* Arrived already expired: do not use it. */
			markStale(tok);
			W.setTimeout(requestFresh, 0);
			return;
		}
		delay = Math.max(remaining - REFRESH_LEAD_MS,
		    remaining * REFRESH_FRACTION);
		if (framed) {
			A.refreshTimer = W.setTimeout(function () {
				A.refreshTimer = null;
				if (A.token === tok)
					post({ type: "yard:token-request" });
			}, Math.min(delay, MAX_TIMER_MS));
		}
		A.expiryTimer = W.setTimeout(function () {
			A.expiryTimer = null;
			if (A.token === tok && !A.stale) {
				markStale(tok);
				requestFresh();
			}
		}, Math.min(remaining, MAX_TIMER_MS));
	}

	function markStale(tok) {
		rememberRejected(tok);
		dropStoredToken(tok);
		if (tok === A.token)
			A.stale = true;
	}

	/*
	 * Top level only: the token rides along to the next Yard page this
	 * tab opens by a same-origin link, in sessionStorage (this tab and
	 * this origin only, never a URL, gone with the tab), until it
	 * expires or the server refuses it.  Framed pages get theirs from
	 * the host and store nothing.
	 */
	function storage() {
		try {
			return W.sessionStorage;
		} catch (e) {
			return null;	/* storage disabled */
		}
	}

	function storeToken(tok) {
		var st = storage();

		if (framed || st === null)
			return;
		try {
			st.setItem(TOKEN_KEY, tok);
		} catch (e) {
			/* full or refused: the next page signs in again */
		}
	}

	function storedToken() {
		var st = storage(), tok;

		if (framed || st === null)
			return null;
		try {
			tok = st.getItem(TOKEN_KEY);
		} catch (e) {
			return null;
		}
		return validToken(tok) ? tok : null;
	}

	function dropStoredToken(tok) {
		var st = storage();

		if (framed || st === null)
			return;
		try {
			if (tok === undefined || st.getItem(TOKEN_KEY) === tok)
				st.removeItem(TOKEN_KEY);
		} catch (e) {
			/* nothing to do */
		}
	}

	/* Ask EWS for a fresh token; expire if none comes within 5 s. */
	function requestFresh() {
		if (A.state === "expired")
			return;		/* waiting for a sign-in already */
		if (!framed) {
			expire();
			return;
		}
		if (A.waitTimer !== null)
			return;		/* a request is out already */
		if (A.state === "ok")
			setAuthState("pending");
		ask("yard:token-request");
	}

	/*
	 * Post a request for a token and wait up to 5 s for it, repeating the
	 * request meanwhile: a host page may not listen yet when the first
	 * one arrives (its script deferred behind our frame's load), and
	 * postMessage has no delivery receipt.  Both requests are harmless
	 * to repeat.
	 */
	function ask(type) {
		post({ type: type });
		A.asked = 0;
		A.waitTimer = W.setTimeout(expire, WAIT_MS);
		askLater(type);
	}

	function askLater(type) {
		if (A.asked >= ASK_AGAIN_MS.length)
			return;
		A.askTimer = W.setTimeout(function () {
			A.askTimer = null;
			if (A.waitTimer === null)
				return;
			post({ type: type });
			A.asked++;
			askLater(type);
		}, ASK_AGAIN_MS[A.asked] - (A.asked > 0 ?
		    ASK_AGAIN_MS[A.asked - 1] : 0));
	}

	/*
	 * The login URL with the page to come back to.  Top level: this page
	 * (without fragment).  Framed: never this bare page (it would open
	 * without the portal around it) but the host's: the returnUrl it
	 * gave, else the referrer when it is an EWS page, else the EWS
	 * origin.
	 */
	function returnTo() {
		var r = null;

		if (!framed)
			return W.location.href.split("#")[0];
		if (A.returnUrl !== null)
			return A.returnUrl;
		try {
			if (D.referrer && cfg.ewsOrigins.indexOf(
			    new URL(D.referrer).origin) !== -1)
				r = new URL(D.referrer).href.split("#")[0];
		} catch (e) {
			r = null;
		}
		if (r !== null)
			return r;
		return (targetOrigin || cfg.ewsOrigins[0]) + "/";
	}

	function loginUrl() {
		var base = cfg.loginUrl;
		return base + (base.indexOf("?") !== -1 ? "&" : "?") +
		    cfg.returnParam + "=" + encodeURIComponent(returnTo());
	}

	/*
	 * While the overlay shows, keep asking the host for a token (it may
	 * be able to refresh again: a network blip, a session renewed in
	 * another tab), after 5 s, 15 s, 30 s, then every minute, and at once
	 * when the tab is shown or focused again.  Whatever token comes,
	 * asked or not, resumes the page where it was.
	 */
	function retryLater() {
		var ms = RETRY_MS[Math.min(A.retries, RETRY_MS.length - 1)];

		clearTimer("retryTimer");
		A.retryTimer = W.setTimeout(function () {
			A.retryTimer = null;
			if (A.state !== "expired")
				return;
			A.retries++;
			post({ type: "yard:token-request" });
			retryLater();
		}, ms);
	}

	function onWake() {
		if (!framed || A.state !== "expired" ||
		    D.visibilityState === "hidden" ||
		    Date.now() - A.lastWake < WAKE_ASK_MS)
			return;
		A.lastWake = Date.now();
		post({ type: "yard:token-request" });
	}

	/*
	 * Expired flow.  Top level before the page ever worked: go to the EWS
	 * login at once.  Otherwise (framed, or top level with work on the
	 * page): tell EWS, and show the overlay over the untouched page until
	 * a fresh token arrives.
	 */
	function expire() {
		var L;

		clearTimer("waitTimer");
		clearTimer("askTimer");
		clearTimer("refreshTimer");
		clearTimer("expiryTimer");
		if (A.token !== null)
			markStale(A.token);
		dropStoredToken();
		L = loginUrl();
		if (!framed && !A.ready) {
			A.state = "expired";
			W.location.replace(L);
			return;
		}
		if (A.state === "expired")
			return;
		setAuthState("expired");
		if (framed) {
			/* overlay: the page shows its own sign-in link (no banner). */
			post({ type: "yard:login-expired", loginUrl: L,
			    overlay: true });
			A.retries = 0;
			retryLater();
		}
		whenDom(function () {
			var a = D.getElementById("yard-relogin");
			if (a !== null)
				a.setAttribute("href", L);
		});
	}

	function flushWaiters() {
		var ws = A.waiters.splice(0);
		ws.forEach(function (resolve) {
			resolve();
		});
	}

	function usable() {
		return A.token !== null && !A.stale && A.state === "ok";
	}

	/* Resolves once a usable token is in hand (queued until then). */
	async function waitToken() {
		while (!usable()) {
			await new Promise(function (resolve) {
				A.waiters.push(resolve);
			});
		}
	}

	/* ---- API client ---------------------------------------------------- */

	function apiError(status, data, fallbackCode) {
		var e, msg = null, code = fallbackCode || null, field = null;

		if (data !== null && typeof data === "object") {
			if (typeof data.error === "string")
				code = data.error;
			if (typeof data.message === "string")
				msg = data.message;
			if (typeof data.field === "string")
				field = data.field;
		}
		e = new Error(msg !== null ? msg : "HTTP " + status);
		e.status = status;
		e.code = code;
		e.field = field;
		e.serverMessage = msg;
		/* Every refused field: {field, code, min, max, allowed, …}. */
		e.fields = data !== null && typeof data === "object" &&
		    Array.isArray(data.fields) ? data.fields.filter(function (f) {
			return f !== null && typeof f === "object" &&
			    typeof f.field === "string" &&
			    typeof f.code === "string";
		}) : [];
		return e;
	}

	/*
	 * Yard.request(method, path, body): fetch apiBase + path with the
	 * bearer token; body is sent as JSON, or as it is when a Blob (with
	 * the Blob's type).  Resolves to {status, data} where data is the parsed
	 * JSON (null for 204 or an empty body).  Rejects with an Error
	 * carrying status, code, field and message (status 0: network).
	 * A 401 asks EWS for a fresh token and retries once it arrives; calls
	 * made meanwhile wait in the queue.  With raw, a success resolves to
	 * {status, text, headers} unparsed (a download).
	 */
	async function request(method, path, body, raw) {
		var attempt = 0, tok, res, text, data, opts, draft;

		if (cfg === null)
			throw apiError(0, null, "config");
		draft = takeSubmit(method);
		for (;;) {
			await waitToken();
			tok = A.token;
			opts = {
				method: method,
				headers: {
					"Accept": "application/json",
					"Authorization": "Bearer " + tok
				},
				credentials: "omit",
				cache: "no-store"
			};
			if (body instanceof Blob) {
				/* A file's bytes as they are (an import). */
				opts.headers["Content-Type"] = body.type ||
				    "application/octet-stream";
				opts.body = body;
			} else if (body !== undefined) {
				opts.headers["Content-Type"] = "application/json";
				opts.body = JSON.stringify(body);
			}
			try {
				res = await fetch(cfg.apiBase + path, opts);
			} catch (e) {
				throw apiError(0, null, "network");
			}
			if (res.status === 401) {
				attempt++;
				try {
					data = JSON.parse(await res.text());
				} catch (e) {
					data = null;
				}
				if (tok === A.token) {
					markStale(tok);
					if (attempt >= MAX_ATTEMPTS) {
						expire();
						throw apiError(401, data);
					}
					if (attempt === 1)
						requestFresh();
					else
						expire();
				} else if (attempt >= MAX_ATTEMPTS) {
					throw apiError(401, data);
				}
				continue;
			}
			try {
				text = await res.text();
			} catch (e) {
				throw apiError(0, null, "network");
			}
			if (res.ok && draft !== null)
				clearDraft(draft.entry, draft.key); /* it went through */
			if (raw && res.ok)
				return { status: res.status, text: text,
				    headers: res.headers };
			data = null;
			if (text !== "") {
				try {
					data = JSON.parse(text);
				} catch (e) {
					if (res.ok)
						throw apiError(res.status, null,
						    "bad_response");
				}
			}
			if (res.ok)
				return { status: res.status,
				    data: res.status === 204 ? null : data };
			throw apiError(res.status, data);
		}
	}

	/* Yard.api(method, path, body): Yard.request, resolving to data only. */
	async function api(method, path, body) {
		return (await request(method, path, body)).data;
	}

	/*
	 * Yard.may(level, need): whether a level the server reported on an
	 * object ("none", "view", "operate", "manage") includes need.  Pages
	 * show actions by it; the server checks every call regardless.
	 */
	var LEVELS = { none: 0, view: 1, operate: 2, manage: 3 };

	function may(level, need) {
		return Object.prototype.hasOwnProperty.call(LEVELS, level) &&
		    Object.prototype.hasOwnProperty.call(LEVELS, need) &&
		    LEVELS[level] >= LEVELS[need];
	}

	/*
	 * One refused field in words: "field.<code>" (a more precise
	 * "field.<code>.<expected|pattern>" when there is one) with its
	 * parameters ({max}, {min}, {allowed}, {roots}, {kind}).
	 */
	function fieldText(f) {
		var vars = {}, key = "field." + f.code;

		Object.keys(f).forEach(function (k) {
			if (k !== "field" && k !== "code")
				vars[k] = Array.isArray(f[k]) ? f[k].join(", ") :
				    f[k];
		});
		if (typeof f.expected === "string" &&
		    has(key + "." + f.expected))
			key += "." + f.expected;
		else if (typeof f.pattern === "string" &&
		    has(key + "." + f.pattern))
			key += "." + f.pattern;
		else if (typeof f.kind === "string" && has(key + ".kind"))
			key += ".kind";
		if (!has(key))
			key = "field.invalid";
		return t(key, vars);
	}

	/* A user-facing sentence for an error from Yard.api. */
	function errorText(err) {
		if (err === null || err === undefined)
			return t("error.generic", { status: "?" });
		/* Field refusals: our words, never the server's English. */
		if (err.fields && err.fields.length === 1)
			return t("error.field", { field: err.fields[0].field,
			    text: fieldText(err.fields[0]) });
		if (err.fields && err.fields.length > 1)
			return t("error.fields", { count: err.fields.length });
		if (err.code && has("error." + err.code))
			return t("error." + err.code);
		/*
		 * Unknown code (e.g. bad_request): the server's sentence says
		 * what was wrong but is English; zh-CN leads with our own words.
		 */
		if (err.serverMessage)
			return t("error.detail", {
				text: t(has("error.status." + err.status) ?
				    "error.status." + err.status : "error.generic",
				    { status: err.status }),
				detail: err.serverMessage
			});
		if (err.status && has("error.status." + err.status))
			return t("error.status." + err.status);
		if (err.status)
			return t("error.generic", { status: err.status });
		return String(err.message || err);
	}

	/* ---- /me and readiness -------------------------------------------- */

	function loadMe() {
		api("GET", "/me").then(function (me) {
			Yard.me = me;
			A.ready = true;
			/* The host shows only the modules this user can use. */
			if (me && Array.isArray(me.modules))
				post({ type: "yard:modules",
				    modules: me.modules.slice() });
			startBadge();
			whenDom(function () {
				renderUser(me);
				readyFns.splice(0).forEach(runReady);
				W.setTimeout(startDrafts, 0);
			});
		}, function (err) {
			whenDom(function () {
				showStartError(err);
			});
		});
	}

	function runReady(fn) {
		try {
			fn(Yard.me);
		} catch (e) {
			W.setTimeout(function () {
				throw e;
			}, 0);
		}
	}

	function onReady(fn) {
		if (A.ready && domReady)
			Promise.resolve().then(function () {
				runReady(fn);
			});
		else
			readyFns.push(fn);
	}

	function renderUser(me) {
		var slot = D.getElementById("yard-user");
		if (slot === null || me === null || typeof me !== "object")
			return;
		clear(slot);
		append(slot, [
			el("span", { class: "visually-hidden",
			    text: t("header.signedIn") }),
			el("span", { class: "yard-user__name",
			    text: me.name || me.sub || "",
			    title: me.email || me.sub || "" }),
			me.admin ? el("span", { class: "badge badge--accent",
			    text: t("header.admin") }) : null
		]);
	}

	function showStartError(err) {
		var main = D.querySelector("main") || D.body;
		var box = D.getElementById("yard-start-error");

		if (box !== null)
			box.remove();
		/* 403 (disabled, not provisioned) will not change on a retry. */
		box = el("div", { id: "yard-start-error",
		    class: "banner banner--error", role: "alert",
		    dataset: { code: err.code || err.status } },
		    el("span", { class: "banner__text", text: errorText(err) }),
		    err.status === 403 ? null : el("button", { type: "button",
			class: "btn btn--small", text: t("common.retry"),
			onclick: function () {
				box.remove();
				loadMe();
			} }));
		main.insertBefore(box, main.firstChild);
		setPageState("error");
	}

	/* ---- auth UI: signing-in note and expired overlay ------------------ */

	function buildAuthUi() {
		var L = cfg ? loginUrl() : "#", over;

		if (D.getElementById("yard-expired") !== null)
			return;
		D.body.appendChild(el("div", { id: "yard-signin",
		    role: "status", hidden: true, text: t("auth.signingIn") }));
		/* A modal <dialog>: the top layer puts it over a page's own
		 * open dialog (a drawer), which then goes inert like the rest. */
		D.body.appendChild(el("dialog", { id: "yard-expired",
		    role: "alertdialog", "aria-modal": "true",
		    "aria-labelledby": "yard-expired-title" },
		    el("div", { class: "yard-expired__box" },
			el("div", { id: "yard-expired-title",
			    class: "yard-expired__title",
			    text: t("auth.expired.title") }),
			el("p", { class: "yard-expired__text",
			    text: t("auth.expired.text") }),
			el("a", { id: "yard-relogin", class: "btn btn--primary",
			    href: L, target: "_top", rel: "noopener",
			    text: t("auth.expired.link"),
			    onclick: onRelogin }))));
		over = D.getElementById("yard-expired");
		over.addEventListener("keydown", trapTab);
		/* Escape does not take it away; a second Escape, which Chrome
		 * lets close a dialog anyway, finds it back at once. */
		over.addEventListener("cancel", function (ev) {
			ev.preventDefault();
		});
		over.addEventListener("close", function () {
			if (A.state === "expired")
				W.setTimeout(updateAuthUi, 0);
		});
	}

	/*
	 * Tab and Shift-Tab cycle within the overlay: inert keeps them off
	 * the page under it, and this keeps them from leaving the frame for
	 * the host page.
	 */
	function trapTab(ev) {
		var f, i;

		if (ev.key !== "Tab")
			return;
		f = Array.prototype.slice.call(ev.currentTarget.querySelectorAll(
		    "a[href], button:not([disabled]), input, [tabindex]"));
		ev.preventDefault();
		if (f.length === 0)
			return;
		i = f.indexOf(D.activeElement);
		i = ev.shiftKey ? (i <= 0 ? f.length - 1 : i - 1) :
		    (i + 1) % f.length;
		f[i].focus();
	}

	/*
	 * The link itself takes the top window to the login (a click lets a
	 * frame do that); framed, the host also hears of it, so that it can
	 * go there itself (its own login, its own page to come back to).
	 */
	function onRelogin(ev) {
		var a = ev.currentTarget;

		a.setAttribute("href", loginUrl());
		if (framed)
			post({ type: "yard:relogin", loginUrl: loginUrl() });
	}

	var focusBefore = null;		/* focus when the overlay came */

	/*
	 * While the overlay shows, the rest of the page is inert: Tab stays
	 * on the overlay and typing cannot reach the form under it (the form
	 * keeps its content for when the sign-in comes back).
	 */
	function inertBehind(over, on) {
		Array.prototype.forEach.call(D.body.children, function (c) {
			if (c === over)
				return;
			if (on && !c.inert) {
				c.inert = true;
				c.dataset.yardInert = "1";
			} else if (!on && c.dataset.yardInert === "1") {
				c.inert = false;
				delete c.dataset.yardInert;
			}
		});
	}

	function updateAuthUi() {
		var signin = D.getElementById("yard-signin");
		var over = D.getElementById("yard-expired");
		var a;

		if (signin === null || over === null)
			return;
		signin.hidden = A.state !== "pending";
		a = D.getElementById("yard-relogin");
		if (A.state === "expired") {
			a.setAttribute("href", loginUrl());
			if (!over.open) {
				if (focusBefore === null)
					focusBefore = D.activeElement;
				over.showModal();
				inertBehind(over, true);
				placeNear(over.firstChild, lastPointerY);
				a.focus({ preventScroll: true });
			}
		} else if (over.open) {
			over.close();
			inertBehind(over, false);
			/* Back to where the user was (typing, say). */
			if (focusBefore !== null && focusBefore !== D.body &&
			    D.contains(focusBefore) &&
			    (D.activeElement === a ||
			    D.activeElement === D.body))
				focusBefore.focus({ preventScroll: true });
			focusBefore = null;
		}
	}

	/* ---- banners and confirmation ------------------------------------- */

	/*
	 * Yard.banner(container, kind, text): replace container's content with
	 * one dismissable banner (kind: error | success | warning | info).
	 * Yard.banner(container) clears it.
	 */
	function banner(container, kind, text) {
		clear(container);
		if (!kind) {
			container.hidden = true;
			return;
		}
		container.hidden = false;
		container.appendChild(el("div", {
			class: "banner banner--" + kind,
			role: kind === "error" ? "alert" : "status",
			dataset: { kind: kind }
		},
		    el("span", { class: "banner__text", text: text }),
		    el("button", { type: "button", class: "banner__close",
			"aria-label": t("common.close"), text: "×",
			onclick: function () {
				banner(container);
			} })));
	}

	/* ---- field errors --------------------------------------------------- */

	/* The words of the label of input (without the required mark). */
	function labelOf(form, input) {
		var l = null, s;

		if (input.id)
			l = form.querySelector('label[for="' + input.id + '"]');
		if (l === null)
			l = input.closest("label");
		if (l === null && input.getAttribute("aria-label"))
			return input.getAttribute("aria-label");
		if (l === null)
			return input.name || "";
		s = l.querySelector("[data-i18n]");
		return (s !== null ? s.textContent : l.textContent)
		    .replace(/[*＊]\s*$/, "").trim();
	}

	function visible(n) {
		return n.closest("[hidden]") === null && !n.disabled;
	}

	/*
	 * The control of a field path: a box [data-field-error=path] and the
	 * control it describes, or a control named path or whose data-field
	 * lists it; then the same for "a.b[2]" -> "a.b", and the last two
	 * segments joined ("health_path") or the last alone ("deploy_dir"),
	 * dropping segments from the end ("spec.restart.x" -> "restart").
	 */
	function fieldControl(form, path) {
		var p = path.replace(/\[\d+\]/g, ""), segs, i, c, box, name;
		var ctrls = Array.prototype.filter.call(form.querySelectorAll(
		    "input, select, textarea"), visible);

		function byName(n) {
			var hit = null;

			ctrls.some(function (x) {
				var df = (x.getAttribute("data-field") || "")
				    .split(/\s+/);
				if (x.name === n || df.indexOf(n) !== -1) {
					hit = x;
					return true;
				}
				return false;
			});
			return hit;
		}
		function byBox(n) {
			var b = form.querySelector('[data-field-error="' +
			    n.replace(/"/g, "") + '"]');
			var hit = null;

			if (b === null || b.closest("[hidden]") !== null &&
			    b.parentNode.closest("[hidden]") !== null)
				return null;
			ctrls.some(function (x) {
				var d = (x.getAttribute("aria-describedby") ||
				    "").split(/\s+/);
				if (b.id && d.indexOf(b.id) !== -1) {
					hit = x;
					return true;
				}
				return false;
			});
			return hit === null ? null : { control: hit, box: b };
		}
		if ((box = byBox(path)) !== null || (box = byBox(p)) !== null)
			return box;
		if ((c = byName(path) || byName(p)) !== null)
			return { control: c, box: null };
		segs = p.split(".");
		for (i = segs.length; i > 0; i--) {
			name = segs.slice(0, i);
			if (name.length >= 2 && (c = byName(name.slice(-2)
			    .join("_"))) !== null)
				return { control: c, box: null };
			if ((c = byName(name[name.length - 1])) !== null)
				return { control: c, box: null };
		}
		return null;
	}

	/* Undo what showFieldErrors() wrote on form. */
	function clearFieldErrors(form) {
		form.querySelectorAll("[data-yard-ferr]").forEach(function (n) {
			if (n.getAttribute("data-yard-ferr") === "made") {
				n.remove();
				return;
			}
			n.textContent = "";
			n.hidden = true;
			n.removeAttribute("data-yard-ferr");
		});
		form.querySelectorAll("[data-yard-invalid]").forEach(function (n) {
			var d;

			n.removeAttribute("aria-invalid");
			n.removeAttribute("data-yard-invalid");
			d = (n.getAttribute("aria-describedby") || "").split(/\s+/)
			    .filter(function (id) {
				return id && !/^yard-ferr-/.test(id);
			});
			if (d.length)
				n.setAttribute("aria-describedby", d.join(" "));
			else
				n.removeAttribute("aria-describedby");
		});
	}

	var ferrSeq = 0;

	/*
	 * Yard.showFieldErrors(form, err, opts): each of err.fields next to
	 * its control (see fieldControl), in the page language, with
	 * aria-invalid and aria-describedby; earlier ones cleared; focus on
	 * the first invalid control in the form's order; a summary read out
	 * by an assertive live region.  Refusals with no control on the form,
	 * and an err without fields, go to opts.banner (default: the page's
	 * #banner).  Returns the number of refusals shown next to a control.
	 */
	function showFieldErrors(form, err, opts) {
		var bannerBox = (opts && opts.banner) || D.getElementById("banner");
		var shown = [], rest = [], live, first = null, list;

		clearFieldErrors(form);
		(err && err.fields ? err.fields : []).forEach(function (f) {
			var hit = fieldControl(form, f.field), box, text, ids;

			if (hit === null) {
				rest.push(f);
				return;
			}
			text = fieldText(f);
			box = hit.box;
			if (box === null) {
				box = el("div", { class: "field__error",
				    id: "yard-ferr-" + (++ferrSeq) });
				box.setAttribute("data-yard-ferr", "made");
				hit.control.insertAdjacentElement("afterend", box);
			} else if (box.getAttribute("data-yard-ferr") !== null &&
			    box.textContent) {
				/* A second refusal of the same control. */
				box.textContent += " " + text;
				return;
			} else
				box.setAttribute("data-yard-ferr", "box");
			box.textContent = text;
			box.hidden = false;
			ids = (hit.control.getAttribute("aria-describedby") || "")
			    .split(/\s+/).filter(Boolean);
			if (ids.indexOf(box.id) === -1)
				ids.push(box.id);
			hit.control.setAttribute("aria-describedby", ids.join(" "));
			hit.control.setAttribute("aria-invalid", "true");
			hit.control.setAttribute("data-yard-invalid", "");
			shown.push({ control: hit.control,
			    label: labelOf(form, hit.control), text: text });
		});
		shown.sort(function (a, b) {
			return a.control.compareDocumentPosition(b.control) &
			    Node.DOCUMENT_POSITION_FOLLOWING ? -1 : 1;
		});
		if (shown.length > 0) {
			first = shown[0].control;
			first.focus();
		}
		if (bannerBox !== null) {
			if (rest.length > 0)
				banner(bannerBox, "error", rest.map(function (f) {
					return t("error.field", { field: f.field,
					    text: fieldText(f) });
				}).join(" "));
			else if (shown.length === 0 && err)
				banner(bannerBox, "error", errorText(err));
			else
				banner(bannerBox);
		}
		live = form.querySelector("[data-yard-live]");
		if (live === null) {
			live = el("div", { class: "visually-hidden",
			    role: "alert" });
			live.setAttribute("aria-live", "assertive");
			live.setAttribute("data-yard-live", "");
			form.appendChild(live);
		}
		list = shown.map(function (x) {
			return t("form.errors.item", { label: x.label,
			    text: x.text });
		});
		live.textContent = shown.length === 0 ? "" :
		    t("form.errors.summary", { count: shown.length,
			list: list.join(t("form.errors.sep")) });
		return shown.length;
	}

	/*
	 * Focus goes back where it was when a dialog opened (the control that
	 * opened it), if that is still on the page; else to the main region,
	 * never to the body.
	 */
	function focusBack(prev) {
		var m;

		if (prev && prev !== D.body && prev.isConnected &&
		    typeof prev.focus === "function") {
			prev.focus();
			if (D.activeElement === prev)
				return;
		}
		m = D.querySelector("main") || D.body;
		if (!m.hasAttribute("tabindex"))
			m.setAttribute("tabindex", "-1");
		m.focus();
	}

	/*
	 * Yard.confirm({text, ok, danger}): an in-page modal (dialog#yard-confirm,
	 * buttons data-action="confirm" / "cancel").  Resolves true or false.
	 * A destructive confirmation (danger) opens with focus on Cancel, so
	 * that Enter does not destroy; focus returns to the opener on close.
	 */
	function confirmBox(opts) {
		var dlg = D.getElementById("yard-confirm");
		var prev = D.activeElement;

		if (dlg !== null)
			dlg.remove();
		return new Promise(function (resolve) {
			var done = false;
			function finish(v) {
				if (done)
					return;
				done = true;
				if (dlg.open)
					dlg.close();
				dlg.remove();
				D.body.classList.remove("yard-modal-open");
				focusBack(prev);
				resolve(v);
			}
			dlg = el("dialog", { id: "yard-confirm", class: "yard-dialog",
			    "aria-labelledby": "yard-confirm-title" },
			    el("div", { class: "yard-dialog__body" },
				el("div", { id: "yard-confirm-title",
				    class: "yard-dialog__title",
				    text: opts.title || t("confirm.title") }),
				el("div", { class: "yard-dialog__text",
				    text: opts.text || "" })),
			    el("div", { class: "yard-dialog__actions" },
				el("button", { type: "button", class: "btn",
				    dataset: { action: "cancel" },
				    text: opts.cancel || t("common.cancel"),
				    onclick: function () {
					    finish(false);
				    } }),
				el("button", { type: "button",
				    class: opts.danger ? "btn btn--danger" :
					"btn btn--primary",
				    dataset: { action: "confirm" },
				    text: opts.ok || t("common.confirm"),
				    onclick: function () {
					    finish(true);
				    } })));
			dlg.addEventListener("cancel", function (ev) {
				ev.preventDefault();
				finish(false);
			});
			D.body.appendChild(dlg);
			D.body.classList.add("yard-modal-open");
			dlg.showModal();
			placeNear(dlg, opts.anchor ? opts.anchor.getBoundingClientRect().top :
			    lastPointerY);
			dlg.querySelector(opts.danger ? '[data-action="cancel"]' :
			    '[data-action="confirm"]').focus();
		});
	}

	/*
	 * Framed, the page is as tall as its content and EWS scrolls it, so
	 * the middle of our viewport may be far from where the user looks.
	 * Put dialogs near the y the user last touched instead (CSSOM is not
	 * inline style: CSP allows it).
	 */
	var lastPointerY = null;

	D.addEventListener("pointerdown", function (ev) {
		lastPointerY = ev.clientY;
	}, true);

	/*
	 * visibleBand(fn): calls fn(top, bottom) once with the band of our
	 * viewport the user sees: framed, EWS shows only part of a tall page.
	 * An IntersectionObserver with the implicit root measures it against
	 * the top window's viewport, across origins too; where there is none,
	 * nothing is called.
	 */
	function visibleBand(fn) {
		var io;

		if (typeof W.IntersectionObserver !== "function")
			return;
		io = new W.IntersectionObserver(function (es) {
			var r = es[es.length - 1].intersectionRect;

			io.disconnect();
			if (r.height > 0)
				fn(r.top, r.bottom);
		});
		io.observe(D.documentElement);
	}

	function placeNear(box, y) {
		var h, top;

		if (!framed || y === null || y === undefined)
			return;
		h = box.getBoundingClientRect().height;
		top = Math.round(Math.max(8, Math.min(y - h / 2,
		    W.innerHeight - h - 8)));
		if (box.tagName === "DIALOG") {
			box.style.margin = "0 auto";
			box.style.top = top + "px";
			visibleBand(function (vt, vb) {
				var r = box.getBoundingClientRect(), at;

				at = Math.max(vt + 8, Math.min(r.top,
				    vb - r.height - 8));
				if (Math.round(at) !== Math.round(r.top))
					box.style.top = Math.round(at) + "px";
			});
		} else {
			box.style.marginTop = "0";
			box.style.marginTop = Math.max(0, top -
			    box.getBoundingClientRect().top) + "px";
		}
	}

	/*
	 * Yard.dialog(dlg, anchor): show a page's own modal <dialog> (built
	 * with el, class yard-dialog) near anchor (an element) or where the
	 * user last touched, like Yard.confirm; Escape and the returned
	 * close() take it away again (onclose, when given, runs once).
	 * Yard.placeDialog(dlg, anchor) places it again after its content
	 * grew.
	 */
	function dialog(dlg, anchor, onclose) {
		var done = false, prev = D.activeElement;

		function close() {
			if (done)
				return;
			done = true;
			if (dlg.open)
				dlg.close();
			dlg.remove();
			if (D.querySelector("dialog[open]") === null)
				D.body.classList.remove("yard-modal-open");
			if (typeof onclose === "function")
				onclose();
			focusBack(prev);
		}
		dlg.addEventListener("cancel", function (ev) {
			ev.preventDefault();
			close();
		});
		D.body.appendChild(dlg);
		D.body.classList.add("yard-modal-open");
		dlg.showModal();
		placeDialog(dlg, anchor);
		return close;
	}

	function placeDialog(dlg, anchor) {
		placeNear(dlg, anchor ? anchor.getBoundingClientRect().top :
		    lastPointerY);
	}

	/*
	 * Yard.bytes(n): a size in binary units, B, KiB, MiB, GiB ..., with 3
	 * significant digits at most and no trailing zeros ("3 MiB",
	 * "1.5 GiB", "12.3 KiB"; none: "—").  Every page's one byte format
	 * (YardCharts.formatBytes is this).
	 */
	function bytes(n) {
		var u = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"], i = 0, s;

		if (typeof n !== "number" || !isFinite(n))
			return t("common.none");
		while (Math.abs(n) >= 1024 && i < u.length - 1) {
			n /= 1024;
			i++;
		}
		s = n.toFixed(i === 0 || Math.abs(n) >= 100 ? 0 :
		    Math.abs(n) >= 10 ? 1 : 2);
		if (s.indexOf(".") !== -1)
			s = s.replace(/0+$/, "").replace(/\.$/, "");
		return s + " " + u[i];
	}

	/*
	 * Yard.diffRow(item, pathClass): one file of a package diff
	 * ({"change","path","size","old_size","sha256","old_sha256"}) as a
	 * table row: the change as a badge, the path (hashes in its title),
	 * the size or old -> new size.
	 */
	function diffRow(d, pathClass) {
		return el("tr", { dataset: { change: d.change, path: d.path } },
		    el("td", null, el("span", { class: "badge " + ({
			added: "badge--success",
			changed: "badge--warning",
			removed: "badge--danger" })[d.change],
			text: t("packages.change." + d.change) })),
		    el("td", { class: pathClass, text: d.path,
			title: (d.old_sha256 ? "− " + d.old_sha256 : "") +
			(d.old_sha256 && d.sha256 ? "\n" : "") +
			(d.sha256 ? "+ " + d.sha256 : "") }),
		    el("td", { text: d.change === "changed" ?
			bytes(d.old_size) + " → " + bytes(d.size) :
			bytes(d.change === "removed" ? d.old_size : d.size) }));
	}

	/*
	 * Yard.progressBar(progress): a release command's progress
	 * ({"step","percent"}, percent -1 when unknown) as
	 * div.progress[data-step][data-percent] with a <progress> (no value:
	 * indeterminate) and the step's name in the page language.
	 */
	function progressBar(p) {
		var step = p && typeof p.step === "string" ? p.step : "";
		var pct = p && typeof p.percent === "number" ? p.percent : -1;
		var bar = el("progress", { class: "progress__bar", max: "100" });
		var name = step === "" ? t("progress.waiting") :
		    has("progress.step." + step) ? t("progress.step." + step) :
		    step;

		if (pct >= 0) {
			pct = Math.min(100, Math.round(pct));
			bar.value = pct;
		}
		return el("div", { class: "progress", dataset: { step: step,
		    percent: String(pct) }, role: "status" }, bar,
		    el("span", { class: "progress__label", text: pct >= 0 ?
			t("progress.label", { step: name, percent: pct }) :
			name }));
	}

	/* ---- command results (commands page, tasks page) ------------------ */

	/* Yard.commandType(type): a command type's name ("command.type.*"). */
	function commandType(type) {
		return has("command.type." + type) ? t("command.type." + type) :
		    String(type || "");
	}

	/*
	 * A reason's words (docs/agent-protocol.md, "Reason codes"): code
	 * ("reason.<code>") with its values v, an errno by its name, a nested
	 * reason (cause, health, account) by its own words; null when a code
	 * is unknown here, so that the caller keeps the agent's English.
	 */
	function reasonWords(code, v, depth) {
		var w = {}, ok = true;

		if (typeof code !== "string" || depth > 3 ||
		    !has("reason." + code))
			return null;
		Object.keys(v).forEach(function (k) {
			w[k] = v[k];
		});
		if (typeof v.errno === "string")
			w.errno = has("errno." + v.errno) ? t("reason.errno",
			    { text: t("errno." + v.errno), name: v.errno }) :
			    v.errno;
		if (typeof v.what === "string" && has("reason.what." + v.what))
			w.what = t("reason.what." + v.what);
		["cause", "health", "account"].forEach(function (n) {
			var sub = {}, s;

			if (typeof v[n] !== "string")
				return;
			Object.keys(v).forEach(function (k) {
				if (k !== n)
					sub[k] = v[k];
			});
			if ((s = reasonWords(v[n], sub, depth + 1)) === null)
				ok = false;
			w[n] = s;
		});
		return ok ? t("reason." + code, w) : null;
	}

	/*
	 * Yard.reasonText(params, name): a result's "reason" or "after"
	 * (name) in the page language, from <name>_code and the
	 * <name>_<value> members the agent added; null when there are none
	 * or their code is not one this page knows.
	 */
	function reasonText(p, name) {
		var v = {}, pre = name + "_";

		if (!p || typeof p !== "object")
			return null;
		Object.keys(p).forEach(function (k) {
			if (k.indexOf(pre) === 0)
				v[k.slice(pre.length)] = p[k];
		});
		return reasonWords(p[pre + "code"], v, 0);
	}

	/*
	 * Yard.commandText(cmd): what a command's result says, in the page
	 * language, from its "code" and "params" (docs/agent-protocol.md,
	 * "Result codes"): what came first (a stop, the task not running,
	 * the configuration written), then the outcome and its details.
	 * A command without a code (an older agent, a server-side failure)
	 * or with an unknown one reads as its output.
	 */
	function commandText(c) {
		var p, v = {}, code, key, parts = [], tail = [];

		if (!c)
			return "";
		code = c.code;
		p = c.params && typeof c.params === "object" ? c.params : {};
		key = "command.result." + code;
		if (!code || !has(key))
			return c.output || "";
		Object.keys(p).forEach(function (k) {
			v[k] = p[k];
		});
		if (typeof p.step === "string")
			v.step = has("progress.step." + p.step) ?
			    t("progress.step." + p.step) : p.step || "—";
		/* The agent's own words, in the page language when it sent
		 * them in machine form too; else as they are. */
		if (reasonText(p, "reason") !== null)
			v.reason = reasonText(p, "reason");
		if (reasonText(p, "after") !== null)
			v.after = reasonText(p, "after");
		if (code === "start_unhealthy" && !p.reason)
			v.reason = t("command.part.noAnswer");
		if (code === "uninstalled" && !p.dir_removed)
			key = "command.result.uninstalled_kept";
		if (code === "config_applied" && p.running)
			key = "command.result.config_applied_running";
		if (code === "progress" && p.percent < 0)
			key = "command.result.progress_unknown";
		if (p.stop && code.indexOf("stopped_") !== 0 &&
		    has("command.part.stop." + p.stop))
			parts.push(t("command.part.stop." + p.stop, v));
		if (p.was_down)
			parts.push(t("command.part.wasDown"));
		if (p.config_version !== undefined)
			parts.push(t("command.part.config", v) +
			    (p.config_env ? t("command.part.configEnv", v) : ""));
		if (p.healthy_ms !== undefined && code !== "started_healthy")
			tail.push(t(p.window_s ? "command.part.window" :
			    "command.part.healthy", v));
		if (p.settle_s !== undefined && code !== "started_settled" &&
		    code !== "start_exited")
			tail.push(t("command.part.settled", v));
		if (p.healthy_again)
			tail.push(t("command.part.healthyAgain"));
		if (p.after)
			tail.push(t("command.part.after", v));
		parts.push(t(key, v));
		return parts.concat(tail).join(t("command.part.sep"));
	}

	/* ---- resize and navigation ---------------------------------------- */

	var lastHeight = -1;
	var rafPending = false;

	function measure() {
		var h;

		rafPending = false;
		h = Math.ceil(D.documentElement.getBoundingClientRect().height);
		if (h === lastHeight)
			return;
		lastHeight = h;
		post({ type: "yard:resize", height: h });
	}

	function scheduleMeasure() {
		if (rafPending)
			return;
		rafPending = true;
		W.requestAnimationFrame(measure);
	}

	/*
	 * Yard.navigate(module, query): open another module.  query is a
	 * string ("task=42") or an object.  Framed: ask EWS; top level: go.
	 */
	function navigate(module, query) {
		var q, p;

		if (typeof module !== "string" || !/^[a-z][a-z0-9-]{0,31}$/.test(module))
			throw new Error("Yard.navigate: bad module");
		if (typeof query === "string")
			q = query.replace(/^\?/, "");
		else
			q = qs(query || {}).replace(/^\?/, "");
		if (framed) {
			post({ type: "yard:navigate", module: module, query: q });
			return;
		}
		/* Keep the look across modules at the top level. */
		p = new URLSearchParams(q);
		["theme", "lang"].forEach(function (k) {
			if (params.has(k) && !p.has(k))
				p.set(k, params.get(k));
		});
		q = p.toString();
		W.location.assign(W.location.pathname.replace(/[^/]*$/, "") +
		    module + (q !== "" ? "?" + q : ""));
	}

	/* ---- the frame's address, for the host --------------------------- */

	/*
	 * Framed, the host's own address does not change when a page moves
	 * within itself (a task's tab, a node opened: history.pushState and
	 * replaceState in the frame).  So the page tells the host where it
	 * is, {"type":"yard:location","module":"tasks","query":"task=42&tab=
	 * logs"}, once loaded and after every pushState, replaceState and
	 * popstate (debounced; never the same twice in a row).  The host may
	 * put it in its own address, and open the frame at it on a reload.
	 * The rules of yard:navigate hold: a module name, a query of at most
	 * LOCATION_QUERY_MAX characters without the look (theme, lang, which
	 * the host owns) and never a token.  A page whose address breaks
	 * them says nothing.
	 */
	var LOCATION_QUERY_MAX = 500;
	var LOCATION_DELAY_MS = 60;
	var TOKENISH_KEY = /token|jwt|secret|password/i;
	var TOKENISH_VALUE =
	    /[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/;
	var locationTimer = null;
	var lastLocation = null;

	/* {module, query} of this page's address, or null. */
	function locationOf() {
		var m = /\/ui\/([a-z][a-z0-9-]{0,31})\/?$/.exec(
		    W.location.pathname);
		var p = new URLSearchParams(W.location.search), q, bad = false;

		if (m === null)
			return null;
		p.delete("theme");
		p.delete("lang");
		p.forEach(function (v, k) {
			if (TOKENISH_KEY.test(k) || TOKENISH_VALUE.test(v))
				bad = true;
		});
		q = p.toString();
		if (bad || q.length > LOCATION_QUERY_MAX)
			return null;
		return { module: m[1], query: q };
	}

	function sendLocation() {
		var l = locationOf();

		locationTimer = null;
		if (l === null || (lastLocation !== null &&
		    lastLocation.module === l.module &&
		    lastLocation.query === l.query))
			return;
		lastLocation = l;
		post({ type: "yard:location", module: l.module,
		    query: l.query });
	}

	function scheduleLocation() {
		if (!framed)
			return;
		if (locationTimer !== null)
			W.clearTimeout(locationTimer);
		locationTimer = W.setTimeout(sendLocation, LOCATION_DELAY_MS);
	}

	/* Framed: every change of the frame's address is told to the host. */
	function watchLocation() {
		["pushState", "replaceState"].forEach(function (k) {
			var orig = W.history[k];

			if (typeof orig !== "function")
				return;
			W.history[k] = function () {
				var r = orig.apply(W.history, arguments);

				scheduleLocation();
				return r;
			};
		});
		W.addEventListener("popstate", scheduleLocation);
	}

	/* ---- the inbox badge ---------------------------------------------- */

	/*
	 * Yard.badge(n): tell the host page the user's unread notification
	 * count, {"type":"yard:badge","module":"notifications","count":n}, so
	 * that EWS shows it on its menu entry.  Every page posts it once when
	 * /me has answered (Yard.refreshBadge, GET /notifications/unread), and
	 * again every BADGE_POLL_MS while the page is visible; the
	 * notifications page posts it after every change.  Framed pages only.
	 */
	var BADGE_POLL_MS = 120000;
	var lastBadge = -1;
	var badgeTimer = null;

	function badge(n) {
		if (typeof n !== "number" || !isFinite(n) || n < 0)
			return;
		n = Math.floor(n);
		lastBadge = n;
		post({ type: "yard:badge", module: "notifications", count: n });
	}

	function refreshBadge() {
		if (!framed)
			return Promise.resolve(null);
		return api("GET", "/notifications/unread").then(function (r) {
			if (r && typeof r.unread === "number")
				badge(r.unread);
			return r ? r.unread : null;
		}, function () {
			return null;
		});
	}

	function startBadge() {
		if (!framed || badgeTimer !== null)
			return;
		refreshBadge();
		badgeTimer = W.setInterval(function () {
			if (D.visibilityState === "visible" && A.state === "ok")
				refreshBadge();
		}, BADGE_POLL_MS);
	}

	/* ---- drafts: typed input survives a sign-in ------------------------ */

	/*
	 * Forms marked data-yard-draft="name" (or given to Yard.keepDrafts)
	 * keep what the user types in sessionStorage (this tab only), per user
	 * (sub), per page (path and query as opened, without theme/lang), per
	 * form name, per form mode (data-mode) and, when the page sets one,
	 * per data-yard-draft-scope (the object being edited; an edit form
	 * without a scope keeps nothing).  A draft comes back when the page
	 * is opened again (after a sign-in, say) and when the form's mode or
	 * scope changes to the draft's.  A successful submit (the first
	 * change request after the submit event answers 2xx), a reset, a
	 * cancel button (data-action "cancel", "…-cancel" or "cancel-edit", or
	 * data-yard-draft-cancel) and "discard" forget it.  Never kept:
	 * password, file and hidden inputs, fields marked data-yard-secret
	 * (or inside [data-yard-secret]), autocomplete=*password/one-time-code
	 * and names that say password, secret or token.
	 */
	var DRAFT_PREFIX = "yard.draft";
	var DRAFT_SAVE_MS = 400;
	var DRAFT_MAX = 200000;		/* characters per form */
	var DRAFT_LIFE_MS = 24 * 3600 * 1000;
	var DRAFT_PENDING_MS = 60000;	/* wait for late <option>s */
	var SUBMIT_WINDOW_MS = 10000;
	var SECRET_NAME = /pass(word|wd)|secret|token|(^|[^a-z])otp([^a-z]|$)/i;
	var draftPage = (function () {
		var p = new URLSearchParams(W.location.search);
		var s;

		p.delete("theme");
		p.delete("lang");
		p.sort();
		s = p.toString();
		return W.location.pathname + (s !== "" ? "?" + s : "");
	})();
	var drafts = [];		/* {form, name, timer, pending, ...} */
	var submitting = null;		/* {entry, at}: a submit just happened */
	var draftsOn = false;

	function draftEntry(form) {
		var i;

		for (i = 0; i < drafts.length; i++)
			if (drafts[i].form === form)
				return drafts[i];
		return null;
	}

	/* The storage key of the form's current draft, or null: none kept. */
	function draftKey(e) {
		var mode = e.form.dataset.mode || "";
		var scope = e.form.dataset.yardDraftScope || "";

		if (Yard.me === null || typeof Yard.me !== "object" ||
		    typeof Yard.me.sub !== "string")
			return null;
		if (mode === "edit" && scope === "")
			return null;
		return JSON.stringify([DRAFT_PREFIX, Yard.me.sub, draftPage,
		    e.name, mode, scope]);
	}

	function secretField(c) {
		var ac = (c.getAttribute("autocomplete") || "").toLowerCase();

		return c.type === "password" || c.type === "file" ||
		    c.type === "hidden" || c.closest("[data-yard-secret]") !==
		    null || /password|one-time-code/.test(ac) ||
		    SECRET_NAME.test(c.name || "") || SECRET_NAME.test(c.id || "");
	}

	/* The form's fields a draft keeps: [key, control] pairs. */
	function draftFields(form) {
		var out = [], seen = {};

		Array.prototype.forEach.call(form.elements, function (c) {
			var k = c.name || c.id;

			if (!k || !/^(INPUT|SELECT|TEXTAREA)$/.test(c.tagName) ||
			    /^(submit|button|reset|image)$/.test(c.type) ||
			    secretField(c))
				return;
			if (c.type === "checkbox" || c.type === "radio")
				k += "=" + c.value;
			if (Object.prototype.hasOwnProperty.call(seen, k))
				return;		/* ambiguous: keep the first */
			seen[k] = true;
			out.push([k, c]);
		});
		return out;
	}

	function fieldValue(c) {
		if (c.type === "checkbox" || c.type === "radio")
			return c.checked;
		if (c.tagName === "SELECT" && c.multiple)
			return Array.prototype.filter.call(c.options, function (o) {
				return o.selected;
			}).map(function (o) {
				return o.value;
			});
		return c.value;
	}

	function fieldDefault(c) {
		if (c.type === "checkbox" || c.type === "radio")
			return c.defaultChecked;
		if (c.tagName === "SELECT")
			return null;	/* no reliable default: always kept */
		return c.defaultValue;
	}

	function sameValue(a, b) {
		return JSON.stringify(a) === JSON.stringify(b);
	}

	function readDraft(key) {
		var st = storage(), d;

		if (st === null || key === null)
			return null;
		try {
			d = JSON.parse(st.getItem(key) || "null");
		} catch (e) {
			return null;
		}
		if (d === null || typeof d !== "object" || typeof d.at !==
		    "number" || d.fields === null || typeof d.fields !==
		    "object" || Date.now() - d.at > DRAFT_LIFE_MS)
			return null;
		return d;
	}

	function saveDraft(e) {
		var key = draftKey(e), st = storage(), fields = {}, typed = false;
		var text;

		clearTimeout(e.timer);
		e.timer = null;
		if (key === null || st === null)
			return;
		draftFields(e.form).forEach(function (p) {
			var v = fieldValue(p[1]);

			fields[p[0]] = v;
			if (!sameValue(v, fieldDefault(p[1])))
				typed = true;
		});
		try {
			if (!typed) {
				st.removeItem(key);
				return;
			}
			text = JSON.stringify({ at: Date.now(), fields: fields });
			if (text.length <= DRAFT_MAX)
				st.setItem(key, text);
		} catch (err) {
			/* storage full or refused: nothing kept */
		}
	}

	function saveSoon(e) {
		clearTimeout(e.timer);
		e.timer = W.setTimeout(function () {
			saveDraft(e);
		}, DRAFT_SAVE_MS);
	}

	/*
	 * Forget the form's current draft (saved, cancelled, discarded), or
	 * the one under key (the draft a submit was made from).
	 */
	function clearDraft(e, key) {
		var st = storage();

		if (key === undefined)
			key = draftKey(e);

		clearTimeout(e.timer);
		e.timer = null;
		e.pending = {};
		e.undo = null;
		if (key !== null && st !== null) {
			try {
				st.removeItem(key);
			} catch (err) {
				/* nothing to do */
			}
		}
		draftNote(e, false);
	}

	function setField(c, v) {
		var i, found = false;

		if (c.type === "checkbox" || c.type === "radio") {
			c.checked = v === true;
			return true;
		}
		if (c.tagName === "SELECT" && c.multiple) {
			if (!Array.isArray(v))
				return true;
			for (i = 0; i < c.options.length; i++)
				c.options[i].selected = v.indexOf(
				    c.options[i].value) !== -1;
			return true;
		}
		if (typeof v !== "string")
			return true;
		if (c.tagName === "SELECT") {
			for (i = 0; i < c.options.length; i++)
				if (c.options[i].value === v)
					found = true;
			if (!found)
				return false;	/* its option may come later */
		}
		c.value = v;
		return true;
	}

	/*
	 * Put one value back and tell the page (its own listeners show the
	 * fields of a kind, check a field, ...), in the form's order, so
	 * that a change handler that resets later fields runs before them.
	 */
	function applyField(e, k, c, v) {
		var before = fieldValue(c);

		if (sameValue(before, v))
			return;
		if (!setField(c, v)) {
			e.pending[k] = v;
			return;
		}
		if (e.undo !== null && !Object.prototype.hasOwnProperty.call(
		    e.undo, k))
			e.undo[k] = before;
		e.applying = true;
		c.dispatchEvent(new Event("input", { bubbles: true }));
		c.dispatchEvent(new Event("change", { bubbles: true }));
		e.applying = false;
	}

	function restoreDraft(e) {
		var d = readDraft(draftKey(e)), changed = false;

		e.pending = {};
		if (d === null)
			return;
		e.undo = {};
		draftFields(e.form).forEach(function (p) {
			if (!Object.prototype.hasOwnProperty.call(d.fields, p[0]))
				return;
			applyField(e, p[0], p[1], d.fields[p[0]]);
		});
		changed = Object.keys(e.undo).length > 0 ||
		    Object.keys(e.pending).length > 0;
		if (changed) {
			e.pendingUntil = Date.now() + DRAFT_PENDING_MS;
			draftNote(e, true);
			/* A form in a closed drawer is for its page to show. */
			e.form.dispatchEvent(new CustomEvent("yard:draft-restored",
			    { bubbles: true }));
		}
	}

	/* <option>s that arrived late (a node list): their kept values. */
	function applyPending(e) {
		var keys = Object.keys(e.pending);

		if (keys.length === 0)
			return;
		if (Date.now() > e.pendingUntil) {
			e.pending = {};
			return;
		}
		draftFields(e.form).forEach(function (p) {
			var v;

			if (!Object.prototype.hasOwnProperty.call(e.pending, p[0]))
				return;
			v = e.pending[p[0]];
			delete e.pending[p[0]];
			applyField(e, p[0], p[1], v);
		});
	}

	/* "Your unsaved input is back" with a Discard button, before the form. */
	function draftNote(e, on) {
		var note = e.note;

		if (!on) {
			if (note !== null && note !== undefined)
				note.remove();
			e.note = null;
			return;
		}
		if (note !== null && note !== undefined)
			return;
		e.note = el("div", { class: "banner banner--info",
		    role: "status", dataset: { yardDraftNote: e.name } },
		    el("span", { class: "banner__text",
			text: t("draft.restored") }),
		    el("button", { type: "button", class: "btn btn--small",
			dataset: { action: "draft-discard" },
			text: t("draft.discard"), onclick: function () {
				discardDraft(e);
			} }));
		e.form.parentNode.insertBefore(e.note, e.form);
	}

	function discardDraft(e) {
		var undo = e.undo || {};

		draftFields(e.form).forEach(function (p) {
			if (Object.prototype.hasOwnProperty.call(undo, p[0]) &&
			    setField(p[1], undo[p[0]])) {
				p[1].dispatchEvent(new Event("input",
				    { bubbles: true }));
				p[1].dispatchEvent(new Event("change",
				    { bubbles: true }));
			}
		});
		clearDraft(e);
		if (e.form.elements.length > 0)
			e.form.elements[0].focus();
	}

	/*
	 * Yard.keepDrafts(form, name): keep the form's typed input as above
	 * (data-yard-draft="name" on a form in the page does the same).
	 */
	function keepDrafts(form, name) {
		var e;

		if (!(form instanceof HTMLFormElement) || draftEntry(form) !==
		    null)
			return;
		e = { form: form, name: String(name || form.id || "form"),
		    timer: null, pending: {}, pendingUntil: 0, undo: null,
		    note: null, applying: false };
		drafts.push(e);
		form.addEventListener("input", function (ev) {
			if (e.applying)
				return;
			if (ev.target && Object.prototype.hasOwnProperty.call(
			    e.pending, ev.target.name || ev.target.id))
				delete e.pending[ev.target.name || ev.target.id];
			saveSoon(e);
		});
		form.addEventListener("change", function () {
			if (!e.applying)
				saveSoon(e);
		});
		form.addEventListener("reset", function () {
			clearDraft(e);
		});
		form.addEventListener("click", function (ev) {
			var b = ev.target.closest ? ev.target.closest(
			    "button, [role=button]") : null;

			if (b !== null && (b.type === "reset" ||
			    b.hasAttribute("data-yard-draft-cancel") ||
			    /(^|-)cancel(-edit)?$/.test(b.dataset.action || "")))
				clearDraft(e);
		}, true);	/* before the page's own handler leaves edit mode */
		/*
		 * Mode or scope set (the page opened the form on another
		 * object): that object's draft.  Options added: late values.
		 */
		new MutationObserver(function (recs) {
			if (recs.some(function (r) {
				return r.type === "attributes";
			})) {
				draftNote(e, false);
				if (draftsOn)
					restoreDraft(e);
			} else {
				applyPending(e);
			}
		}).observe(form, { attributes: true, attributeFilter:
		    ["data-mode", "data-yard-draft-scope"], childList: true,
		    subtree: true });
		if (draftsOn)
			restoreDraft(e);
	}

	/* Once /me has answered and the page's own init has run. */
	function startDrafts() {
		if (draftsOn)
			return;
		D.querySelectorAll("form[data-yard-draft]").forEach(
		    function (f) {
			keepDrafts(f, f.getAttribute("data-yard-draft"));
		});
		draftsOn = true;
		drafts.forEach(restoreDraft);
	}

	/* A submit: the change request it makes next settles its draft. */
	D.addEventListener("submit", function (ev) {
		var e = draftEntry(ev.target);

		if (e !== null) {
			saveDraft(e);
			submitting = { entry: e, key: draftKey(e),
			    at: Date.now() };
		}
	}, true);

	function takeSubmit(method) {
		var s = submitting;

		if (s === null || method === "GET" ||
		    Date.now() - s.at > SUBMIT_WINDOW_MS)
			return null;
		submitting = null;
		return s;
	}

	/* Leaving the page: write what is typed now, not 400 ms later. */
	W.addEventListener("pagehide", function () {
		drafts.forEach(function (e) {
			if (e.timer !== null)
				saveDraft(e);
		});
	});

	/* ---- public object ------------------------------------------------- */

	var Yard = {
		config: cfg,
		framed: framed,
		lang: lang,
		theme: theme,
		me: null,
		t: t,
		applyI18n: applyI18n,
		el: el,
		clear: clear,
		qs: qs,
		formatTime: formatTime,
		formatTimeFull: formatTimeFull,
		api: api,
		request: request,
		errorText: errorText,
		fieldText: fieldText,
		showFieldErrors: showFieldErrors,
		clearFieldErrors: clearFieldErrors,
		may: may,
		onReady: onReady,
		navigate: navigate,
		badge: badge,
		refreshBadge: refreshBadge,
		lastBadge: function () {
			return lastBadge;
		},
		banner: banner,
		confirm: confirmBox,
		dialog: dialog,
		placeDialog: placeDialog,
		progressBar: progressBar,
		commandType: commandType,
		commandText: commandText,
		reasonText: reasonText,
		bytes: bytes,
		diffRow: diffRow,
		setPageState: setPageState,
		keepDrafts: keepDrafts,
		clearDraft: function (form) {
			var e = draftEntry(form);
			if (e !== null)
				clearDraft(e);
		},
		authState: function () {
			return A.state;
		}
	};
	Object.defineProperty(W, "Yard", { value: Yard, writable: false,
	    configurable: false, enumerable: true });

	/* ---- start --------------------------------------------------------- */

	D.addEventListener("DOMContentLoaded", function () {
		domReady = true;
		applyI18n(D);
		D.body.dataset.yardAuth = A.state;
		if (cfg === null) {
			setPageState("error");
			(D.querySelector("main") || D.body).prepend(el("div", {
				id: "yard-start-error", role: "alert",
				class: "banner banner--error" },
			    el("span", { class: "banner__text",
				text: t("auth.config") })));
			return;
		}
		buildAuthUi();
		domQueue.splice(0).forEach(function (fn) {
			fn();
		});
		updateAuthUi();
		if (framed) {
			scheduleLocation();
			if (typeof ResizeObserver === "function")
				new ResizeObserver(scheduleMeasure).observe(
				    D.documentElement);
			scheduleMeasure();
		}
		if (A.ready) {
			readyFns.splice(0).forEach(runReady);
			W.setTimeout(startDrafts, 0);
		}
	});

	if (cfg === null)
		return;

	if (framed) {
		watchLocation();
		W.addEventListener("message", onMessage);
		D.addEventListener("visibilitychange", onWake);
		W.addEventListener("focus", onWake);
	}

	/* Handoff 2: #access_token=JWT, removed from the address bar at once. */
	var fragToken = null;
	if (W.location.hash.length > 1) {
		var fp = new URLSearchParams(W.location.hash.slice(1));
		if (fp.has("access_token")) {
			fragToken = fp.get("access_token");
			W.history.replaceState(W.history.state, "",
			    W.location.pathname + W.location.search);
			if (!validToken(fragToken))
				fragToken = null;
		}
	}

	/* Top level: a link from another Yard page of this tab. */
	if (!framed && fragToken === null)
		fragToken = storedToken();
	if (!framed) {
		var dl = fragToken !== null ? tokenDeadline(fragToken) : null;
		if (fragToken === null || (dl !== null && dl <= Date.now())) {
			dropStoredToken();
			A.state = "expired";
			W.location.replace(loginUrl());
			return;
		}
	}
	if (fragToken !== null)
		acceptToken(fragToken);
	if (framed) {
		/* Handoff 1: say we are ready; EWS answers with ews:token. */
		if (A.token === null)
			ask("yard:ready");
		else
			post({ type: "yard:ready" });
	}
})();
