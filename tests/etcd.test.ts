/**
 * lib/etcd.ts: etcd's own facts (ports, images, release branches, timing
 * rules) and the small value checks the argument and Ignition checks share.
 */
import { expect } from "chai";
import {
    clientPort, defaultEtcdVersion, defaultImageRepository, etcdTimingDefaults, etcdTimingLimits, etcdTimingProblems,
    isImageRepository, isWholeNumberIn, parseEtcdRelease, peerPort, shown, supportedClusterSizes, supportedEtcdBranches,
} from "../lib/etcd";

describe("etcd facts (lib/etcd.ts)", () => {
    it("serves clients on 2379 and peers on 2380", () => {
        expect({ clientPort, peerPort }).to.deep.equal({ clientPort: 2379, peerPort: 2380 });
    });

    it("runs the latest 3.5 patch from etcd's own registry by default", () => {
        expect({ defaultImageRepository, defaultEtcdVersion })
            .to.deep.equal({ defaultImageRepository: "gcr.io/etcd-development/etcd", defaultEtcdVersion: "v3.5.33" });
    });

    it("supports odd cluster sizes up to 7 and the 3.5, 3.6 and 3.7 branches", () => {
        expect({ supportedClusterSizes, supportedEtcdBranches })
            .to.deep.equal({ supportedClusterSizes: [1, 3, 5, 7], supportedEtcdBranches: ["3.5", "3.6", "3.7"] });
    });

    it("states etcd's own timing defaults and the limits it starts with", () => {
        expect({ etcdTimingDefaults, etcdTimingLimits }).to.deep.equal({
            etcdTimingDefaults: { heartbeatIntervalMs: 100, electionTimeoutMs: 1000 },
            etcdTimingLimits: { minHeartbeatIntervalMs: 10, maxHeartbeatIntervalMs: 5000, maxElectionTimeoutMs: 50000, minElectionHeartbeats: 5 },
        });
    });

    describe("parseEtcdRelease", () => {
        it("reads a 3.5 tag as a release that serves the v2 API", () => {
            expect(parseEtcdRelease("v3.5.33")).to.deep.equal({ tag: "v3.5.33", branch: "3.5", numbers: [3, 5, 33], servesV2Api: true, formsByV2Discovery: true });
        });

        it("reads a 3.6 tag as a release without the v2 API", () => {
            expect(parseEtcdRelease("v3.6.14")).to.deep.equal({ tag: "v3.6.14", branch: "3.6", numbers: [3, 6, 14], servesV2Api: false, formsByV2Discovery: true });
        });

        it("adds the v to a version given without it", () => {
            expect(parseEtcdRelease("3.6.0")).to.deep.equal({ tag: "v3.6.0", branch: "3.6", numbers: [3, 6, 0], servesV2Api: false, formsByV2Discovery: true });
        });

        it("ignores whitespace around the version", () => {
            expect(parseEtcdRelease("  v3.5.1\n")).to.deep.equal({ tag: "v3.5.1", branch: "3.5", numbers: [3, 5, 1], servesV2Api: true, formsByV2Discovery: true });
        });

        it("keeps multi-digit version fields whole", () => {
            expect(parseEtcdRelease("v3.5.123")).to.deep.equal({ tag: "v3.5.123", branch: "3.5", numbers: [3, 5, 123], servesV2Api: true, formsByV2Discovery: true });
        });

        for (const version of ["v3.8.0", "v3.4.23", "v4.5.0", "v13.5.0", "v3.15.0"]) {
            it(`refuses ${version}, a branch the cluster cannot run`, () => {
                expect(parseEtcdRelease(version)).to.equal(undefined);
            });
        }

        for (const version of ["", "latest", "v3.5", "v3.5.33-rc.0", "vv3.5.33", "3.5.33.1", "x3.5.33", "v3.5.33 extra", "v3.5.x"]) {
            it(`refuses ${JSON.stringify(version)}, which is not vX.Y.Z`, () => {
                expect(parseEtcdRelease(version)).to.equal(undefined);
            });
        }
    });

    describe("shown", () => {
        it("quotes a string as JSON", () => {
            expect(shown('a "b"')).to.equal('"a \\"b\\""');
        });

        it("shows anything else as itself", () => {
            expect([undefined, null, Number.NaN, 12, true].map(shown)).to.deep.equal(["undefined", "null", "NaN", "12", "true"]);
        });
    });

    describe("isWholeNumberIn", () => {
        it("accepts whole numbers at both ends of the range and between", () => {
            expect([10, 11, 20].map((value) => isWholeNumberIn(value, 10, 20))).to.deep.equal([true, true, true]);
        });

        it("refuses whole numbers just outside the range", () => {
            expect([9, 21].map((value) => isWholeNumberIn(value, 10, 20))).to.deep.equal([false, false]);
        });

        it("refuses fractions, NaN, infinities and numeric strings", () => {
            expect([10.5, Number.NaN, Number.POSITIVE_INFINITY, "15", undefined].map((value) => isWholeNumberIn(value, 0, Number.MAX_VALUE)))
                .to.deep.equal([false, false, false, false, false]);
        });
    });

    describe("isImageRepository", () => {
        it("accepts registry hosts with paths, with or without a port", () => {
            expect(["gcr.io/etcd-development/etcd", "quay.io/coreos/etcd", "registry.local:5000/etcd", "127.0.0.1:5000/mirror/etcd_io/etcd-1.x"]
                .map(isImageRepository)).to.deep.equal([true, true, true, true]);
        });

        it("refuses a tag, a digest, a bare name, upper case, a scheme and trailing words", () => {
            expect(["quay.io/coreos/etcd:v3.5.33", "quay.io/coreos/etcd@sha256:0123", "etcd", "Quay.io/coreos/etcd",
                "https://quay.io/coreos/etcd", "quay.io/coreos/etcd --privileged", "x quay.io/coreos/etcd", "quay.io/", "quay.io:port/etcd"]
                .map(isImageRepository)).to.deep.equal([false, false, false, false, false, false, false, false, false]);
        });
    });

    describe("etcdTimingProblems", () => {
        it("finds nothing wrong with etcd's defaults, left out or given", () => {
            expect([etcdTimingProblems(undefined, undefined), etcdTimingProblems(100, 1000)]).to.deep.equal([[], []]);
        });

        it("accepts the limits themselves: a 10 ms heartbeat, a 5000 ms one with 25000 ms elections, 50000 ms elections", () => {
            expect([etcdTimingProblems(10, 50), etcdTimingProblems(5000, 25000), etcdTimingProblems(undefined, 50000)])
                .to.deep.equal([[], [], []]);
        });

        it("refuses a heartbeat under 10 ms alone, saying what to use", () => {
            expect(etcdTimingProblems(9, 20)).to.deep.equal([
                "heartbeatIntervalMs 9: use a whole number of ms from 10 to 5000, or leave it out for etcd's default of 100",
            ]);
        });

        it("refuses a heartbeat over 5000 ms and does not judge the election timeout against it", () => {
            expect(etcdTimingProblems(5001, 1)).to.deep.equal([
                "heartbeatIntervalMs 5001: use a whole number of ms from 10 to 5000, or leave it out for etcd's default of 100",
            ]);
        });

        it("quotes a heartbeat given as a string", () => {
            expect(etcdTimingProblems("100", undefined)).to.deep.equal([
                "heartbeatIntervalMs \"100\": use a whole number of ms from 10 to 5000, or leave it out for etcd's default of 100",
            ]);
        });

        it("refuses an election timeout one ms under five heartbeats, naming that floor", () => {
            expect(etcdTimingProblems(200, 999)).to.deep.equal([
                "electionTimeoutMs 999: use a whole number of ms from 5 × heartbeatIntervalMs (1000) to 50000, as etcd itself requires",
            ]);
        });

        it("refuses an election timeout over 50000 ms", () => {
            expect(etcdTimingProblems(undefined, 50001)).to.deep.equal([
                "electionTimeoutMs 50001: use a whole number of ms from 5 × heartbeatIntervalMs (500) to 50000, as etcd itself requires",
            ]);
        });

        it("says when the election timeout at fault is etcd's default, not given", () => {
            expect(etcdTimingProblems(300, undefined)).to.deep.equal([
                "electionTimeoutMs (not given: etcd's default of 1000): use a whole number of ms from 5 × heartbeatIntervalMs (1500) " +
                    "to 50000, as etcd itself requires",
            ]);
        });
    });
});
