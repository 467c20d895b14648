/**
 * The operations arguments (lib/args.ts): the backend quota sized against the
 * data volume, the snapshot count, the daily defragmentation switch, the
 * alarms and their SNS topic. Whole problem lines, as the user reads them.
 */
import { expect } from "chai";
import { problemsOf } from "./support/argument-problems";
import { resolveArgs } from "../lib/args";

const topicArn = "arn:aws:sns:eu-west-2:123456789012:etcd-alarms";

describe("operations arguments (lib/args.ts)", () => {
    describe("the backend quota", () => {
        it("is 8 GiB on a data volume of 16 GiB or more, and half the volume on a smaller one", () => {
            expect([1, 10, 15, 16, 20, 1000].map((dataVolumeSizeGiB) => resolveArgs("etcd3", { dataVolumeSizeGiB }).quotaBackendMiB))
                .to.deep.equal([512, 5120, 7680, 8192, 8192, 8192]);
        });

        it("takes any whole number of MiB from 16 to 8192 that fits twice on the data volume", () => {
            expect([16, 5120, 8192].map((quotaBackendMiB) => resolveArgs("etcd3", { quotaBackendMiB, dataVolumeSizeGiB: 16 }).quotaBackendMiB))
                .to.deep.equal([16, 5120, 8192]);
        });

        it("refuses a quota under 16 MiB, over 8 GiB or not whole", () => {
            expect([15, 8193, 100.5].map((quotaBackendMiB) => problemsOf({ quotaBackendMiB }))).to.deep.equal([15, 8193, 100.5]
                .map((value) => [`quotaBackendMiB ${value}: use a whole number of MiB from 16 to 8192`]));
        });

        it("names only the range for a quota outside it, even when it is also more than half the data volume", () => {
            expect(problemsOf({ quotaBackendMiB: 99_999 })).to.deep.equal(["quotaBackendMiB 99999: use a whole number of MiB from 16 to 8192"]);
        });

        it("refuses a quota more than half the data volume, naming both", () => {
            expect(problemsOf({ quotaBackendMiB: 6000, dataVolumeSizeGiB: 10 })).to.deep.equal([
                "quotaBackendMiB 6000: at most half of dataVolumeSizeGiB (5120 MiB for 10 GiB), since defragmentation writes a second copy " +
                "of the backend beside the first; lower it or raise dataVolumeSizeGiB",
            ]);
        });
    });

    describe("the snapshot count", () => {
        it("is 10000 unless given", () => {
            expect([undefined, 1000, 1_000_000].map((snapshotCount) => resolveArgs("etcd3", { snapshotCount }).snapshotCount))
                .to.deep.equal([10000, 1000, 1_000_000]);
        });

        it("refuses a count under 1000, over a million or not whole", () => {
            expect([999, 1_000_001, 5000.5].map((snapshotCount) => problemsOf({ snapshotCount }))).to.deep.equal([999, 1_000_001, 5000.5]
                .map((value) => [`snapshotCount ${value}: use a whole number from 1000 to 1000000`]));
        });
    });

    describe("the daily defragmentation", () => {
        it("is on unless turned off", () => {
            expect([undefined, true, false].map((dailyDefragmentation) => resolveArgs("etcd3", { dailyDefragmentation }).dailyDefragmentation))
                .to.deep.equal([true, true, false]);
        });
    });

    describe("the alarms", () => {
        it("are on without a topic unless told otherwise, and off with alarms false", () => {
            expect([{}, { alarmTopicArn: topicArn }, { alarms: false }].map((args) => resolveArgs("etcd3", args).alarms))
                .to.deep.equal([{ topicArn: undefined }, { topicArn }, undefined]);
        });

        it("refuses a topic with alarms turned off", () => {
            expect(problemsOf({ alarms: false, alarmTopicArn: topicArn })).to.deep.equal([
                "alarmTopicArn: the alarms notify it, and alarms is false; leave it out or turn alarms on",
            ]);
        });

        it("refuses a topic that is not an SNS topic ARN, or holds one inside other text", () => {
            const notTopics = [
                "etcd-alarms", "arn:aws:sqs:eu-west-2:123456789012:etcd-alarms",
                `topic ${topicArn}`, `${topicArn}:subscription`, "arn:aws1:sns:eu-west-2:123456789012:etcd-alarms",
            ];
            expect(notTopics.map((alarmTopicArn) => problemsOf({ alarmTopicArn }))).to.deep.equal(notTopics.map((value) => [
                `alarmTopicArn "${value}": use an SNS topic ARN such as arn:aws:sns:eu-west-2:123456789012:etcd-alarms`,
            ]));
        });

        it("takes the topics of every AWS partition", () => {
            const topics = [topicArn, "arn:aws-cn:sns:cn-north-1:123456789012:etcd-alarms", "arn:aws-us-gov:sns:us-gov-west-1:123456789012:etcd_alarms"];
            expect(topics.map((alarmTopicArn) => resolveArgs("etcd3", { alarmTopicArn }).alarms)).to.deep.equal(topics.map((topic) => ({ topicArn: topic })));
        });
    });
});
