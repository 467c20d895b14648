// Loaded by mocha in Stryker's test runner only (`mochaOptions.require` in stryker.config.mjs). Makes the
// perTest coverage Stryker records name the tests that really need a mutant's code:
//
// 1. A suite's `before` hooks. Stryker's mocha runner notes the running test in a root `beforeEach`, so the
//    code a suite's `before` hook runs would count for whichever test ran last, in another suite (or as
//    static, before the first test), and the suites that build a cluster once in `before` and compare its
//    resources in their tests would never run against the mutants only they detect. Here that code counts
//    for every test of the hook's suite.
// 2. Child processes. The coverage that children wrote (see mutation/stryker-namespace.cjs) is added to the
//    runner's own when a run ends, for the test that was running when the child started (or the tests of
//    the suite whose `before` hook started it).
// 3. Code that ran both while test files loaded and in tests: see dropStaticCoverageOfCoveredMutants.
"use strict";
const fs = require("fs");
const path = require("path");
const { Runner } = require("mocha");

const hookMarker = "\u0000before all hooks of ";
/** Marker → the full titles of the tests of the suite whose `before` hooks it stands for. */
const suiteTests = new Map();

function testsOf(suite) {
    return [...suite.tests, ...suite.suites.flatMap(testsOf)];
}

/** Adds `covered` (mutant id → hits) to what `testId` covers, or to the tests a hook marker stands for. */
function addCoverage(perTest, testId, covered) {
    for (const id of suiteTests.get(testId) ?? [testId]) {
        const counts = (perTest[id] = perTest[id] || {});
        for (const [mutant, hits] of Object.entries(covered)) {
            counts[mutant] = (counts[mutant] || 0) + hits;
        }
    }
}

const hook = Runner.prototype.hook;
Runner.prototype.hook = function (name, fn) {
    const ns = globalThis.__stryker__;
    if (name !== "beforeAll" || ns === undefined) {
        return hook.call(this, name, fn);
    }
    const suite = this.suite;
    const previous = ns.currentTestId;
    const marker = `${hookMarker}${suite.fullTitle()}`;
    suiteTests.set(marker, testsOf(suite).map((test) => test.fullTitle()));
    ns.currentTestId = marker;
    return hook.call(this, name, (...args) => {
        ns.currentTestId = previous;
        const perTest = ns.mutantCoverage && ns.mutantCoverage.perTest;
        if (perTest && perTest[marker]) {
            const covered = perTest[marker];
            delete perTest[marker];
            addCoverage(perTest, marker, covered);
        }
        return fn(...args);
    });
};

function addChildCoverage() {
    const ns = globalThis.__stryker__;
    const directory = process.env.ETCD3_MUTATION_CHILD_COVERAGE;
    if (ns === undefined || directory === undefined || !fs.existsSync(directory)) {
        return;
    }
    const coverage = (ns.mutantCoverage = ns.mutantCoverage || { static: {}, perTest: {} });
    // Code that runs while modules load here too (a table, a module-level constant) stays static: a child
    // would run its mutant, but the tests in this process only ever see the module as it first loaded.
    const runtimeOnly = (covered) => Object.fromEntries(Object.entries(covered).filter(([mutant]) => !(mutant in coverage.static)));
    for (const name of fs.readdirSync(directory)) {
        const file = path.join(directory, name);
        const child = JSON.parse(fs.readFileSync(file, "utf8"));
        fs.rmSync(file);
        for (const [testId, covered] of Object.entries(child.perTest || {})) {
            addCoverage(coverage.perTest, testId, runtimeOnly(covered));
        }
    }
}

/**
 * A mutant whose code ran while the test files loaded and in tests ("hybrid") would make Stryker start a
 * fresh process for it, as for a static mutant, to redo the loading with the mutant active: about ten
 * seconds each on two cores, for most of lib/ (test files build their cases from lib/ while loading). It is
 * instead run against the tests that cover it with the mutant switched on at run time, like any other; what
 * the files computed while loading stays as the unmutated code made it. Only mutants that no test covers
 * stay static (and are ignored, see stryker.config.mjs).
 */
function dropStaticCoverageOfCoveredMutants() {
    const coverage = globalThis.__stryker__ && globalThis.__stryker__.mutantCoverage;
    if (coverage === undefined) {
        return;
    }
    for (const covered of Object.values(coverage.perTest)) {
        for (const mutant of Object.keys(covered)) {
            delete coverage.static[mutant];
        }
    }
}

const run = Runner.prototype.run;
Runner.prototype.run = function (fn, ...rest) {
    return run.call(this, (...args) => {
        dropStaticCoverageOfCoveredMutants();
        addChildCoverage();
        return fn(...args);
    }, ...rest);
};

process.on("exit", () => {
    const directory = process.env.ETCD3_MUTATION_CHILD_COVERAGE;
    if (directory !== undefined) {
        fs.rmSync(directory, { recursive: true, force: true });
    }
});
