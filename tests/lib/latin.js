// What Latin-script text a Chinese page may show besides data: product,
// protocol and format names, units, key names and signal names.  Shared by
// the i18n check of every zh-CN string and the zh-CN page walk.
'use strict';

const ALLOWED = new Set(('Yard EWS yard-agent CPU PID URL URI ID UUID JWT JWKS HTTP HTTPS ' +
  'JSON XML YAML Base64 API SSO TLS CA SMTP QQ Tomcat Java JVM JAR WAR java jar Apollo Linux Debian ' +
  'Windows PostgreSQL Redis properties zip war jar tar.gz B KiB MiB GiB TiB ms s SHA-256 SHA256 GBK GB18030 UTF-8 ' +
  'UTC GMT Ctrl Shift Alt Enter Esc Tab CATALINA_BASE CATALINA_HOME JAVA_HOME ' +
  'SIGTERM SIGKILL SIGINT SIGHUP SIGQUIT SIGUSR1 SIGUSR2 SIGSEGV SIGABRT SIGBUS SIGPIPE').split(' '));

const WORD = /[A-Za-z][A-Za-z0-9_.:/\\-]*/g;

// The Latin words of text that are neither allowed nor in data (a Set of
// words the page was given by the API).  A path (a word with / or \) is an
// example of something to type, which is data; so is a single capital
// letter (a key or a drive).
function foreignWords(text, data = new Set()) {
  return (text.match(WORD) || []).filter((w) => {
    const bare = w.replace(/[.:-]+$/, '');
    if (ALLOWED.has(bare) || data.has(bare) || /[/\\]/.test(bare) || /^[A-Z]$/.test(bare)) return false;
    return !bare.split(/[._:-]+/).every((x) => x === '' || ALLOWED.has(x) || data.has(x));
  });
}

// Every string in a JSON value, and each of its Latin words and their parts.
function dataWords(v, into = new Set()) {
  if (typeof v === 'string') {
    for (const w of v.match(WORD) || []) {
      into.add(w);
      for (const p of w.split(/[._:/\\-]+/)) if (p) into.add(p);
    }
  } else if (Array.isArray(v)) {
    v.forEach((x) => dataWords(x, into));
  } else if (v && typeof v === 'object') {
    Object.values(v).forEach((x) => dataWords(x, into));
  }
  return into;
}

module.exports = { ALLOWED, foreignWords, dataWords };
