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
        // Fast, pure test files first, then all of them (a file named twice loads once): Stryker stops at a
        // mutant's first failing test, so a mutant these kill never waits for the suites that build clusters.
        // Named one by one: mocha's file lookup does not expand a pattern whose only magic is braces
        // (`tests/{a,b}.test.ts` matched nothing, with a warning, and the fast files ran in plain order).
        spec: [
            ...[
                "etcd", "etcd-upgrades", "etcd-upgrade-skips", "os", "plan-windows", "args-checks", "args-slots", "ignition",
                "data-volume", "data-volume-names", "discovery", "discovery-request", "discovery-request-errors", "discovery-provider",
                "guard", "testing-mocks", "testing-slots-mocks", "network", "nodes", "slots", "slot-zone-lookup", "security-groups",
                "image-choice-provider", "maintenance", "args-maintenance", "alarms",
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
