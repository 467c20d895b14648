// Preloaded into Stryker's test-runner processes (`testRunnerNodeArgs` in stryker.config.mjs) and, through
// NODE_OPTIONS, into every Node.js process they start.
//
// Why: the unit suite runs the dynamic providers as `pulumi up` does, serialized by the SDK and loaded by
// Pulumi's dynamic-provider host in a child process (tests/support/engine-provider.ts). Instrumented code
// refers to Stryker's namespace object, and Pulumi's closure serializer writes that reference as
// `global.__stryker__`, which a plain child process does not have. Here every process gets the namespace,
// and the mutant a test runner activates is mirrored into the environment variable Stryker's own
// instrumentation reads (`__STRYKER_ACTIVE_MUTANT__`), so a provider host started during a mutant's run
// runs that same mutant, as the program that serialized it would.
"use strict";
const variable = "__STRYKER_ACTIVE_MUTANT__";
if (!(process.env.NODE_OPTIONS ?? "").includes(__filename)) {
    process.env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ""} --require ${__filename}`.trim();
}
if (globalThis.__stryker__ === undefined) {
    let active = process.env[variable] || undefined;
    globalThis.__stryker__ = Object.defineProperty({}, "activeMutant", {
        enumerable: true,
        configurable: true,
        get: () => active,
        set: (id) => {
            active = id;
            if (id === undefined) {
                delete process.env[variable];
            } else {
                process.env[variable] = String(id);
            }
        },
    });
}
