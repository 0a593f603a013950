/*
 * Development EWS upload page (test tool, not for production).
 *
 * tus-js-client (window.tus, /vendor/tus.min.js) uploads the chosen file in
 * chunks to this EWS's /tus/uploads, which passes each request on to Yard
 * with the service token.  Pause aborts the current request; Resume asks
 * Yard for the offset (HEAD) and goes on from there.  When the last chunk
 * is in, the page polls the upload until Yard's check has a verdict:
 * accepted (with a link to the package in the Packages page) or rejected
 * (with the rule, the entry and Yard's message).
 *
 * Test hooks: #ews-upload-progress[data-state=idle|uploading|paused|
 * checking|done|error] with #up-bar and #up-bytes; #up-pause, #up-resume;
 * #ews-upload-verdict[data-state=accepted|rejected|error][data-package-id]
 * [data-reason], #ews-package-link.
 */
(function () {
	'use strict';

	var form = document.getElementById('ews-upload');
	if (form === null)
		return;
	var $ = function (id) { return document.getElementById(id); };
	var box = $('ews-upload-progress');
	var bar = $('up-bar');
	var text = $('up-bytes');
	var verdict = $('ews-upload-verdict');
	var logEl = $('ews-upload-log');
	var upload = null;

	function log(msg) {
		var li = document.createElement('li');
		li.textContent = new Date().toISOString().slice(11, 19) + ' ' + msg;
		logEl.insertBefore(li, logEl.firstChild);
	}

	function state(s) {
		box.hidden = false;
		box.dataset.state = s;
		$('up-pause').disabled = s !== 'uploading';
		$('up-resume').disabled = s !== 'paused';
		$('up-start').disabled = s === 'uploading' || s === 'paused' || s === 'checking';
	}

	function mib(n) {
		return (n / 1048576).toFixed(n < 10485760 ? 2 : 1) + ' MiB';
	}

	function show(kind, parts, data) {
		var k;
		verdict.hidden = false;
		verdict.dataset.state = kind;
		verdict.className = 'ews-banner ' + (kind === 'accepted' ? 'ews-banner--ok' : 'ews-banner--error');
		verdict.setAttribute('role', kind === 'accepted' ? 'status' : 'alert');
		for (k in data || {})
			verdict.dataset[k] = String(data[k]);
		while (verdict.firstChild)
			verdict.removeChild(verdict.firstChild);
		parts.forEach(function (p) {
			verdict.appendChild(typeof p === 'string' ? document.createTextNode(p) : p);
		});
	}

	function target() {
		var other = $('up-task-id').value.trim();
		return other !== '' ? other : $('up-task').value;
	}

	/* After the last byte: Yard checks the package; poll its verdict. */
	function poll(url, tries) {
		fetch(url, { headers: { 'Tus-Resumable': '1.0.0' }, credentials: 'same-origin' })
			.then(function (r) {
				return r.json().then(function (j) { return { status: r.status, j: j }; });
			})
			.then(function (a) {
				var j = a.j, link;
				if (a.status !== 200)
					throw new Error('Yard answered ' + a.status + ': ' + (j.message || j.error || ''));
				if (j.state === 'accepted') {
					state('done');
					link = document.createElement('a');
					link.id = 'ews-package-link';
					link.href = '/?module=packages&query=' + encodeURIComponent('package=' + j.package_id);
					link.textContent = 'Open package #' + j.package_id + ' in Packages';
					show('accepted', ['Accepted: Yard checked and stored the package. ', link],
					    { packageId: j.package_id });
					log('accepted: package ' + j.package_id);
					return;
				}
				if (j.state === 'rejected') {
					state('done');
					show('rejected', ['Rejected (' + j.reason + ')' +
					    (j.entry ? ' at entry "' + j.entry + '"' : '') + ': ' + (j.message || '')],
					    { reason: j.reason, entry: j.entry || '' });
					log('rejected: ' + j.reason);
					return;
				}
				if (tries > 600)
					throw new Error('no verdict after 5 minutes (state ' + j.state + ')');
				setTimeout(function () { poll(url, tries + 1); }, 500);
			})
			.catch(function (e) {
				state('error');
				show('error', [String(e.message || e)]);
			});
	}

	form.addEventListener('submit', function (ev) {
		var file = $('up-file').files[0];
		var meta, task, chunk;

		ev.preventDefault();
		verdict.hidden = true;
		if (!file) {
			show('error', ['Choose a file first.']);
			return;
		}
		if (typeof window.tus === 'undefined') {
			show('error', ['tus-js-client is missing: run make deps (npm ci).']);
			return;
		}
		if (file.size > Number(form.dataset.max)) {
			show('error', ['The file is larger than the limit.']);
			return;
		}
		meta = { filename: file.name, name: $('up-name').value.trim() || file.name };
		if ($('up-version').value.trim() !== '')
			meta.version = $('up-version').value.trim();
		if ($('up-notes').value.trim() !== '')
			meta.notes = $('up-notes').value.trim();
		task = target();
		if (task !== '')
			meta.task_id = task;
		chunk = Math.max(16, Math.min(8192, Number($('up-chunk').value) || 1024)) * 1024;
		upload = new window.tus.Upload(file, {
			endpoint: '/tus/uploads',
			chunkSize: chunk,
			metadata: meta,
			retryDelays: [0, 1000, 3000],
			storeFingerprintForResuming: false,
			removeFingerprintOnSuccess: true,
			onProgress: function (sent, total) {
				bar.max = total;
				bar.value = sent;
				text.textContent = mib(sent) + ' / ' + mib(total) + ' (' +
				    Math.floor(sent * 100 / total) + '%)';
				box.dataset.sent = String(sent);
			},
			onChunkComplete: function (size, sent) {
				log('chunk committed: offset ' + sent);
			},
			onError: function (e) {
				var r = e.originalResponse;
				state('error');
				show('error', ['Upload failed: ' + (r ? r.getStatus() + ' ' + r.getBody() : e.message)]);
				log('error: ' + e.message);
			},
			onSuccess: function () {
				state('checking');
				text.textContent = mib(file.size) + ' sent; Yard is checking the package…';
				log('all bytes sent: ' + upload.url);
				poll(upload.url, 0);
			}
		});
		state('uploading');
		log('start: ' + file.name + ', ' + file.size + ' bytes, chunks of ' + chunk);
		upload.start();
	});

	$('up-pause').addEventListener('click', function () {
		if (upload === null)
			return;
		upload.abort().then(function () {
			state('paused');
			log('paused at ' + (box.dataset.sent || 0));
		});
		state('paused');
	});

	$('up-resume').addEventListener('click', function () {
		if (upload === null)
			return;
		state('uploading');
		log('resume: asking Yard for the offset');
		upload.start();
	});
})();
