// A TLS 1.3 echo server on Node.js (OpenSSL 3.5+) for tests/interop/test_interop_hybrid.py.
//
// Usage: node node_tls_server.js '<json config>'
//   config: {"cert": PEM path, "key": PEM path, "groups": ecdhCurve string,
//            "host": "127.0.0.1"}
// Listens on an ephemeral loopback port and writes one JSON object per line on
// stdout:
//   {"event": "listening", "port": N, "openssl": "3.5.x"}
//   {"event": "keylog", "line": "<NSS key log line>"}       (OpenSSL's secrets)
//   {"event": "secure", "protocol": "TLSv1.3", "cipher": "..."}
//   {"event": "error", "message": "..."}                     (tlsClientError)
// Each connection echoes what it receives, prefixed with "echo:", and closes
// when the client does.  The process exits when its stdin closes, so it never
// outlives the test that started it.
"use strict";

const fs = require("fs");
const tls = require("tls");

const config = JSON.parse(process.argv[2]);
const say = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");

const server = tls.createServer({
  cert: fs.readFileSync(config.cert),
  key: fs.readFileSync(config.key),
  ecdhCurve: config.groups,
  minVersion: "TLSv1.3",
  maxVersion: "TLSv1.3",
});

server.on("keylog", (line) => say({ event: "keylog", line: line.toString("latin1").trim() }));
server.on("tlsClientError", (err) => say({ event: "error", message: String(err.message) }));
server.on("secureConnection", (sock) => {
  say({ event: "secure", protocol: sock.getProtocol(), cipher: sock.getCipher().name });
  sock.on("data", (data) => sock.write(Buffer.concat([Buffer.from("echo:"), data])));
  sock.on("end", () => sock.end());
  sock.on("error", () => sock.destroy());
});

server.listen(0, config.host || "127.0.0.1", () => {
  say({ event: "listening", port: server.address().port, openssl: process.versions.openssl });
});

process.stdin.on("data", () => {});
process.stdin.on("end", () => process.exit(0));
process.stdin.on("error", () => process.exit(0));
