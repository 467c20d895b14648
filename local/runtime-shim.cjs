// `podman` and `docker` as a node's shell scripts see them (local/node-shell.ts binds
// runtime-shim-launcher.sh, which runs this, over /usr/bin/podman and /usr/bin/docker in the
// script's mount namespace). The harness maps the command exactly as it maps a unit's command
// line (container-runtime.ts) and answers over the node's runtime socket; this runs the mapped
// process in the foreground, reports its exit, and exits as the runtime would. The variables of
// the run's `--env NAME` options (the answer's fromCaller) it copies from its own environment,
// the calling script's, as podman and docker do; one the script lacks the process does not get.
// Their values are never sent to the harness, nor printed.
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
            const { command, args: commandArgs, env, fromCaller = [], cwd } = message.run;
            for (const name of fromCaller) {
                if (process.env[name] !== undefined) {
                    env[name] = process.env[name];
                }
            }
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
