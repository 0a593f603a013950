// Network middlemen for agent tests, run as a child process (the tests
// enrol agents synchronously, which would stall a server in their own
// process).  Prints "port N" once listening, then events, one per line.
//
//   node netfake.js balance PORT...   TCP balancer on loopback: each
//       connection goes to the next upstream that accepts it (round robin,
//       skipping dead ones), as a load balancer in front of several Yard
//       instances would.
//   node netfake.js replay PORT       HTTP proxy to one Yard: the first
//       long-poll answer that carries commands is remembered and answered
//       again, once, to the next long-poll ("replayed ID"), as a network
//       that lost the agent's acknowledgement would make the server do.
//   node netfake.js shed              a Yard that accepts any enrolment and
//       then sheds load: every other request gets 503 with Retry-After: 3
//       ("beat MS" for each heartbeat).
'use strict';
const http = require('node:http');
const net = require('node:net');

const [mode, ...ports] = process.argv.slice(2);
const upstreams = ports.map(Number);

function balance() {
  let next = 0;
  const srv = net.createServer((client) => {
    client.pause();
    let tries = 0;
    const attempt = () => {
      const port = upstreams[next++ % upstreams.length];
      const up = net.connect(port, '127.0.0.1');
      up.once('connect', () => {
        up.on('error', () => client.destroy());
        client.on('error', () => up.destroy());
        client.pipe(up);
        up.pipe(client);
        client.resume();
      });
      up.once('error', () => {
        if (++tries < upstreams.length) attempt();
        else client.destroy();
      });
    };
    attempt();
  });
  return srv;
}

function replay() {
  let kept = null;
  let done = false;
  return http.createServer((req, res) => {
    const isPoll = req.method === 'GET' && req.url.startsWith('/agent/v1/commands');
    if (isPoll && kept !== null && !done) {
      done = true;
      req.resume();
      console.log('replayed ' + kept.id);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(kept.body);
      return;
    }
    const up = http.request({
      host: '127.0.0.1', port: upstreams[0], method: req.method, path: req.url,
      headers: req.headers,
    }, (ur) => {
      const chunks = [];
      ur.on('data', (d) => chunks.push(d));
      ur.on('end', () => {
        const body = Buffer.concat(chunks);
        if (isPoll && ur.statusCode === 200 && kept === null) {
          const j = JSON.parse(body);
          if (j.commands.length > 0) kept = { id: j.commands[0].id, body };
        }
        res.writeHead(ur.statusCode, ur.headers);
        res.end(body);
      });
    });
    up.on('error', () => { res.writeHead(502); res.end(); });
    req.pipe(up);
  });
}

function shed() {
  return http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.url === '/agent/v1/enroll') {
        res.writeHead(201, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ v: 1, node_id: 77, secret: 'S'.repeat(43),
          heartbeat_interval: 1, poll_timeout: 25 }));
        return;
      }
      if (req.url === '/agent/v1/heartbeat') console.log('beat ' + Date.now());
      res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '3' });
      res.end('{"error":"unavailable"}');
    });
  });
}

const modes = { balance, replay, shed };
if (!modes[mode]) throw new Error('netfake: unknown mode ' + mode);
const srv = modes[mode]();
srv.listen(0, '127.0.0.1', () => console.log('port ' + srv.address().port));
