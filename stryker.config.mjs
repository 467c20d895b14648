// Mutation testing of lib/ with StrykerJS, driven by the unit suite
// (`npm run test:unit`: everything in tests/ but the local-cluster suites).
// `npm run test:mutation` is the full run; CI runs incrementally from the
// committed mutation/stryker-incremental.json (see mutation/report.md).
/** @type {import("@stryker-mutator/api/core").PartialStrykerOptions} */
export default {
    mutate: ["lib/**/*.ts"],
    testRunner: "mocha",
    mochaOptions: {
        // .mocharc.json is read as well (the .ts extension); `require` here replaces its list.
        // Test files in order of their mean time per test (measured, `mocha --reporter json`), the cluster-building
        // ones last, then all of them (a file named twice loads once): Stryker stops at a mutant's first failing
        // test, so a mutant a fast test kills never waits for the suites that build clusters. Before this order a
        // mutant the user-data tests kill ran all of tests/cluster.test.ts first (a minute on two cores).
        // Named one by one: mocha's file lookup does not expand a pattern whose only magic is braces
        // (`tests/{a,b}.test.ts` matched nothing, with a warning, and the fast files ran in plain order).
        spec: [
            ...[
                "etcd-upgrades", "plan-windows", "os", "maintenance", "args-maintenance", "args-slots", "image-choice-provider", "etcd",
                "slot-members-problems", "args-checks", "etcd-upgrade-skips", "founding", "testing-slots-mocks", "guard",
                "ignition-founding", "ignition-options", "args", "security-groups", "discovery-provider", "discovery-request-errors",
                "ignition", "testing-mocks", "ignition-golden", "data-volume", "image", "network", "guard-engine", "discovery-request",
                "founding-engine", "slot-zone-lookup", "data-volume-names", "discovery-engine", "bootstrap", "plan", "slots",
                "discovery", "alarms", "cluster",
            ].map((name) => `tests/${name}.test.ts`),
            "tests/**/*.test.ts",
        ],
        ignore: ["tests/local-*.test.ts"],
        // The second counts what `before` hooks and child processes cover for the tests that need it (see the file).
        require: ["ts-node/register/transpile-only", "./mutation/mocha-coverage.cjs"],
    },
    // Gives child processes (Pulumi's dynamic-provider host) Stryker's namespace and the active mutant.
    testRunnerNodeArgs: ["--require", "./mutation/stryker-namespace.cjs"],
    // No type checker: checking each mutant against lib/ with @pulumi/aws's types took about 30 s a mutant on two
    // cores, ten times a mutant's test run. Mutants that would not compile run as JavaScript (ts-node transpiles
    // without checking) and count like the others; a surviving one is listed as such in mutation/report.md.
    checkers: [],
    coverageAnalysis: "perTest",
    // A mutant in code that runs only while modules load (tables, module-level constants) is "static": the mocha
    // runner cannot reload modules, so each would need a fresh process and the whole suite, about a minute on two
    // cores, 500 times over. They are ignored (reported as Ignored, outside the score); mutants also covered by
    // tests run against those tests. mutation/report.md counts them.
    ignoreStatic: true,
    // Two cores, two test runners.
    concurrency: 2,
    incremental: true,
    incrementalFile: "mutation/stryker-incremental.json",
    reporters: ["clear-text", "progress", "json", "html"],
    jsonReporter: { fileName: "reports/mutation/mutation.json" },
    htmlReporter: { fileName: "reports/mutation/mutation.html" },
    clearTextReporter: { allowColor: false, logTests: false, maxTestsToLog: 0 },
    // Not needed by the unit suite, and large (.local holds CI's Node.js 22).
    ignorePatterns: [".local", "bin", "*.tgz", "reports", "etcd3-discovery-url.log"],
    tempDirName: ".stryker-tmp",
    cleanTempDir: true,
};
