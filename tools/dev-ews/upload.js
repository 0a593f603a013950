/*
 * Development EWS upload form (test tool): leave empty optional fields out
 * of the multipart body, since the EWS backend passes the body to Yard
 * unchanged and Yard should not see task_id="" or node_id="".
 */
(function () {
	'use strict';

	var form = document.getElementById('ews-upload');
	if (form === null)
		return;
	form.addEventListener('submit', function () {
		['task_id', 'node_id', 'notes'].forEach(function (n) {
			var el = form.elements[n];
			if (el && el.value.trim() === '')
				el.disabled = true;
		});
		/* Re-enable them if the user comes back with the back button. */
		window.addEventListener('pageshow', function () {
			['task_id', 'node_id', 'notes'].forEach(function (n) {
				if (form.elements[n]) form.elements[n].disabled = false;
			});
		}, { once: true });
	});
})();
