/**
 * The arguments of member slots and rolling (lib/args.ts): data volume sizes
 * and performance within gp3's limits, the KMS key as an ARN, instance types
 * whose volumes are NVMe devices, the v2 API switch, the roll's bound. Whole
 * problem lines, as the user reads them.
 */
import { expect } from "chai";
import { problemsOf } from "./support/argument-problems";
import { gp3Limits, resolveArgs } from "../lib/args";

const kmsKeyId = "arn:aws:kms:eu-west-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";

describe("slot and rolling arguments (lib/args.ts)", () => {
    describe("the data volume", () => {
        it("takes sizes from 1 GiB to 64 TiB", () => {
            expect(resolveArgs("etcd3", { dataVolumeSizeGiB: 1 }).dataVolume.sizeGiB).to.equal(1);
            expect(resolveArgs("etcd3", { dataVolumeSizeGiB: 65536 }).dataVolume.sizeGiB).to.equal(65536);
        });

        it("refuses a size of 0, over 64 TiB, or not whole", () => {
            for (const size of [0, 65537, 20.5]) {
                expect(problemsOf({ dataVolumeSizeGiB: size }), String(size)).to.deep.equal([`dataVolumeSizeGiB ${size}: use a whole number of GiB from 1 to 65536`]);
            }
        });

        it("takes IOPS up to 500 per GiB, and the free baseline of 3000 on any size", () => {
            expect(resolveArgs("etcd3", { dataVolumeSizeGiB: 10, dataVolumeIops: 5000 }).dataVolume.iops).to.equal(5000);
            expect(resolveArgs("etcd3", { dataVolumeSizeGiB: 1, dataVolumeIops: 3000 }).dataVolume.iops).to.equal(3000);
        });

        it("refuses IOPS over 500 per GiB, saying the most the size allows", () => {
            expect(problemsOf({ dataVolumeSizeGiB: 10, dataVolumeIops: 5001 })).to.deep.equal([
                "dataVolumeIops 5001: gp3 allows at most 500 IOPS per GiB, 5000 for 10 GiB; lower it or raise dataVolumeSizeGiB",
            ]);
        });

        it("refuses IOPS under gp3's baseline or over its maximum", () => {
            for (const iops of [2999, gp3Limits.maxIops + 1, 3000.5]) {
                expect(problemsOf({ dataVolumeSizeGiB: 1000, dataVolumeIops: iops }), String(iops))
                    .to.deep.equal([`dataVolumeIops ${iops}: use a whole number from 3000 to 80000`]);
            }
        });

        it("takes throughput up to a quarter of the IOPS, and the free 125 MiB/s with any IOPS", () => {
            expect(resolveArgs("etcd3", { dataVolumeSizeGiB: 100, dataVolumeIops: 4000, dataVolumeThroughput: 1000 }).dataVolume.throughputMiBps).to.equal(1000);
            expect(resolveArgs("etcd3", { dataVolumeThroughput: 125 }).dataVolume.throughputMiBps).to.equal(125);
        });

        it("refuses throughput over a quarter of the IOPS, saying the most they allow", () => {
            expect(problemsOf({ dataVolumeSizeGiB: 100, dataVolumeIops: 4000, dataVolumeThroughput: 1001 })).to.deep.equal([
                "dataVolumeThroughput 1001: gp3 allows at most 0.25 MiB/s per provisioned IOPS, 1000 for 4000 IOPS; lower it or raise dataVolumeIops",
            ]);
        });

        it("refuses throughput under 125 or over 2000 MiB/s", () => {
            for (const throughput of [124, 2001]) {
                expect(problemsOf({ dataVolumeSizeGiB: 1000, dataVolumeIops: 16000, dataVolumeThroughput: throughput }), String(throughput))
                    .to.deep.equal([`dataVolumeThroughput ${throughput}: use a whole number of MiB/s from 125 to 2000`]);
            }
        });

        it("takes gp3's maximum IOPS and throughput exactly", () => {
            const { dataVolume } = resolveArgs("etcd3", { dataVolumeSizeGiB: 1000, dataVolumeIops: gp3Limits.maxIops, dataVolumeThroughput: gp3Limits.maxThroughputMiBps });
            expect([dataVolume.iops, dataVolume.throughputMiBps]).to.deep.equal([gp3Limits.maxIops, gp3Limits.maxThroughputMiBps]);
        });

        it("weighs throughput against the IOPS only when the IOPS are a whole number: one problem, the IOPS, for a wrong one", () => {
            expect(problemsOf({ dataVolumeSizeGiB: 1000, dataVolumeIops: 100, dataVolumeThroughput: 125 }))
                .to.deep.equal(["dataVolumeIops 100: use a whole number from 3000 to 80000"]);
            expect(problemsOf({ dataVolumeSizeGiB: 1000, dataVolumeIops: 3000.5, dataVolumeThroughput: 800 }))
                .to.deep.equal(["dataVolumeIops 3000.5: use a whole number from 3000 to 80000"]);
        });

        it("refuses a KMS key ARN inside a longer string", () => {
            for (const value of [`x${kmsKeyId}`, `${kmsKeyId}/`]) {
                expect(problemsOf({ kmsKeyId: value }), value).to.deep.equal([`kmsKeyId "${value}": use a KMS key ARN such as ` +
                    "arn:aws:kms:eu-west-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab (EC2 stores the ARN, so an alias or bare key id would show as a change at every update)"]);
            }
        });

        it("takes a KMS key ARN, in any partition", () => {
            expect(resolveArgs("etcd3", { kmsKeyId }).dataVolume.kmsKeyId).to.equal(kmsKeyId);
            const govCloud = "arn:aws-us-gov:kms:us-gov-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
            expect(resolveArgs("etcd3", { kmsKeyId: govCloud }).dataVolume.kmsKeyId).to.equal(govCloud);
        });

        it("refuses a key id or alias that is not a key ARN, saying why", () => {
            for (const key of ["1234abcd-12ab-34cd-56ef-1234567890ab", "alias/etcd", "arn:aws:kms:eu-west-2:123456789012:alias/etcd"]) {
                expect(problemsOf({ kmsKeyId: key }), key).to.deep.equal([
                    `kmsKeyId "${key}": use a KMS key ARN such as arn:aws:kms:eu-west-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab ` +
                    "(EC2 stores the ARN, so an alias or bare key id would show as a change at every update)",
                ]);
            }
        });

        it("keeps the data volumes when they leave the stack, unless told not to", () => {
            expect(resolveArgs("etcd3", {}).dataVolume.retain).to.equal(true);
            expect(resolveArgs("etcd3", { retainDataVolumes: false }).dataVolume.retain).to.equal(false);
        });
    });

    describe("the instance type", () => {
        it("refuses a Xen type, whose volumes are not NVMe devices named by volume id", () => {
            expect(problemsOf({ instanceType: "t2.medium" })).to.deep.equal([
                "instanceType \"t2.medium\": t2 runs on Xen, where EBS volumes do not appear as NVMe devices named by their volume id, " +
                "so the member could not find its data volume; use a Nitro type such as t3.small, m6i.large or m7g.large",
            ]);
        });

        it("refuses every Xen family, and takes their Nitro bare-metal sizes and Nitro families", () => {
            for (const type of ["m4.large", "c4.large", "r4.large", "i3.large", "x1.16xlarge", "p3.2xlarge"]) {
                expect(problemsOf({ instanceType: type })[0], type).to.match(/runs on Xen/);
            }
            for (const type of ["i3.metal", "t3.small", "m5.large", "m7g.large", "c6gn.large", "t3a.micro"]) {
                expect(resolveArgs("etcd3", { instanceType: type }).instanceType, type).to.equal(type);
            }
        });
    });

    describe("the v2 API", () => {
        it("is on for etcd 3.5 and off for 3.6 unless told", () => {
            expect(resolveArgs("etcd3", { etcdVersion: "v3.5.33" }).enableV2Api).to.equal(true);
            expect(resolveArgs("etcd3", { etcdVersion: "v3.6.14" }).enableV2Api).to.equal(false);
            expect(resolveArgs("etcd3", { etcdVersion: "v3.5.33", enableV2Api: false }).enableV2Api).to.equal(false);
        });

        it("is refused on etcd 3.6, which has none", () => {
            expect(problemsOf({ etcdVersion: "v3.6.14", enableV2Api: true })).to.deep.equal([
                "enableV2Api: etcd 3.6 has no v2 API (3.6 removed it); leave enableV2Api out, or use etcd 3.5",
            ]);
        });
    });

    describe("the roll's bound", () => {
        it("is 15 minutes unless given; 0 turns the waits off", () => {
            expect(resolveArgs("etcd3", {}).rollingHealthTimeoutMinutes).to.equal(15);
            expect(resolveArgs("etcd3", { rollingHealthTimeoutMinutes: 0 }).rollingHealthTimeoutMinutes).to.equal(0);
            expect(resolveArgs("etcd3", { rollingHealthTimeoutMinutes: 120 }).rollingHealthTimeoutMinutes).to.equal(120);
        });

        it("refuses a negative, fractional or over-two-hour bound", () => {
            for (const minutes of [-1, 1.5, 121]) {
                expect(problemsOf({ rollingHealthTimeoutMinutes: minutes }), String(minutes)).to.deep.equal([
                    `rollingHealthTimeoutMinutes ${minutes}: use a whole number of minutes from 1 to 120, or 0 to roll without waiting for health`,
                ]);
            }
        });
    });

    describe("the departures' bound", () => {
        it("is 15 minutes unless given; 0 turns the departures off", () => {
            expect([undefined, 0, 1, 120].map((memberDepartureTimeoutMinutes) => resolveArgs("etcd3", { memberDepartureTimeoutMinutes })
                .memberDepartureTimeoutMinutes)).to.deep.equal([15, 0, 1, 120]);
        });

        it("refuses a negative, fractional or over-two-hour bound", () => {
            expect([-1, 1.5, 121].map((memberDepartureTimeoutMinutes) => problemsOf({ memberDepartureTimeoutMinutes }))).to.deep.equal([-1, 1.5, 121]
                .map((minutes) => [`memberDepartureTimeoutMinutes ${minutes}: use a whole number of minutes from 1 to 120, ` +
                    "or 0 to delete leaving members' instances without removing them from etcd first"]));
        });
    });
});
