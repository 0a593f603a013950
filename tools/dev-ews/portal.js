/*
 * Development EWS portal script (test tool, not for production).
 *
 * The parent side of SPEC 3.2: answers yard:ready and yard:token-request
 * with ews:token (fetched from /api/token with the EWS session cookie),
 * resizes the frame, opens other modules on yard:navigate, lists in the
 * menu only the modules yard:modules names, shows the unread count of
 * yard:badge on the module's menu entry and handles yard:login-expired
 * and yard:relogin.  yard:location (the frame moved within itself: a
 * task's tab, a node) is reflected in this page's address with
 * replaceState, /?module=M&query=Q, which the server opens again on a
 * reload (the frame is not reloaded for it).  Each ews:token carries returnUrl, this portal page
 * with the module open, for the frame's sign-in link.  The portal's own
 * "Sign in again" banner shows only when the frame shows no sign-in
 * overlay of its own (one link, not two).  The portal opens Yard's
 * "start" page first, which goes on to the first module the user can
 * use; leaving it replaces its history entry.  Messages are accepted only from the Yard origin and
 * only from the Yard frame, and are treated as data.  #ews-status shows the
 * last event for people and tests; #ews-log keeps the recent ones.
 */
(function () {
	'use strict';

	var meta = document.querySelector('meta[name="ews-config"]');
	var cfg;
	try {
		cfg = JSON.parse(meta.getAttribute('content'));
	} catch (e) {
		return;
	}
	var YARD_ORIGIN = cfg.yardOrigin;
	var MIN_H = 200;
	var MAX_H = 20000;
	var LOG_MAX = 30;

	var frame = document.getElementById('yard-frame');
	var statusEl = document.getElementById('ews-status');
	var logEl = document.getElementById('ews-log');
	var banner = document.getElementById('ews-expired');
	var bannerLink = document.getElementById('ews-expired-link');
	var view = { module: cfg.module, query: cfg.query || '', theme: cfg.theme || '', lang: cfg.lang || '' };
	var dropped = 0;
	var frameOverlay = false;	/* the frame shows its own sign-in link */
	var bannerTimer = null;
	var BANNER_WAIT_MS = 6000;	/* Yard's 5 s wait, and a little */
	var RELOGIN_WAIT_MS = 500;	/* the frame's link may be taking us */
	var leaving = false;

	function stamp() {
		var d = new Date();
		function p(n) { return (n < 10 ? '0' : '') + n; }
		return p(d.getHours()) + ':' + p(d.getMinutes()) + ':' + p(d.getSeconds());
	}

	/* code: short machine-readable event name; text: for people. */
	function status(code, text, quiet) {
		var li;
		if (logEl !== null) {
			li = document.createElement('li');
			li.textContent = stamp() + ' ' + text;
			li.dataset.event = code;
			logEl.insertBefore(li, logEl.firstChild);
			while (logEl.children.length > LOG_MAX)
				logEl.removeChild(logEl.lastChild);
		}
		if (quiet || statusEl === null)
			return;
		statusEl.textContent = text;
		statusEl.dataset.event = code;
		statusEl.dataset.at = String(Date.now());
	}

	/* This portal page for the current view. */
	function portalPath(v) {
		var p = new URLSearchParams();
		p.set('module', v.module);
		if (v.query) p.set('query', v.query);
		if (v.theme) p.set('theme', v.theme);
		if (v.lang) p.set('lang', v.lang);
		return '/?' + p.toString();
	}

	function frameSrc(v) {
		var q = new URLSearchParams(v.query);
		if (v.theme) q.set('theme', v.theme);
		if (v.lang) q.set('lang', v.lang);
		var s = q.toString();
		return cfg.yardBase + '/ui/' + encodeURIComponent(v.module) + (s ? '?' + s : '');
	}

	function loginUrl() {
		return '/login?redirect_uri=' + encodeURIComponent(location.origin + portalPath(view));
	}

	function post(msg) {
		if (frame === null || frame.contentWindow === null)
			return;
		/* Exact target origin: if the frame is elsewhere, nothing is sent. */
		frame.contentWindow.postMessage(msg, YARD_ORIGIN);
	}

	function sendToken(why) {
		fetch('/api/token', { credentials: 'same-origin', cache: 'no-store' }).then(function (r) {
			if (r.status === 403) {
				status('refused-refresh', 'refused refresh (' + why + '): refusal switch is on');
				return null;
			}
			if (r.status === 401) {
				status('no-session', 'no EWS session: sign in again');
				/*
				 * A Yard page shows its own sign-in overlay once no
				 * token comes; the banner is for frames that do not.
				 */
				bannerLater('The EWS session ended.');
				return null;
			}
			if (!r.ok) {
				status('token-error', 'token request failed: HTTP ' + r.status);
				return null;
			}
			return r.json();
		}).then(function (j) {
			if (j === null || typeof j.token !== 'string')
				return;
			post({ type: 'ews:token', token: j.token,
				returnUrl: location.origin + portalPath(view) });
			hideBanner();
			status('sent-token', 'sent token (' + why + '), expires ' +
			    new Date(j.exp * 1000).toLocaleTimeString());
		}, function (e) {
			status('token-error', 'token request failed: ' + e.message);
		});
	}

	function bannerLater(lead) {
		if (frameOverlay || bannerTimer !== null)
			return;
		bannerTimer = setTimeout(function () {
			bannerTimer = null;
			if (!frameOverlay)
				showBanner(lead);
		}, BANNER_WAIT_MS);
	}

	function showBanner(lead) {
		if (banner === null)
			return;
		if (bannerLink !== null)
			bannerLink.setAttribute('href', loginUrl());
		banner.firstChild.nodeValue = (lead || 'Yard reports the login expired.') + ' ';
		banner.hidden = false;
	}

	function hideBanner() {
		if (bannerTimer !== null) {
			clearTimeout(bannerTimer);
			bannerTimer = null;
		}
		if (banner !== null)
			banner.hidden = true;
	}

	/*
	 * yard:login-expired {"loginUrl", "overlay":true}: with overlay the
	 * frame shows its own sign-in link and keeps asking for a token, so
	 * this portal shows no banner ("stay") or goes to its login at once
	 * ("navigate"; the frame keeps its drafts across the trip).
	 */
	function onExpired(msg) {
		frameOverlay = msg.overlay === true;
		if (frameOverlay)
			hideBanner();
		status('login-expired', 'login expired from Yard');
		/* The setting may have changed since this page was rendered. */
		fetch('/api/settings', { credentials: 'same-origin', cache: 'no-store' }).then(function (r) {
			return r.ok ? r.json() : { on_expired: cfg.onExpired };
		}, function () {
			return { on_expired: cfg.onExpired };
		}).then(function (s) {
			if (s.on_expired === 'stay') {
				if (frameOverlay) {
					status('login-expired', 'login expired from Yard (staying; Yard shows its sign-in link)');
					return;
				}
				showBanner('Yard reports the login expired.');
				status('login-expired', 'login expired from Yard (staying)');
				return;
			}
			status('login-expired', 'login expired from Yard: going to the EWS login');
			location.href = loginUrl();
		});
	}

	function setActiveMenu(module) {
		var links = document.querySelectorAll('#ews-menu a[data-module]');
		Array.prototype.forEach.call(links, function (a) {
			var on = a.dataset.module === module;
			a.classList.toggle('active', on);
			if (on) a.setAttribute('aria-current', 'page');
			else a.removeAttribute('aria-current');
		});
	}

	/* Show v in the frame and in the page around it. */
	function show(v) {
		var src = frameSrc(v);
		var title = document.getElementById('ews-title');
		var link;

		view = v;
		/*
		 * A fresh iframe rather than a new src: changing src would add a
		 * session-history entry for the frame, and Back would then move
		 * the frame but not this page's address.
		 */
		var next = frame.cloneNode(false);
		next.removeAttribute('style');
		delete next.dataset.height;
		next.src = src;
		next.title = 'Yard — ' + v.module;
		frame.parentNode.replaceChild(next, frame);
		frame = next;
		frameOverlay = false;
		hideBanner();
		setActiveMenu(v.module);
		if (title !== null) {
			link = document.querySelector('#ews-menu a[data-module="' + CSS.escape(v.module) + '"]');
			title.textContent = link !== null ? link.firstChild.nodeValue :
			    v.module === 'start' ? 'Yard' : v.module;
		}
		var fu = document.getElementById('ews-frame-url');
		if (fu !== null) fu.textContent = src;
		var back = document.querySelector('#ews-settings input[name="back"]');
		if (back !== null) back.value = portalPath(v);
		var look = document.getElementById('ews-look');
		if (look !== null) {
			look.elements.module.value = v.module;
			look.elements.query.value = v.query;
		}
	}

	function onNavigate(d) {
		var q = d.query === undefined || d.query === null ? '' : d.query;
		if (typeof d.module !== 'string' || cfg.modules.indexOf(d.module) === -1) {
			status('navigate-refused', 'refused navigate: module not in the menu');
			return;
		}
		if (!queryOk(q)) {
			status('navigate-refused', 'refused navigate: bad query');
			return;
		}
		q = q.replace(/^\?/, '');
		var v = { module: d.module, query: q, theme: view.theme, lang: view.lang };
		/* The landing page leaves no history entry: Back skips it. */
		if (view.module === 'start')
			history.replaceState({ ews: v }, '', portalPath(v));
		else
			history.pushState({ ews: v }, '', portalPath(v));
		show(v);
		status('navigated', 'navigated to ' + d.module + (q ? '?' + q : ''));
	}

	/*
	 * A query the frame may be opened with: a string of at most
	 * cfg.queryMax characters that names no token (no member called
	 * like one, no value shaped like a JWT).  The server checks an
	 * address the same way (server.js, queryProblem).
	 */
	function queryOk(q) {
		var bad = false;
		if (typeof q !== 'string' || q.length > cfg.queryMax)
			return false;
		new URLSearchParams(q).forEach(function (v, k) {
			if (/token|jwt|secret|password/i.test(k) ||
			    /[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/.test(v))
				bad = true;
		});
		return !bad;
	}

	/*
	 * yard:location {"module","query"}: the frame moved within itself (a
	 * task's tab, a node opened, Back inside the frame).  This page's
	 * address follows (replaceState: the frame's own history entries
	 * are what Back walks; a Back in the frame sends the older address
	 * here again), so the address can be copied, bookmarked or reloaded.
	 * The frame is not reloaded.  A module not in the menu, a query too
	 * long or naming a token is refused and changes nothing.
	 */
	function onLocation(d) {
		var q = d.query === undefined || d.query === null ? '' : d.query;
		var v;
		if (typeof d.module !== 'string' || cfg.modules.indexOf(d.module) === -1) {
			status('location-refused', 'refused location: module not in the menu');
			return;
		}
		if (!queryOk(q)) {
			status('location-refused', 'refused location: bad query');
			return;
		}
		q = q.replace(/^\?/, '');
		if (d.module === view.module && q === view.query)
			return;
		v = { module: d.module, query: q, theme: view.theme, lang: view.lang };
		view = v;
		history.replaceState({ ews: v }, '', portalPath(v));
		if (frame !== null) frame.title = 'Yard — ' + v.module;
		setActiveMenu(v.module);
		var back = document.querySelector('#ews-settings input[name="back"]');
		if (back !== null) back.value = portalPath(v);
		var look = document.getElementById('ews-look');
		if (look !== null) {
			look.elements.module.value = v.module;
			look.elements.query.value = v.query;
		}
		status('location', 'frame at ' + v.module + (q ? '?' + q : ''), true);
	}

	function onResize(d) {
		var h = d.height;
		if (typeof h !== 'number' || !isFinite(h))
			return;
		h = Math.min(MAX_H, Math.max(MIN_H, Math.round(h)));
		frame.style.height = h + 'px';
		frame.dataset.height = String(h);
		status('resized', 'resized frame to ' + h + ' px', true);
	}

	/*
	 * yard:badge {"module":"notifications","count":N}: the count on that
	 * module's menu entry (#ews-badge-<module>[data-count]), hidden at 0.
	 */
	function onBadge(d) {
		var m = typeof d.module === 'string' ? d.module : 'notifications';
		var n = d.count, link, b;
		if (cfg.modules.indexOf(m) === -1 || typeof n !== 'number' || !isFinite(n) || n < 0)
			return;
		n = Math.min(Math.floor(n), 1e9);
		link = document.querySelector('#ews-menu a[data-module="' + CSS.escape(m) + '"]');
		if (link === null)
			return;
		b = document.getElementById('ews-badge-' + m);
		if (b === null) {
			b = document.createElement('span');
			b.id = 'ews-badge-' + m;
			b.className = 'ews-badge';
			link.appendChild(b);
		}
		b.dataset.count = String(n);
		b.textContent = n > 99 ? '99+' : String(n);
		b.hidden = n === 0;
		b.title = n + ' unread';
		status('badge', 'badge ' + m + ': ' + n, true);
	}

	/*
	 * yard:modules {"modules":["tasks",...]}: the modules this user can
	 * use (Yard's /me).  Menu entries of other modules are hidden; the
	 * menu says it is filtered (#ews-menu[data-filtered]).
	 */
	function onModules(d) {
		var list = d.modules, menu = document.getElementById('ews-menu');
		if (!Array.isArray(list) || list.length > 64 || !list.every(function (m) {
			return typeof m === 'string' && /^[a-z][a-z0-9-]{0,31}$/.test(m);
		}))
			return;
		if (menu === null)
			return;
		Array.prototype.forEach.call(menu.querySelectorAll('a[data-module]'), function (a) {
			var li = a.closest('li') || a;
			li.hidden = list.indexOf(a.dataset.module) === -1;
		});
		menu.dataset.filtered = 'true';
		menu.dataset.modules = list.join(',');
		status('modules', 'menu: ' + list.join(', '), true);
	}

	function onMessage(ev) {
		var d = ev.data;

		if (frame === null)
			return;
		if (ev.origin !== YARD_ORIGIN || ev.source !== frame.contentWindow) {
			dropped++;
			if (statusEl !== null) statusEl.dataset.dropped = String(dropped);
			status('dropped', 'dropped a message from ' + String(ev.origin).slice(0, 100), true);
			return;
		}
		if (d === null || typeof d !== 'object' || Array.isArray(d) || typeof d.type !== 'string')
			return;
		switch (d.type) {
		case 'yard:ready':
			status('ready', 'Yard page ready', true);
			sendToken('ready');
			break;
		case 'yard:token-request':
			status('token-request', 'Yard asked for a fresh token', true);
			sendToken('refresh');
			break;
		case 'yard:resize':
			onResize(d);
			break;
		case 'yard:navigate':
			onNavigate(d);
			break;
		case 'yard:location':
			onLocation(d);
			break;
		case 'yard:badge':
			onBadge(d);
			break;
		case 'yard:modules':
			onModules(d);
			break;
		case 'yard:login-expired':
			onExpired(d);
			break;
		case 'yard:relogin':
			/*
			 * The user clicked the frame's sign-in link (which also
			 * takes this window there): our login, back to this view.
			 */
			status('relogin', 'Yard asked to sign in again: going to the EWS login');
			/* Only if its link did not take this window there already. */
			setTimeout(function () {
				if (!leaving)
					location.href = loginUrl();
			}, RELOGIN_WAIT_MS);
			break;
		default:
			status('unknown', 'ignored message type ' + d.type.slice(0, 40), true);
		}
	}

	window.addEventListener('message', onMessage);
	window.addEventListener('beforeunload', function () {
		leaving = true;
	});
	window.addEventListener('pageshow', function () {
		leaving = false;
	});

	window.addEventListener('popstate', function (ev) {
		var v = ev.state && ev.state.ews;
		if (!v) {
			var p = new URLSearchParams(location.search);
			v = { module: p.get('module') || cfg.module, query: p.get('query') || '',
				theme: /^(light|dark)$/.test(p.get('theme') || '') ? p.get('theme') : '',
				lang: /^(zh-CN|en)$/.test(p.get('lang') || '') ? p.get('lang') : '' };
		}
		if (typeof v.module !== 'string' || cfg.modules.indexOf(v.module) === -1 ||
		    !queryOk(v.query || ''))
			return;
		show(v);
	});

	if (frame !== null)
		history.replaceState({ ews: view }, '', location.pathname + location.search);
})();
