/*
 * Yard charts: inline SVG sparklines and line charts, built with DOM APIs
 * only (createElementNS, setAttribute, textContent), styled only through
 * classes from base.css (so theme.css colours apply, and CSP's
 * style-src 'self' holds: no style attributes, no inline <style>).
 * Exposes window.YardCharts (and module.exports, for node's unit tests
 * of the pure helpers).  Loaded after bridge.js: the chart's own texts
 * (legend, "reset zoom") come from Yard.t when the page has it.
 *
 * Data are series of [epoch_seconds, value] pairs.  A line breaks where
 * two consecutive points are more than 2 x step seconds apart (the node was
 * offline), and where a value is null or not a finite number.
 *
 *   YardCharts.sparkline({points, from, to, step, min, max, width,
 *       height, series, label})                          -> <svg>
 *   YardCharts.lineChart(container, opts)               -> {svg, update,
 *       zoom(from, to), destroy}; opts: chart (data-chart), title (shown
 *       above the chart, with its unit), label, height, from, to, step,
 *       points (data-points), series [{name, points, cls (1|2|3), area}],
 *       legend (false: no toggle buttons), yMin, yMax (null: from the
 *       data), yFit (the data's range, not from 0), yFormat(v, decimals),
 *       valueFormat(v), emptyText, noDataText, onZoom({from, to}|null),
 *       marks [{value, kind, label, fit}] (horizontal lines: kind
 *       "threshold", "recovery" or "total"; fit: false leaves the scale
 *       to the data and shows a mark above it as a label at the top),
 *       spans [{from, to, kind, label}] (shaded time ranges, e.g. an
 *       alert's pending and firing parts; kind "firing", "pending" or
 *       "resolved").
 *       The head above the chart holds the title, one toggle button per
 *       series (aria-pressed) and "reset zoom"; a drag across the plot
 *       zooms the time axis, and with the chart focused + / - zoom, 0
 *       resets, arrows step through the points.
 *   YardCharts.segments, niceTicks, tickDecimals, tickLabels, timeTicks,
 *   timeLabel, tipTime, bytesUnit, formatBytes, formatNumber, pad2
 */
(function () {
	"use strict";

	var NS = "http://www.w3.org/2000/svg";
	var D = typeof document !== "undefined" ? document : null;

	/* Tick steps for time axes, in seconds. */
	var TIME_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800,
	    3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800];

	function pad2(n) {
		return (n < 10 ? "0" : "") + n;
	}

	/* svg(tag, attrs, ...children): attrs "class", "text", "dataset". */
	function svg(tag, attrs) {
		var n = D.createElementNS(NS, tag);
		var k, v, i, c;

		attrs = attrs || {};
		for (k in attrs) {
			if (!Object.prototype.hasOwnProperty.call(attrs, k))
				continue;
			v = attrs[k];
			if (v === null || v === undefined || v === false)
				continue;
			if (k === "text")
				n.textContent = String(v);
			else if (k === "dataset")
				Object.keys(v).forEach(function (dk) {
					n.dataset[dk] = String(v[dk]);
				});
			else if (k === "style" || k.slice(0, 2) === "on")
				throw new Error("YardCharts: " + k + " not allowed");
			else
				n.setAttribute(k, String(v));
		}
		for (i = 2; i < arguments.length; i++) {
			c = arguments[i];
			if (c !== null && c !== undefined && c !== false)
				n.appendChild(c);
		}
		return n;
	}

	function finite(v) {
		return typeof v === "number" && isFinite(v);
	}

	/* Round to 2 decimals for compact path data. */
	function r2(v) {
		return Math.round(v * 100) / 100;
	}

	/*
	 * Split [[t, v], ...] (sorted by t) into runs without gaps: a new run
	 * starts where t jumps by more than maxGap, or after a missing value.
	 */
	function segments(points, maxGap) {
		var out = [], cur = [], prev = null;

		(points || []).forEach(function (p) {
			if (!Array.isArray(p) || !finite(p[0]))
				return;
			if (!finite(p[1])) {
				if (cur.length > 0)
					out.push(cur);
				cur = [];
				prev = null;
				return;
			}
			if (prev !== null && maxGap > 0 && p[0] - prev > maxGap) {
				out.push(cur);
				cur = [];
			}
			cur.push(p);
			prev = p[0];
		});
		if (cur.length > 0)
			out.push(cur);
		return out;
	}

	/* About count "nice" ticks (1, 2, 2.5, 5 x 10^k) covering [min, max]. */
	function niceTicks(min, max, count) {
		var span, raw, mag, norm, step, lo, hi, v, ticks = [], i;

		if (!finite(min) || !finite(max)) {
			min = 0;
			max = 1;
		}
		if (max <= min)
			max = min + (min === 0 ? 1 : Math.abs(min));
		count = Math.max(1, count || 4);
		span = max - min;
		raw = span / count;
		mag = Math.pow(10, Math.floor(Math.log10(raw)));
		norm = raw / mag;
		step = (norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 2.5 ? 2.5 :
		    norm <= 5 ? 5 : 10) * mag;
		lo = Math.floor(min / step + 1e-9) * step;
		hi = Math.ceil(max / step - 1e-9) * step;
		for (i = 0, v = lo; v <= hi + step / 2 && i < 100; i++,
		    v = lo + i * step)
			ticks.push(Number(v.toPrecision(12)));
		return { min: lo, max: hi, step: step, ticks: ticks };
	}

	/*
	 * Time ticks between from and to (epoch seconds), at most maxTicks,
	 * on round local-time boundaries (minutes, hours, midnights).
	 */
	function timeTicks(from, to, maxTicks) {
		var span = Math.max(1, to - from), step, i, tzo, x, d, days;
		var ticks = [];

		maxTicks = Math.max(2, maxTicks || 6);
		step = TIME_STEPS[TIME_STEPS.length - 1];
		for (i = 0; i < TIME_STEPS.length; i++) {
			if (span / TIME_STEPS[i] <= maxTicks) {
				step = TIME_STEPS[i];
				break;
			}
		}
		if (step < 86400) {
			/* local = utc + tzo; align in local time. */
			tzo = -new Date(from * 1000).getTimezoneOffset() * 60;
			x = Math.ceil((from + tzo) / step) * step - tzo;
			for (; x <= to && ticks.length < 200; x += step)
				ticks.push(x);
		} else {
			days = Math.round(step / 86400);
			d = new Date(from * 1000);
			d.setHours(0, 0, 0, 0);
			while (d.getTime() / 1000 < from)
				d.setDate(d.getDate() + 1);
			while (d.getTime() / 1000 <= to && ticks.length < 200) {
				ticks.push(d.getTime() / 1000);
				d.setDate(d.getDate() + days);
			}
		}
		return { step: step, ticks: ticks };
	}

	/* An axis label for tick t: dates at midnight or for day steps. */
	function timeLabel(t, step, span) {
		var d = new Date(t * 1000);
		var day = pad2(d.getMonth() + 1) + "-" + pad2(d.getDate());
		var hm = pad2(d.getHours()) + ":" + pad2(d.getMinutes());

		if (step >= 86400)
			return day;
		if (span > 43200 && d.getHours() === 0 && d.getMinutes() === 0)
			return day;
		if (step < 60)
			return hm + ":" + pad2(d.getSeconds());
		return hm;
	}

	/* Tooltip time: "MM-DD HH:mm:ss" (with the year if not this one). */
	function tipTime(t) {
		var d = new Date(t * 1000);
		var s = pad2(d.getMonth() + 1) + "-" + pad2(d.getDate()) + " " +
		    pad2(d.getHours()) + ":" + pad2(d.getMinutes()) + ":" +
		    pad2(d.getSeconds());
		return d.getFullYear() !== new Date().getFullYear() ?
		    d.getFullYear() + "-" + s : s;
	}

	/* The unit to show byte values up to max in: {div, unit}. */
	function bytesUnit(max) {
		var units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
		var i = 0, div = 1;

		max = finite(max) ? Math.abs(max) : 0;
		while (i < units.length - 1 && max >= div * 1024) {
			div *= 1024;
			i++;
		}
		return { div: div, unit: units[i] };
	}

	/* A number with at most `digits` decimals, trailing zeros dropped. */
	function formatNumber(v, digits) {
		var s;

		if (!finite(v))
			return "";
		s = v.toFixed(digits === undefined ? 1 : digits);
		if (s.indexOf(".") !== -1)
			s = s.replace(/0+$/, "").replace(/\.$/, "");
		return s === "-0" ? "0" : s;
	}

	/*
	 * "1.5 GiB", "3 MiB": binary units, 3 significant digits at most,
	 * trailing zeros dropped.  The one byte formatter of every page:
	 * Yard.bytes (bridge.js) is this same function.
	 */
	function formatBytes(n) {
		var u, v;

		if (!finite(n))
			return "";
		if (typeof window !== "undefined" && window.Yard &&
		    typeof window.Yard.bytes === "function")
			return window.Yard.bytes(n);
		/* Without the bridge (node's unit tests): the same rule. */
		u = bytesUnit(n);
		v = n / u.div;
		return formatNumber(v, u.div === 1 ? 0 : Math.abs(v) >= 100 ? 0 :
		    Math.abs(v) >= 10 ? 1 : 2) + " " + u.unit;
	}

	/*
	 * The decimals a tick step needs to be written exactly (0.25 -> 2,
	 * 5 -> 0), so neighbouring ticks never read alike.
	 */
	function tickDecimals(step) {
		var d, x;

		if (!finite(step) || step <= 0)
			return 0;
		for (d = 0; d < 8; d++) {
			x = step * Math.pow(10, d);
			if (Math.abs(x - Math.round(x)) < 1e-6 * Math.max(1, x))
				return d;
		}
		return 8;
	}

	/*
	 * Ticks with their labels, a tick dropped when its label reads like
	 * the one before (a format coarser than the step): [{v, text}].
	 */
	function tickLabels(ticks, fmt) {
		var out = [], prev = null;

		(ticks || []).forEach(function (v) {
			var text = fmt(v);
			if (text === prev)
				return;
			out.push({ v: v, text: text });
			prev = text;
		});
		return out;
	}

	/* ---- sparkline ----------------------------------------------------- */

	/*
	 * A small chart for table cells: no axes, fixed y range (default
	 * 0..100), breaks at gaps.  opts.series picks the colour class (1..3).
	 * opts.fill: the chart stretches to its container's width (width is
	 * then only the drawing's resolution; .spark--fill in base.css keeps
	 * strokes unstretched).
	 */
	function sparkline(opts) {
		var w = opts.width || 60, h = opts.height || 18;
		var min = finite(opts.min) ? opts.min : 0;
		var max = finite(opts.max) ? opts.max : 100;
		var from = opts.from, to = opts.to;
		var pts = (opts.points || []).filter(function (p) {
			return Array.isArray(p) && finite(p[0]);
		});
		var cls = opts.series || 1;
		var segs, node, line = [], area = [], dots = [];

		if (!finite(from))
			from = pts.length ? pts[0][0] : 0;
		if (!finite(to))
			to = pts.length ? pts[pts.length - 1][0] : from + 1;
		if (to <= from)
			to = from + 1;

		function x(t) {
			return r2(1 + (t - from) / (to - from) * (w - 2));
		}
		function y(v) {
			v = Math.max(min, Math.min(max, v));
			return r2(h - 1 - (v - min) / (max - min) * (h - 2));
		}

		segs = segments(pts, finite(opts.step) && opts.step > 0 ?
		    2 * opts.step : 0);
		segs.forEach(function (s) {
			var d;
			if (s.length === 1) {
				dots.push(svg("circle", { class: "spark__dot " +
				    "chart-fill--" + cls, cx: x(s[0][0]),
				    cy: y(s[0][1]), r: 1.5 }));
				return;
			}
			d = s.map(function (p, i) {
				return (i === 0 ? "M" : "L") + x(p[0]) + "," +
				    y(p[1]);
			}).join("");
			line.push(d);
			area.push("M" + x(s[0][0]) + "," + (h - 1) + d.replace(/^M/,
			    "L") + "L" + x(s[s.length - 1][0]) + "," + (h - 1) +
			    "Z");
		});

		node = svg("svg", {
			class: opts.fill ? "spark spark--fill" : "spark",
			width: opts.fill ? "100%" : w, height: h,
			viewBox: "0 0 " + w + " " + h,
			preserveAspectRatio: opts.fill ? "none" : null,
			role: "img", "aria-label": opts.label || null,
			focusable: "false",
			dataset: { points: pts.length }
		},
		    opts.label ? svg("title", { text: opts.label }) : null,
		    svg("line", { class: "spark__base", x1: 0, x2: w,
			y1: h - 0.5, y2: h - 0.5 }),
		    area.length ? svg("path", { class: "spark__area " +
			"chart-area--" + cls, d: area.join("") }) : null,
		    line.length ? svg("path", { class: "spark__line " +
			"chart-line--" + cls, d: line.join("") }) : null);
		dots.forEach(function (c) {
			node.appendChild(c);
		});
		return node;
	}

	/* ---- line chart ---------------------------------------------------- */

	var clipSeq = 0;

	/* A page string (Yard.t) when the page has it, else the fallback. */
	function tr(key, fallback, vars) {
		var s;

		if (window.Yard && typeof window.Yard.t === "function") {
			s = window.Yard.t(key, vars);
			if (s !== key)
				return s;
		}
		return fallback;
	}

	function html(tag, cls, text) {
		var n = D.createElement(tag);

		if (cls)
			n.className = cls;
		if (text !== undefined)
			n.textContent = text;
		return n;
	}

	/* Index of the element of sorted times nearest to t. */
	function nearest(times, t) {
		var lo = 0, hi = times.length - 1, mid;

		if (times.length === 0)
			return -1;
		while (hi - lo > 1) {
			mid = (lo + hi) >> 1;
			if (times[mid] <= t)
				lo = mid;
			else
				hi = mid;
		}
		return Math.abs(times[hi] - t) < Math.abs(times[lo] - t) ?
		    hi : lo;
	}

	/* Pointer x in viewBox units, or null off the chart. */
	function pointerX(ch, ev) {
		var rect = ch.svg.getBoundingClientRect();

		if (ch.geo === null || rect.width === 0)
			return null;
		return (ev.clientX - rect.left) * ch.geo.W / rect.width;
	}

	/* The time at viewBox x, clamped to the plot. */
	function timeAt(g, px) {
		px = Math.max(g.left, Math.min(g.left + g.pw, px));
		return g.from + (px - g.left) / g.pw * (g.to - g.from);
	}

	/*
	 * Zoom to [a, b] (epoch seconds) within the full range; a range that
	 * covers it all, or null, resets.  At least 2 steps (or 10 s) wide.
	 */
	function setZoom(ch, a, b) {
		var full = ch.full, min, c;

		if (a === null || full === null) {
			ch.zoom = null;
		} else {
			min = Math.max(10, finite(ch.opts.step) ?
			    2 * ch.opts.step : 0);
			if (b - a < min) {
				c = (a + b) / 2;
				a = c - min / 2;
				b = c + min / 2;
			}
			a = Math.max(full.from, a);
			b = Math.min(full.to, b);
			ch.zoom = a <= full.from && b >= full.to || b <= a ? null :
			    { from: a, to: b };
		}
		render(ch);
		if (typeof ch.opts.onZoom === "function")
			ch.opts.onZoom(ch.zoom);
	}

	/* Zoom in (factor < 1) or out (> 1) around time c. */
	function zoomBy(ch, factor, c) {
		var g = ch.geo, w;

		if (g === null || ch.full === null)
			return;
		w = (g.to - g.from) * factor;
		if (!finite(c))
			c = (g.from + g.to) / 2;
		setZoom(ch, c - w / 2, c + w / 2);
	}

	function lineChart(container, opts) {
		var ch = {
			container: container,
			opts: opts || {},
			head: html("div", "chart-head"),
			title: html("div", "chart__title"),
			legend: html("div", "chart-legend"),
			reset: html("button", "btn btn--small chart__reset"),
			svg: svg("svg", { class: "chart", tabindex: "0",
			    role: "img", focusable: "true" }),
			clip: "yard-chart-clip-" + (++clipSeq),
			geo: null,
			full: null,	/* the range the page gave */
			zoom: null,	/* {from, to} within it, or null */
			hidden: {},	/* series name -> true when toggled off */
			drag: null,
			hoverT: null,	/* time under the pointer, kept across updates */
			hoverIdx: -1,	/* keyboard position */
			width: 0,
			ro: null,
			raf: 0
		};

		ch.reset.type = "button";
		ch.reset.hidden = true;
		ch.reset.dataset.action = "reset-zoom";
		ch.reset.addEventListener("click", function () {
			setZoom(ch, null, null);
			ch.svg.focus();
		});
		ch.legend.setAttribute("role", "group");
		ch.head.appendChild(ch.title);
		ch.head.appendChild(ch.legend);
		ch.head.appendChild(ch.reset);
		container.appendChild(ch.head);
		container.appendChild(ch.svg);

		ch.svg.addEventListener("pointerdown", function (ev) {
			var g = ch.geo, px = pointerX(ch, ev);
			if (g === null || px === null || ev.button !== 0 ||
			    px < g.left || px > g.left + g.pw)
				return;
			ch.drag = { x0: px, x1: px, id: ev.pointerId };
			try {
				ch.svg.setPointerCapture(ev.pointerId);
			} catch (e) {
				/* not capturable: the drag still works inside */
			}
			ev.preventDefault();
		});
		ch.svg.addEventListener("pointermove", function (ev) {
			var g = ch.geo, px = pointerX(ch, ev);
			if (g === null || px === null)
				return;
			if (ch.drag !== null) {
				ch.drag.x1 = Math.max(g.left, Math.min(g.left + g.pw,
				    px));
				drawSelection(ch);
				return;
			}
			if (px < g.left || px > g.left + g.pw) {
				hideTip(ch);
				return;
			}
			ch.hoverT = timeAt(g, px);
			ch.hoverIdx = -1;
			showTip(ch);
		});
		ch.svg.addEventListener("pointerup", function (ev) {
			var d = ch.drag, g = ch.geo, a, b;
			if (d === null)
				return;
			ch.drag = null;
			drawSelection(ch);
			/* A click (under 6 px) is no zoom. */
			if (g === null || Math.abs(d.x1 - d.x0) < 6)
				return;
			a = timeAt(g, Math.min(d.x0, d.x1));
			b = timeAt(g, Math.max(d.x0, d.x1));
			hideTip(ch);
			setZoom(ch, a, b);
		});
		ch.svg.addEventListener("pointercancel", function () {
			ch.drag = null;
			drawSelection(ch);
		});
		ch.svg.addEventListener("pointerleave", function () {
			if (ch.drag === null)
				hideTip(ch);
		});
		ch.svg.addEventListener("blur", function () {
			hideTip(ch);
		});
		ch.svg.addEventListener("keydown", function (ev) {
			var g = ch.geo, n;
			if (g === null)
				return;
			/* + / - zoom around the shown point; 0 resets. */
			if (ev.key === "+" || ev.key === "=" || ev.key === "-" ||
			    ev.key === "_" || ev.key === "0") {
				ev.preventDefault();
				if (ev.key === "0")
					setZoom(ch, null, null);
				else
					zoomBy(ch, ev.key === "-" || ev.key === "_" ?
					    2 : 0.5, ch.hoverT);
				return;
			}
			if (g.times.length === 0)
				return;
			n = g.times.length;
			if (ev.key === "ArrowLeft" || ev.key === "ArrowRight" ||
			    ev.key === "Home" || ev.key === "End") {
				ev.preventDefault();
				if (ch.hoverIdx < 0)
					ch.hoverIdx = ch.hoverT !== null ?
					    nearest(g.times, ch.hoverT) : n - 1;
				else if (ev.key === "ArrowLeft")
					ch.hoverIdx = Math.max(0, ch.hoverIdx - 1);
				else if (ev.key === "ArrowRight")
					ch.hoverIdx = Math.min(n - 1,
					    ch.hoverIdx + 1);
				if (ev.key === "Home")
					ch.hoverIdx = 0;
				if (ev.key === "End")
					ch.hoverIdx = n - 1;
				ch.hoverT = g.times[ch.hoverIdx];
				showTip(ch);
			} else if (ev.key === "Escape") {
				hideTip(ch);
			}
		});

		if (typeof ResizeObserver === "function") {
			ch.ro = new ResizeObserver(function () {
				if (ch.raf)
					return;
				ch.raf = requestAnimationFrame(function () {
					ch.raf = 0;
					if (Math.floor(container.clientWidth) !==
					    ch.width)
						render(ch);
				});
			});
			ch.ro.observe(container);
		}
		render(ch);
		return {
			svg: ch.svg,
			update: function (o) {
				ch.opts = o || {};
				render(ch);
			},
			/* zoom(from, to) in epoch seconds; zoom(null) resets. */
			zoom: function (a, b) {
				setZoom(ch, finite(a) ? a : null, b);
			},
			destroy: function () {
				if (ch.ro !== null)
					ch.ro.disconnect();
				if (ch.head.parentNode)
					ch.head.parentNode.removeChild(ch.head);
				if (ch.svg.parentNode)
					ch.svg.parentNode.removeChild(ch.svg);
			}
		};
	}

	/* The rubber band of a drag (rect.chart__select), or none. */
	function drawSelection(ch) {
		var g = ch.geo, d = ch.drag, r;

		if (g === null)
			return;
		r = ch.svg.querySelector(".chart__select");
		if (d === null) {
			if (r !== null)
				r.parentNode.removeChild(r);
			return;
		}
		if (r === null) {
			r = svg("rect", { class: "chart__select", y: g.top,
			    height: g.ph });
			ch.svg.appendChild(r);
		}
		r.setAttribute("x", r2(Math.min(d.x0, d.x1)));
		r.setAttribute("width", r2(Math.max(1, Math.abs(d.x1 - d.x0))));
	}

	/*
	 * The chart's head: its title (opts.title, with the unit), a legend
	 * of toggle buttons (one per named series; aria-pressed says shown)
	 * and "reset zoom" while zoomed.  The buttons are kept across
	 * updates, so a live refresh does not take the focus away.
	 */
	function renderHead(ch, series) {
		var o = ch.opts, have = {}, byName = {};

		ch.title.textContent = o.title || "";
		ch.title.hidden = !o.title;
		if (o.chart)
			ch.head.dataset.chart = o.chart;
		ch.legend.setAttribute("aria-label", tr("charts.legend",
		    "Series"));
		ch.legend.hidden = o.legend === false || series.length === 0;
		Array.prototype.forEach.call(ch.legend.children, function (b) {
			byName[b.dataset.series] = b;
		});
		series.forEach(function (se, k) {
			var b = byName[se.name], sw;
			have[se.name] = true;
			if (b === undefined) {
				b = html("button", "chart-legend__btn");
				b.type = "button";
				b.dataset.series = se.name;
				sw = html("span", "legend__swatch legend__swatch--" +
				    (se.cls || 1));
				sw.setAttribute("aria-hidden", "true");
				b.appendChild(sw);
				b.appendChild(html("span", "", se.name));
				b.addEventListener("click", function () {
					var n = b.dataset.series;
					if (ch.hidden[n])
						delete ch.hidden[n];
					else
						ch.hidden[n] = true;
					render(ch);
				});
			}
			b.setAttribute("aria-pressed", ch.hidden[se.name] ?
			    "false" : "true");
			b.title = tr(ch.hidden[se.name] ? "charts.series.show" :
			    "charts.series.hide", ch.hidden[se.name] ?
			    "Show {name}" : "Hide {name}", { name: se.name })
			    .replace("{name}", se.name);
			/* In the series' order; a button in place is not moved
			 * (moving it would take its focus away). */
			if (ch.legend.children[k] !== b)
				ch.legend.insertBefore(b, ch.legend.children[k] ||
				    null);
		});
		Object.keys(byName).forEach(function (n) {
			if (!have[n])
				ch.legend.removeChild(byName[n]);
		});
		ch.reset.textContent = tr("charts.resetZoom", "Reset zoom");
		ch.reset.title = tr("charts.zoomHint",
		    "Drag across the chart to zoom; + and - keys zoom, 0 resets");
		ch.reset.hidden = ch.zoom === null;
	}

	function render(ch) {
		var o = ch.opts, s = ch.svg;
		var W = Math.floor(ch.container.clientWidth);
		var H = o.height || 200;
		var top = 10, right = 14, bottom = 22, left;
		var all = (o.series || []).filter(Boolean);
		var series, from = o.from, to = o.to, step = o.step;
		var lo, hi, yt, labels, maxW, pw, ph, tt, span, pad, fmt, dec;
		var plot, gx, gy, times, maxGap, any = false, lab, cnt;

		ch.width = W;
		if (!finite(from) || !finite(to) || to <= from) {
			from = 0;
			to = 1;
		}
		ch.full = { from: from, to: to };
		if (ch.zoom !== null && (ch.zoom.to <= from ||
		    ch.zoom.from >= to))
			ch.zoom = null;
		if (ch.zoom !== null) {
			from = Math.max(from, ch.zoom.from);
			to = Math.min(to, ch.zoom.to);
		}
		all.forEach(function (se, k) {
			if (!se.name)
				se.name = String(k + 1);
		});
		renderHead(ch, all.filter(function (se) {
			return se.name;
		}));
		series = all.filter(function (se) {
			return !ch.hidden[se.name];
		});

		while (s.firstChild)
			s.removeChild(s.firstChild);
		if (o.chart)
			s.dataset.chart = o.chart;
		s.dataset.points = String(o.points !== undefined ? o.points :
		    all.length ? all[0].points.length : 0);
		s.dataset.from = String(from);
		s.dataset.to = String(to);
		s.dataset.zoomed = String(ch.zoom !== null);
		s.setAttribute("aria-label", (o.title ? o.title + ". " : "") +
		    (o.label || "") + " " + tr("charts.zoomHint",
		    "Drag across the chart to zoom; + and - keys zoom, 0 resets"));
		if (W < 40) {
			ch.geo = null;
			return;
		}
		s.setAttribute("width", W);
		s.setAttribute("height", H);
		s.setAttribute("viewBox", "0 0 " + W + " " + H);
		s.appendChild(svg("title", { text: o.label || o.title || "" }));

		span = to - from;
		maxGap = finite(step) && step > 0 ? 2 * step : 0;
		pad = finite(step) && step > 0 ? step : 0;

		/* y range: fixed, or from the shown data. */
		lo = finite(o.yMin) ? o.yMin : Infinity;
		hi = finite(o.yMax) ? o.yMax : -Infinity;
		series.forEach(function (se) {
			se.points.forEach(function (p) {
				if (!finite(p[1]) || p[0] < from - pad ||
				    p[0] > to + pad)
					return;
				any = true;
				if (!finite(o.yMin))
					lo = Math.min(lo, p[1]);
				if (!finite(o.yMax))
					hi = Math.max(hi, p[1]);
			});
		});
		/* A threshold off the data's scale would not be drawn; a mark
		 * with fit: false (a total) leaves the scale to the data. */
		(o.marks || []).forEach(function (m) {
			if (!m || !finite(m.value) || m.fit === false)
				return;
			if (!finite(o.yMin))
				lo = Math.min(lo, m.value);
			if (!finite(o.yMax))
				hi = Math.max(hi, m.value * 1.05);
		});
		if (!finite(lo))
			lo = 0;
		if (!finite(hi))
			hi = lo + 1;
		if (o.yFit && !finite(o.yMin) && hi > lo) {
			/* Fitted: a margin around the data, not down to 0. */
			lo = Math.max(0, lo - (hi - lo) * 0.1);
			hi = hi + (hi - lo) * 0.1;
		} else if (!finite(o.yMin) && lo > 0) {
			lo = 0;
		}
		fmt = function (v) {
			return o.yFormat ? o.yFormat(v, dec) : formatNumber(v, dec);
		};
		/*
		 * Labels as precise as the step; a page format coarser than that
		 * would repeat a label ("1%, 1%"): then fewer, wider steps.
		 */
		for (cnt = Math.max(2, Math.min(5, Math.floor((H - top - bottom) /
		    36))); ; cnt--) {
			yt = niceTicks(lo, hi, cnt);
			if (finite(o.yMin))
				yt.min = o.yMin;
			if (finite(o.yMax))
				yt.max = Math.max(o.yMax, yt.min + 1e-9);
			yt.ticks = yt.ticks.filter(function (v) {
				return v >= yt.min - 1e-9 && v <= yt.max + 1e-9;
			});
			dec = tickDecimals(yt.step);
			lab = tickLabels(yt.ticks, fmt);
			if (lab.length === yt.ticks.length || cnt <= 1)
				break;
		}

		/* y labels first: their width decides the left margin. */
		gy = svg("g", { class: "chart__y" });
		s.appendChild(gy);
		labels = lab.map(function (l) {
			var tx = svg("text", { class: "chart__label",
			    "text-anchor": "end", "dominant-baseline": "middle",
			    text: l.text });
			gy.appendChild(tx);
			return tx;
		});
		maxW = 0;
		labels.forEach(function (tx) {
			var w = 0;
			try {
				w = tx.getComputedTextLength();
			} catch (e) {
				w = tx.textContent.length * 7;
			}
			maxW = Math.max(maxW, w);
		});
		left = Math.ceil(maxW) + 12;
		pw = Math.max(10, W - left - right);
		ph = Math.max(10, H - top - bottom);

		function X(t) {
			return r2(left + (t - from) / span * pw);
		}
		function Y(v) {
			v = Math.max(yt.min, Math.min(yt.max, v));
			return r2(top + ph - (v - yt.min) / (yt.max - yt.min) * ph);
		}

		/* Series outside a zoomed range are clipped to the plot. */
		s.appendChild(svg("defs", {}, svg("clipPath", { id: ch.clip },
		    svg("rect", { x: left, y: top - 2, width: pw,
			height: ph + 4 }))));

		/* Grid, y labels, x ticks and labels. */
		plot = svg("g", { class: "chart__grid" });
		s.insertBefore(plot, gy);
		lab.forEach(function (l, k) {
			var yy = Y(l.v);
			plot.appendChild(svg("line", { class: "chart__gridline",
			    x1: left, x2: left + pw, y1: yy, y2: yy }));
			labels[k].setAttribute("x", left - 6);
			labels[k].setAttribute("y", yy);
		});
		tt = timeTicks(from, to, Math.max(2, Math.floor(pw / 80)));
		gx = svg("g", { class: "chart__x" });
		s.appendChild(gx);
		tickLabels(tt.ticks, function (x) {
			return timeLabel(x, tt.step, span);
		}).forEach(function (l) {
			var xx = X(l.v);
			plot.appendChild(svg("line", { class:
			    "chart__gridline chart__gridline--x", x1: xx, x2: xx,
			    y1: top, y2: top + ph }));
			/* Keep edge labels inside the plot's width. */
			gx.appendChild(svg("text", { class: "chart__label",
			    "text-anchor": xx - left < 24 ? "start" :
			    left + pw - xx < 24 ? "end" : "middle", x: xx, y: H - 6,
			    text: l.text }));
		});
		s.appendChild(svg("line", { class: "chart__axis", x1: left,
		    x2: left + pw, y1: top + ph + 0.5, y2: top + ph + 0.5 }));
		s.appendChild(svg("line", { class: "chart__axis", x1: left - 0.5,
		    x2: left - 0.5, y1: top, y2: top + ph }));

		/* Spans under the series, marks over them. */
		drawSpans(s, o.spans, from, to, X, top, ph);

		/* Series: areas under lines first, then lines and lone points. */
		series.forEach(function (se) {
			var cls = se.cls || 1;
			var segs = segments(se.points, maxGap);
			var line = [], area = [], g = svg("g", {
				class: "chart__series", "clip-path": "url(#" +
				ch.clip + ")", dataset: { series: cls,
				name: se.name } });
			segs.forEach(function (sg) {
				var d;
				if (sg.length === 1) {
					g.appendChild(svg("circle", {
					    class: "chart__dot chart-fill--" + cls,
					    cx: X(sg[0][0]), cy: Y(sg[0][1]),
					    r: 2 }));
					return;
				}
				d = sg.map(function (p, k) {
					return (k === 0 ? "M" : "L") + X(p[0]) +
					    "," + Y(p[1]);
				}).join("");
				line.push(d);
				if (se.area)
					area.push("M" + X(sg[0][0]) + "," +
					    Y(yt.min) + d.replace(/^M/, "L") +
					    "L" + X(sg[sg.length - 1][0]) + "," +
					    Y(yt.min) + "Z");
			});
			if (area.length)
				g.insertBefore(svg("path", { class: "chart__area "
				    + "chart-area--" + cls, d: area.join("") }),
				    g.firstChild);
			if (line.length)
				g.appendChild(svg("path", { class: "chart__line "
				    + "chart-line--" + cls, d: line.join("") }));
			s.appendChild(g);
		});

		drawMarks(s, o.marks, yt, Y, left, pw, top);

		if (!any)
			s.appendChild(svg("text", { class: "chart__empty",
			    "text-anchor": "middle", "dominant-baseline": "middle",
			    x: left + pw / 2, y: top + ph / 2,
			    text: series.length === 0 && all.length > 0 ?
			    tr("charts.allHidden", "Every series is hidden") :
			    o.emptyText || "" }));

		/* Times for the tooltip: the union of the shown series'. */
		times = [];
		series.forEach(function (se) {
			se.points.forEach(function (p) {
				if (finite(p[0]) && p[0] >= from && p[0] <= to)
					times.push(p[0]);
			});
		});
		times.sort(function (a, b) {
			return a - b;
		});
		times = times.filter(function (x, k) {
			return k === 0 || x !== times[k - 1];
		});

		ch.geo = { W: W, H: H, left: left, top: top, pw: pw, ph: ph,
		    from: from, to: to, step: step, X: X, Y: Y, times: times,
		    series: series, tip: svg("g", { class: "chart__tip",
		    "aria-hidden": "true" }) };
		s.appendChild(ch.geo.tip);
		if (ch.hoverT !== null && ch.hoverT >= from && ch.hoverT <= to)
			showTip(ch);
		else
			ch.hoverT = null;
	}

	/*
	 * Shaded time ranges (rect.chart__span[data-span=kind]), clipped to
	 * the plot; a range still open has to = null and runs to the end.
	 */
	function drawSpans(s, spans, from, to, X, top, ph) {
		var g;

		if (!Array.isArray(spans) || spans.length === 0)
			return;
		g = svg("g", { class: "chart__spans" });
		spans.forEach(function (sp) {
			var a, b, x0, x1;
			if (!sp || !finite(sp.from))
				return;
			a = Math.max(from, sp.from);
			b = Math.min(to, finite(sp.to) ? sp.to : to);
			if (b <= a)
				return;
			x0 = X(a);
			x1 = X(b);
			g.appendChild(svg("rect", { class: "chart__span chart__span--" +
			    (sp.kind || "firing"), x: x0, y: top,
			    width: r2(Math.max(1, x1 - x0)), height: ph,
			    dataset: { span: sp.kind || "firing" } },
			    sp.label ? svg("title", { text: sp.label }) : null));
		});
		s.appendChild(g);
	}

	/*
	 * Horizontal lines (line.chart__mark[data-mark=kind][data-value]);
	 * kinds "threshold", "recovery", "total".  A mark above the scale
	 * (fit: false) is only its label at the top edge, with an arrow
	 * (text.chart__mark-label[data-off=above]).
	 */
	function drawMarks(s, marks, yt, Y, left, pw, top) {
		var g;

		if (!Array.isArray(marks) || marks.length === 0)
			return;
		g = svg("g", { class: "chart__marks" });
		marks.forEach(function (m) {
			var yy, kind = m && m.kind || "threshold";
			if (!m || !finite(m.value))
				return;
			if (m.value > yt.max + 1e-9 && m.label) {
				g.appendChild(svg("text", { class: "chart__mark-label " +
				    "chart__mark-label--" + kind,
				    x: left + pw - 4, y: top + 12,
				    "text-anchor": "end", text: m.label + " \u2191",
				    dataset: { mark: kind, value: m.value,
				    off: "above" } }));
				return;
			}
			if (m.value < yt.min - 1e-9 || m.value > yt.max + 1e-9)
				return;
			yy = Y(m.value);
			g.appendChild(svg("line", { class: "chart__mark " +
			    "chart__mark--" + kind, x1: left,
			    x2: left + pw, y1: yy, y2: yy,
			    dataset: { mark: kind, value: m.value } },
			    m.label ? svg("title", { text: m.label }) : null));
			if (m.label)
				g.appendChild(svg("text", { class: "chart__mark-label " +
				    "chart__mark-label--" + kind,
				    x: left + pw - 4, y: r2(yy - 4),
				    "text-anchor": "end", text: m.label }));
		});
		s.appendChild(g);
	}

	function valueAt(se, t) {
		var i, p;

		for (i = 0; i < se.points.length; i++) {
			p = se.points[i];
			if (p[0] === t)
				return finite(p[1]) ? p[1] : null;
		}
		return null;
	}

	function hideTip(ch) {
		ch.hoverT = null;
		ch.hoverIdx = -1;
		if (ch.geo !== null)
			while (ch.geo.tip.firstChild)
				ch.geo.tip.removeChild(ch.geo.tip.firstChild);
	}

	function showTip(ch) {
		var g = ch.geo, o = ch.opts, tip, idx, t, xx, near, lines;
		var texts, bw, bh, bx, by, pxPerS, slack;

		if (g === null || ch.hoverT === null)
			return;
		tip = g.tip;
		while (tip.firstChild)
			tip.removeChild(tip.firstChild);
		idx = nearest(g.times, ch.hoverT);
		pxPerS = g.pw / Math.max(1e-9, g.to - g.from);
		/* Snap to a point within a step (or 12 px); else "no data". */
		slack = Math.max(12, (finite(g.step) ? g.step : 0) * pxPerS);
		near = idx >= 0 && Math.abs(g.times[idx] - ch.hoverT) * pxPerS <=
		    slack;
		t = near ? g.times[idx] : ch.hoverT;
		xx = g.X(t);
		tip.appendChild(svg("line", { class: "chart__cross", x1: xx,
		    x2: xx, y1: g.top, y2: g.top + g.ph }));
		lines = [{ cls: "chart__tip-time", text: tipTime(t) }];
		if (near) {
			g.series.forEach(function (se) {
				var v = valueAt(se, t);
				if (v === null)
					return;
				tip.appendChild(svg("circle", { class:
				    "chart__tip-dot chart-fill--" + (se.cls || 1),
				    cx: xx, cy: g.Y(v), r: 3 }));
				lines.push({ cls: "chart__tip-value",
				    text: (se.name ? se.name + ": " : "") +
				    (o.valueFormat ? o.valueFormat(v) :
				    formatNumber(v, 2)) });
			});
		} else {
			lines.push({ cls: "chart__tip-value",
			    text: o.noDataText || "" });
		}
		texts = lines.map(function (l) {
			var tx = svg("text", { class: "chart__tip-text " + l.cls,
			    x: 0, y: 0, text: l.text });
			tip.appendChild(tx);
			return tx;
		});
		bw = 0;
		texts.forEach(function (tx) {
			var w;
			try {
				w = tx.getComputedTextLength();
			} catch (e) {
				w = tx.textContent.length * 7;
			}
			bw = Math.max(bw, w);
		});
		bw = Math.ceil(bw) + 16;
		bh = lines.length * 16 + 8;
		bx = xx + 10;
		if (bx + bw > g.left + g.pw)
			bx = xx - 10 - bw;
		if (bx < 0)
			bx = Math.max(0, g.left + g.pw - bw);
		by = g.top + 4;
		tip.insertBefore(svg("rect", { class: "chart__tip-box", x: r2(bx),
		    y: r2(by), width: bw, height: bh, rx: 3, ry: 3 }),
		    texts[0]);
		texts.forEach(function (tx, k) {
			tx.setAttribute("x", r2(bx + 8));
			tx.setAttribute("y", r2(by + 16 + k * 16));
		});
		tip.dataset.t = String(t);
	}

	var api = {
		sparkline: sparkline,
		lineChart: lineChart,
		segments: segments,
		niceTicks: niceTicks,
		tickDecimals: tickDecimals,
		tickLabels: tickLabels,
		timeTicks: timeTicks,
		timeLabel: timeLabel,
		tipTime: tipTime,
		bytesUnit: bytesUnit,
		formatBytes: formatBytes,
		formatNumber: formatNumber,
		pad2: pad2
	};

	if (typeof window !== "undefined")
		window.YardCharts = Object.freeze(api);
	if (typeof module === "object" && module.exports)
		module.exports = api;
})();
