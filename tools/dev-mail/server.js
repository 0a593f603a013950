#!/usr/bin/env node
// Development mail catcher: a real SMTP server with TLS on a generated
// (self-signed) certificate, for tests and `make run`.  Not for production.
//
//   node tools/dev-mail/server.js --dir var/dev-mail \
//     [--port 2587] [--tls-port 2465] [--http-port 8025] \
//     [--user yard (--password secret | --password-file FILE)]
//
// Two listeners: one that requires STARTTLS (what smtp://host:587 is) and
// one with implicit TLS (smtps://host:465).  Mail is refused on a
// connection that is not encrypted.  Each message received is stored as
// <dir>/mails/<n>.eml with <n>.json beside it (envelope, TLS, login), and
// an HTTP listing answers GET /mails (JSON) and GET / (HTML).  The
// certificate is <dir>/cert.pem (the CA file to give Yard as
// YARD_SMTP_CA_FILE); its name is 127.0.0.1 and localhost.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const http = require('node:http');
const { execFileSync } = require('node:child_process');
const { SMTPServer } = require('smtp-server');

// A self-signed certificate for 127.0.0.1 and localhost (made once).
function certificate(dir) {
  const key = path.join(dir, 'key.pem');
  const cert = path.join(dir, 'cert.pem');
  if (!fs.existsSync(key) || !fs.existsSync(cert)) {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1',
      '-nodes', '-keyout', key, '-out', cert, '-days', '3650', '-subj', '/CN=dev-mail',
      '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '-addext', 'basicConstraints=critical,CA:TRUE'], { stdio: 'ignore' });
  }
  return { key: fs.readFileSync(key), cert: fs.readFileSync(cert), certFile: cert };
}

// Start the catcher.  opts: dir, port, tlsPort, httpPort (0: any free;
// null: none), user/password (none: no login needed), reject (a function
// of the envelope answering an error message to refuse with, or null).
async function start(opts) {
  const dir = opts.dir;
  const mailDir = path.join(dir, 'mails');
  fs.mkdirSync(mailDir, { recursive: true });
  const { key, cert, certFile } = certificate(dir);
  let seq = fs.readdirSync(mailDir).filter((f) => f.endsWith('.eml')).length;
  const catcher = { dir, mailDir, certFile, reject: opts.reject || null, servers: [] };

  function options(secure) {
    return {
      secure, key, cert,
      name: 'dev-mail.localhost',
      banner: 'Yard development mail catcher',
      authOptional: !opts.user,
      disabledCommands: opts.user ? [] : ['AUTH'],
      size: 10 * 1024 * 1024,
      onAuth(auth, session, cb) {
        if (auth.username === opts.user && auth.password === opts.password) return cb(null, { user: auth.username });
        return cb(Object.assign(new Error('535 authentication failed'), { responseCode: 535 }));
      },
      onMailFrom(addr, session, cb) {
        if (!session.secure) return cb(Object.assign(new Error('TLS required'), { responseCode: 530 }));
        return cb();
      },
      onRcptTo(addr, session, cb) {
        const why = catcher.reject ? catcher.reject(addr.address, session) : null;
        if (why) return cb(Object.assign(new Error(why), { responseCode: 550 }));
        return cb();
      },
      onData(stream, session, cb) {
        const chunks = [];
        stream.on('data', (c) => chunks.push(c));
        stream.on('end', () => {
          const n = String(++seq).padStart(6, '0');
          const raw = Buffer.concat(chunks);
          fs.writeFileSync(path.join(mailDir, n + '.eml'), raw);
          fs.writeFileSync(path.join(mailDir, n + '.json'), JSON.stringify({
            id: n,
            at: new Date().toISOString(),
            from: session.envelope.mailFrom && session.envelope.mailFrom.address,
            to: session.envelope.rcptTo.map((r) => r.address),
            secure: session.secure,
            implicit_tls: secure,
            user: session.user || null,
            size: raw.length,
          }));
          cb(null, 'stored as ' + n);
        });
      },
    };
  }

  function listen(server, port) {
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve(server.server.address().port));
    });
  }
  const plain = new SMTPServer(options(false));
  const tls = new SMTPServer(options(true));
  plain.on('error', () => {});
  tls.on('error', () => {});
  catcher.port = await listen(plain, opts.port || 0);
  catcher.tlsPort = await listen(tls, opts.tlsPort || 0);
  catcher.servers.push(plain, tls);

  catcher.list = () => fs.readdirSync(mailDir).filter((f) => f.endsWith('.json')).sort()
    .map((f) => JSON.parse(fs.readFileSync(path.join(mailDir, f), 'utf8')));
  catcher.raw = (id) => fs.readFileSync(path.join(mailDir, id + '.eml'), 'utf8');

  if (opts.httpPort !== null && opts.httpPort !== undefined) {
    const web = http.createServer((req, res) => {
      const m = /^\/mails\/([0-9]{6})$/.exec(req.url);
      if (req.url === '/mails') {
        res.writeHead(200, { 'content-type': 'application/json' });
        return res.end(JSON.stringify({ items: catcher.list() }));
      }
      if (m && fs.existsSync(path.join(mailDir, m[1] + '.eml'))) {
        res.writeHead(200, { 'content-type': 'message/rfc822' });
        return res.end(catcher.raw(m[1]));
      }
      if (req.url === '/') {
        const esc = (s) => String(s).replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
        const rows = catcher.list().reverse().map((x) => `<tr><td>${esc(x.at)}</td><td>${esc(x.from)}</td>` +
          `<td>${esc(x.to.join(', '))}</td><td><a href="/mails/${x.id}">${x.id}</a></td></tr>`).join('');
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        return res.end(`<!doctype html><meta charset="utf-8"><title>dev mail</title>
<h1>Development mail catcher (a test tool)</h1><table><tr><th>at</th><th>from</th><th>to</th><th>raw</th></tr>${rows}</table>`);
      }
      res.writeHead(404);
      return res.end();
    });
    await new Promise((r) => web.listen(opts.httpPort, '127.0.0.1', r));
    catcher.httpPort = web.address().port;
    catcher.web = web;
  }
  catcher.stop = async () => {
    for (const s of catcher.servers) await new Promise((r) => s.close(r));
    if (catcher.web) await new Promise((r) => catcher.web.close(r));
  };
  return catcher;
}

module.exports = { start };

if (require.main === module) {
  const args = process.argv.slice(2);
  const arg = (name, def) => {
    const i = args.indexOf('--' + name);
    return i >= 0 ? args[i + 1] : def;
  };
  start({
    dir: arg('dir', 'var/dev-mail'),
    port: Number(arg('port', 2587)),
    tlsPort: Number(arg('tls-port', 2465)),
    httpPort: Number(arg('http-port', 8025)),
    user: arg('user', null),
    password: arg('password-file', null) ? fs.readFileSync(arg('password-file'), 'utf8').trim()
      : arg('password', null),
  }).then((c) => {
    console.log(`dev-mail: smtp://127.0.0.1:${c.port} (STARTTLS required), smtps://127.0.0.1:${c.tlsPort},` +
      ` http://127.0.0.1:${c.httpPort}/ ; CA file ${c.certFile}`);
  }, (e) => { console.error('dev-mail:', e.message); process.exit(1); });
}
