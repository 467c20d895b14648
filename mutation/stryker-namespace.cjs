// Preloaded into Stryker's test-runner processes (`testRunnerNodeArgs` in stryker.config.mjs) and, through
// NODE_OPTIONS, into every Node.js process they start.
//
// Why: parts of the unit suite run lib/ in child processes: the dynamic providers as `pulumi up` runs them
// (serialized by the SDK, loaded by Pulumi's dynamic-provider host, tests/support/engine-provider.ts), and
// etcd3-cluster/testing in a process per scenario (tests/support/testing-scenarios.ts). Instrumented code
// refers to Stryker's namespace object, which Pulumi's closure serializer writes as `global.__stryker__`:
// a plain child process does not have it. So here
// - every process gets the namespace;
// - the mutant the test runner activates, and the test it is running, are mirrored into environment
//   variables, so a child runs the mutant its parent runs (as the program that started it would) and
//   counts its coverage for that test;
// - a child writes the coverage it counted to a directory of the test runner's when it exits, and
//   mutation/mocha-coverage.cjs adds it to the runner's own, so the tests that exercise lib/ in child
//   processes are run against the mutants they reach. That works for children that load lib/ themselves
//   (the testing scenarios, user data rendered without the SDK) and, with ETCD3_MUTATION_PROVIDER_COVERAGE=1, the
//   providers Pulumi serialized, whose closures then refer to the counter through a global (below).
"use strict";
const fs = require("fs");
const path = require("path");

const mutantVariable = "__STRYKER_ACTIVE_MUTANT__";
const testVariable = "ETCD3_MUTATION_CURRENT_TEST";
const coverageDirectoryVariable = "ETCD3_MUTATION_CHILD_COVERAGE";
/** `1`: the providers that run serialized in Pulumi's host count their coverage too (see below). */
const providerCoverageVariable = "ETCD3_MUTATION_PROVIDER_COVERAGE";

// The test runner is given this file on its command line; its children get it through NODE_OPTIONS.
const isRunner = process.execArgv.some((arg) => arg.endsWith("stryker-namespace.cjs"));
const isChild = !isRunner && process.env[coverageDirectoryVariable] !== undefined;
if (isRunner) {
    // In the sandbox (the test runner's working directory), which Stryker removes after the run. A process whose
    // environment lost the variable (started with an environment of its own) hands back nothing and makes no directory.
    process.env[coverageDirectoryVariable] = fs.mkdtempSync(path.join(process.cwd(), ".child-coverage-"));
}
if (!(process.env.NODE_OPTIONS ?? "").includes(__filename)) {
    process.env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ""} --require ${__filename}`.trim();
}

/**
 * A property of the namespace whose value is also kept in an environment variable, for child processes.
 * Percent-encoded there: the environment cannot hold a NUL, and the test id of a suite's `before` hooks starts with
 * one (mutation/mocha-coverage.cjs's marker); written as is, it was cut to "" and a provider host started in such a
 * hook counted its coverage as static, which is not handed back. Mutant ids (digits) are unchanged by the encoding.
 */
function mirrored(namespace, property, variable) {
    let value = process.env[variable] ? decodeURIComponent(process.env[variable]) : undefined;
    Object.defineProperty(namespace, property, {
        enumerable: true,
        configurable: true,
        get: () => value,
        set: (next) => {
            value = next;
            if (next === undefined) {
                delete process.env[variable];
            } else {
                process.env[variable] = encodeURIComponent(String(next));
            }
        },
    });
}

if (globalThis.__stryker__ === undefined) {
    const namespace = {};
    mirrored(namespace, "activeMutant", mutantVariable);
    mirrored(namespace, "currentTestId", testVariable);
    globalThis.__stryker__ = namespace;
    if (process.env[providerCoverageVariable] === "1") {
        // The coverage counter, created here rather than by the first instrumented call, and also a global of its
        // own: Pulumi's closure serializer writes an object that is a global's value as a reference to that global
        // (as it writes the namespace as `global.__stryker__`), so a serialized provider counts into its host's
        // counter, which the host hands back below, instead of into a copy of its parent's taken at serialization.
        // Opt-in: every mutant the providers reach then also runs the engine suites, which makes a run several
        // times longer; the runs that record the providers' own files (rolling.ts, departure.ts) need it.
        namespace.mutantCoverage = { static: {}, perTest: {} };
        globalThis.__etcd3MutationCoverage = namespace.mutantCoverage;
    }
}

if (isChild) {
    const file = path.join(process.env[coverageDirectoryVariable], `${process.pid}.json`);
    const write = () => {
        const coverage = globalThis.__stryker__.mutantCoverage;
        if (coverage !== undefined) {
            try {
                fs.writeFileSync(file, JSON.stringify(coverage));
            } catch {
                // The test runner has gone (and removed the directory): nobody needs the coverage.
            }
        }
    };
    process.on("exit", write);
    // Hosts are stopped with SIGTERM: write, then die of the signal as before.
    process.once("SIGTERM", () => {
        write();
        process.kill(process.pid, "SIGTERM");
    });
}
