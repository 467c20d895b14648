// `podman` and `docker` as a node's shell scripts see them (local/node-shell.ts binds
// runtime-shim-launcher.sh, which runs this, over /usr/bin/podman and /usr/bin/docker in the
// script's mount namespace). The harness maps the command exactly as it maps a unit's command
// line (container-runtime.ts) and answers over the node's runtime socket; this runs the mapped
// process in the foreground, reports its exit, and exits as the runtime would.
//
//   node runtime-shim.cjs RUNTIME ARGS...
//
// Plain JavaScript, so that each call costs a Node.js start and nothing more.
"use strict";
const net = require("net");
const { spawnSync } = require("child_process");

const [runtime, ...args] = process.argv.slice(2);
const socket = net.connect(process.env.ETCD3_LOCAL_RUNTIME_SOCKET);
let buffer = "";
socket.setEncoding("utf8");
socket.on("connect", () => socket.write(`${JSON.stringify({ argv: [`/usr/bin/${runtime}`, ...args] })}\n`));
socket.on("data", (chunk) => {
    buffer += chunk;
    let newline;
    while ((newline = buffer.indexOf("\n")) >= 0) {
        const message = JSON.parse(buffer.slice(0, newline));
        buffer = buffer.slice(newline + 1);
        if (message.run) {
            const { command, args: commandArgs, env, cwd } = message.run;
            const result = spawnSync(command, commandArgs, { env, cwd, stdio: "inherit" });
            socket.write(`${JSON.stringify({ status: { code: result.status, signal: result.signal } })}\n`);
        } else {
            if (message.message) {
                process.stderr.write(`${message.message}\n`);
            }
            socket.end();
            process.exitCode = message.exit;
        }
    }
});
socket.on("error", (error) => {
    process.stderr.write(`Error: the harness's runtime does not answer: ${error.message}\n`);
    process.exit(125);
});
