// HTML pages of the development EWS (test tool).  Every value that reaches
// the markup goes through esc(); pages load /portal.css and, where needed,
// /portal.js or /upload.js (no inline script or style: see the CSP in
// server.js).
'use strict';

const NOTE = 'Development EWS — test tool, not for production';

const LABELS = {
  start: 'Yard', tasks: 'Tasks', nodes: 'Nodes', logs: 'Logs', metrics: 'Metrics', commands: 'Commands',
  packages: 'Packages', notifications: 'Notifications', permissions: 'Permissions',
  users: 'Users', alerts: 'Alerts',
};
const ADMIN_ONLY = new Set(['permissions', 'users']);
// Opened, never listed: Yard's landing page, which goes on at once to the
// first module the user can use (docs/ews-integration.md).
const NOT_IN_MENU = new Set(['start']);

function esc(v) {
  return String(v === undefined || v === null ? '' : v).replace(/[&<>"']/g, (c) => ({
    '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;',
  })[c]);
}

function label(m) {
  return LABELS[m] || m.charAt(0).toUpperCase() + m.slice(1);
}

function layout({ title, user, modules, active, body, scripts = [], bodyClass = '', head = '' }) {
  const menu = modules ? `
<nav class="ews-menu" aria-label="Menu">
  <div class="ews-menu__group">Yard — service scheduling</div>
  <ul id="ews-menu">
${modules.filter((m) => !NOT_IN_MENU.has(m)).map((m) => `    <li><a href="/?module=${esc(encodeURIComponent(m))}" data-module="${esc(m)}"${m === active ? ' class="active" aria-current="page"' : ''}>${esc(label(m))}${ADMIN_ONLY.has(m) ? ' <span class="ews-tag">admin</span>' : ''}</a></li>`).join('\n')}
  </ul>
  <div class="ews-menu__group">EWS</div>
  <ul>
    <li><a href="/upload"${active === '#upload' ? ' class="active" aria-current="page"' : ''}>Upload package</a></li>
    <li><a href="/.well-known/jwks.json">JWKS</a></li>
  </ul>
</nav>` : '';
  const who = user ? `
  <div class="ews-user">
    <span id="ews-user-name" title="${esc(user.sub)}">${esc(user.name)}</span>
    <span class="ews-user__sub">${esc(user.sub)}${user.roles.length ? ' · ' + esc(user.roles.join(', ')) : ''}</span>
    <form method="post" action="/logout" class="ews-inline"><button type="submit" class="ews-btn ews-btn--header">Log out</button></form>
  </div>` : '';
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<link rel="icon" href="data:,">
<title>${esc(title)} — Development EWS</title>
<link rel="stylesheet" href="/portal.css">${head}
${scripts.map((s) => `<script src="${esc(s)}" defer></script>`).join('\n')}
</head>
<body class="${esc(bodyClass)}">
<div class="ews-devnote" id="ews-devnote" role="note">${esc(NOTE)}</div>
<header class="ews-header">
  <a class="ews-brand" href="/">EWS</a>
  <span class="ews-brand__sub">Enterprise Workspace · development</span>${who}
</header>
<div class="ews-body">${menu}
<main class="ews-main">
${body}
</main>
</div>
</body>
</html>
`;
}

function loginPage({ user, redirectUri, users, target, yardOrigin }) {
  const where = target
    ? (target.yard
      ? `<p class="ews-hint">After signing in you go back to <code>${esc(target.url.href.split('#')[0])}</code> with a fresh token in the URL fragment (<code>#access_token=…</code>).</p>`
      : `<p class="ews-hint">After signing in you go back to <code>${esc(target.url.href.split('#')[0])}</code>.</p>`)
    : '<p class="ews-hint">After signing in you go to the portal.</p>';
  const hidden = `<input type="hidden" name="redirect_uri" value="${esc(redirectUri)}">`;
  const body = `
<section class="ews-panel ews-login">
  <h1>Sign in</h1>
  <p>Pick a test user. There are no passwords: this is a test tool.</p>
  ${user ? `<p class="ews-hint">Signed in now as <strong>${esc(user.name)}</strong> (${esc(user.sub)}).</p>` : ''}
  ${where}
  <form method="post" action="/login" id="ews-login-users">
    ${hidden}
    <table class="ews-table">
      <thead><tr><th>User</th><th>sub</th><th>e-mail</th><th>roles</th><th></th></tr></thead>
      <tbody>
${users.map((u) => `        <tr><td>${esc(u.name)}</td><td><code>${esc(u.sub)}</code></td><td>${esc(u.email)}</td><td>${esc(u.roles.join(', ') || '—')}</td>
          <td><button type="submit" name="user" value="${esc(u.sub)}" class="ews-btn ews-btn--primary" id="login-${esc(u.sub)}">Sign in</button></td></tr>`).join('\n')}
      </tbody>
    </table>
  </form>
  <form method="post" action="/login" id="ews-login-custom" class="ews-row">
    ${hidden}
    <label for="ews-custom-sub">Other user (sub, no roles)</label>
    <input type="text" id="ews-custom-sub" name="user" required maxlength="128" pattern="[A-Za-z0-9._@:+\\-]{1,128}" placeholder="u-someone">
    <button type="submit" class="ews-btn">Sign in as this sub</button>
  </form>
  <p class="ews-hint">Tokens: issuer-signed RS256 JWTs for <code>${esc(yardOrigin)}</code>; the session is a cookie on this EWS only.</p>
</section>`;
  return layout({ title: 'Sign in', user: null, modules: null, body });
}

function portalPage({ user, modules, view, frameSrc, problem, config, settings, yardOrigin, portalUrl }) {
  const back = new URL(portalUrl).pathname + new URL(portalUrl).search;
  const head = `
<meta name="ews-config" content="${esc(JSON.stringify(config))}">`;
  const body = `
<div class="ews-toolbar">
  <h1 id="ews-title">${esc(label(view.module))}</h1>
  <span class="ews-crumb">Yard · <code id="ews-frame-url">${esc(frameSrc || '')}</code></span>
  <form method="get" action="/" class="ews-inline ews-look" id="ews-look">
    <input type="hidden" name="module" value="${esc(view.module)}">
    <input type="hidden" name="query" value="${esc(view.query)}">
    <label>Theme <select name="theme">
      <option value=""${view.theme === '' ? ' selected' : ''}>(Yard default)</option>
      <option value="light"${view.theme === 'light' ? ' selected' : ''}>light</option>
      <option value="dark"${view.theme === 'dark' ? ' selected' : ''}>dark</option>
    </select></label>
    <label>Language <select name="lang">
      <option value=""${view.lang === '' ? ' selected' : ''}>(Yard default)</option>
      <option value="zh-CN"${view.lang === 'zh-CN' ? ' selected' : ''}>zh-CN</option>
      <option value="en"${view.lang === 'en' ? ' selected' : ''}>en</option>
    </select></label>
    <button type="submit" class="ews-btn">Apply</button>
  </form>
</div>
<div class="ews-devbar">
  <form method="post" action="/settings" id="ews-settings" class="ews-inline">
    <input type="hidden" name="back" value="${esc(back)}">
    <label><input type="checkbox" name="refuse_refresh" id="ews-refuse" value="1"${settings.refuse_refresh ? ' checked' : ''}> refuse token refresh</label>
    <label>on login-expired <select name="on_expired" id="ews-on-expired">
      <option value="navigate"${settings.on_expired === 'navigate' ? ' selected' : ''}>navigate</option>
      <option value="stay"${settings.on_expired === 'stay' ? ' selected' : ''}>stay</option>
    </select></label>
    <label>token TTL <input type="number" name="ttl" id="ews-ttl" min="1" max="86400" value="${esc(settings.ttl)}"> s</label>
    <button type="submit" class="ews-btn">Save</button>
  </form>
  <div class="ews-status-wrap">Last event: <output id="ews-status" role="status" aria-live="polite" data-event="">page loaded</output>
    <details class="ews-log"><summary>log</summary><ol id="ews-log"></ol></details>
  </div>
</div>
<div id="ews-expired" class="ews-banner" role="alert" hidden>
  Yard reports the login expired. <a id="ews-expired-link" href="/login?redirect_uri=${esc(encodeURIComponent(portalUrl))}">Sign in again</a>
</div>
${problem
    ? `<div class="ews-banner ews-banner--error" role="alert" id="ews-problem">${esc(problem)}</div>`
    : `<iframe id="yard-frame" title="Yard — ${esc(label(view.module))}" src="${esc(frameSrc)}" referrerpolicy="origin"></iframe>`}
<p class="ews-hint">Messages are accepted only from <code>${esc(yardOrigin)}</code> and only from this frame; tokens are posted to that origin only.</p>`;
  return layout({
    title: label(view.module), user, modules, active: view.module, body,
    scripts: ['/portal.js'], bodyClass: 'ews-portal', head,
  });
}

function uploadPage({ user, modules, yardBase, max, tasks, tasksError }) {
  const options = (tasks || []).map((t) => `<option value="${esc(t.id)}">${esc(t.name)} (${esc(t.node_name || 'node ' + t.node_id)})</option>`).join('');
  const body = `
<div class="ews-toolbar"><h1>Upload package</h1></div>
<section class="ews-panel">
  <div class="ews-banner" role="note" id="ews-upload-note"><strong>Test tool.</strong> This page plays EWS's backend:
  the browser's <a href="https://github.com/tus/tus-js-client">tus-js-client</a> sends the file in chunks to this
  development EWS (<code>/tus/uploads</code>), which passes every request on to
  <code>${esc(yardBase)}/api/v1/uploads</code> (tus 1.0, SPEC 3.5) with its service token
  (<code>sub svc-ews</code>, <code>scope packages:upload</code>). A real EWS does the same from its Java backend.
  Limit ${esc(Math.round(max / 1024 / 1024 / 1024))} GiB.</div>
  ${tasksError ? `<div class="ews-banner ews-banner--error" id="ews-tasks-error" role="alert">Tasks could not be listed: ${esc(tasksError)}. Type a task id instead.</div>` : ''}
  <form id="ews-upload" class="ews-form" data-max="${esc(max)}" novalidate>
    <label for="up-file">Package (zip, war, jar)</label><input type="file" id="up-file" name="file" accept=".zip,.war,.jar,application/zip" required>
    <label for="up-task">Target task</label>
    <span><select id="up-task" name="task_id">
      <option value="">(none: admins only)</option>${options}
    </select>
    <input type="text" id="up-task-id" name="task_id_other" inputmode="numeric" pattern="[0-9]{1,18}" maxlength="18" placeholder="or task id" aria-label="or task id"></span>
    <label for="up-name">Name</label><input type="text" id="up-name" name="name" maxlength="255" placeholder="defaults to the file name">
    <label for="up-version">Version</label><input type="text" id="up-version" name="version" maxlength="100">
    <label for="up-notes">Notes</label><textarea id="up-notes" name="notes" rows="3" maxlength="4000"></textarea>
    <label for="up-chunk">Chunk size</label><span><input type="number" id="up-chunk" name="chunk" min="16" max="8192" value="1024"> KiB
      <span class="ews-hint">Yard takes at most 8 MiB per chunk; small chunks make pause and resume easy to watch.</span></span>
    <span></span><span>
      <button type="submit" class="ews-btn ews-btn--primary" id="up-start">Upload to Yard</button>
      <button type="button" class="ews-btn" id="up-pause" disabled>Pause</button>
      <button type="button" class="ews-btn" id="up-resume" disabled>Resume</button>
    </span>
  </form>
  <div id="ews-upload-progress" class="ews-progress" data-state="idle" hidden>
    <progress id="up-bar" max="100" value="0"></progress>
    <output id="up-bytes" role="status" aria-live="polite"></output>
  </div>
  <div id="ews-upload-verdict" data-state="none" hidden></div>
  <details class="ews-log"><summary>log</summary><ol id="ews-upload-log"></ol></details>
</section>`;
  return layout({
    title: 'Upload package', user, modules, active: '#upload', body,
    scripts: ['/vendor/tus.min.js', '/upload.js'],
  });
}

function errorPage(status, message) {
  const body = `
<section class="ews-panel">
  <h1>${esc(status)}</h1>
  <p id="ews-error">${esc(message)}</p>
  <p><a href="/">Portal</a> · <a href="/login">Sign in</a></p>
</section>`;
  return layout({ title: String(status), user: null, modules: null, body });
}

module.exports = { loginPage, portalPage, uploadPage, errorPage, esc, NOTE };
