/**
 * A member's peer certificate in its user data (lib/member-certificate.ts):
 * what the part gives etcd's unit, its settings, the renewal timer, and the
 * options it refuses. The script itself runs for real in
 * tests/local-peer-tls.test.ts; its text is in tests/golden.
 */
import { expect } from "chai";
import { buildIgnitionConfig, EtcdNodeIgnitionOptions } from "../lib/ignition";
import {
    clientTlsProblems, memberCertificatePart, memberCertificateScript, memberCertificateServiceName, memberCertificateTimerName, peerTlsProblems,
} from "../lib/member-certificate";

const context = { memberName: "kv-1", metadataEnvironmentFile: "/run/metadata/afterburn", privateIpVariable: "AFTERBURN_AWS_IPV4_LOCAL" };
const options = { bucket: "kv-secrets-20261126000000000000000001", region: "eu-west-2" };

describe("a member's peer certificate (lib/member-certificate.ts)", () => {
    const part = memberCertificatePart(options, context);

    it("issues the certificate before etcd starts, with the member's address, and reads its settings in etcd's unit", () => {
        expect(part.etcdStartPre).to.deep.equal(["/bin/bash /opt/etcd3-cluster/etcd-member-certificate ${AFTERBURN_AWS_IPV4_LOCAL}"]);
        expect(part.etcdServiceLines).to.deep.equal(["EnvironmentFile=/etc/etcd3-cluster/certificate.env"]);
    });

    it("gives etcd the member's certificate, key and CA on the peer port, asks peers for theirs, and mounts the memory-backed directory", () => {
        expect(part.etcdFlags).to.deep.equal([
            "--peer-cert-file=/run/etcd3-cluster/tls/peer.crt",
            "--peer-key-file=/run/etcd3-cluster/tls/peer.key",
            "--peer-trusted-ca-file=/run/etcd3-cluster/tls/peer-ca.crt",
            "--peer-client-cert-auth=true",
        ]);
        expect(part.etcdVolumes).to.deep.equal(["/run/etcd3-cluster/tls"]);
    });

    it("gives the bootstrap script curl's options for a peer's port: HTTP/1.1, the CA and the member's own certificate", () => {
        expect(part.peerCurlOptions).to.equal("--http1.1 --cacert /run/etcd3-cluster/tls/peer-ca.crt --cert /run/etcd3-cluster/tls/peer.crt " +
            "--key /run/etcd3-cluster/tls/peer.key");
    });

    it("writes the script and its settings: the member, the bucket and region, 90-day certificates renewed with 30 days left", () => {
        expect(part.files).to.deep.equal([
            { path: "/opt/etcd3-cluster/etcd-member-certificate", mode: 0o755, contents: memberCertificateScript },
            {
                path: "/etc/etcd3-cluster/certificate.env",
                mode: 0o644,
                contents: "MEMBER_NAME=kv-1\nTLS_BUCKET=kv-secrets-20261126000000000000000001\nTLS_REGION=eu-west-2\nCERTIFICATE_DAYS=90\nRENEWAL_DAYS=30\n" +
                    "CERTIFICATE_DNS_NAMES=\n",
            },
        ]);
    });

    it("runs the script from an enabled timer every 6 hours, with the member's address and settings", () => {
        expect(part.units.map(({ name, enabled }) => [name, enabled]))
            .to.deep.equal([[memberCertificateTimerName, true], [memberCertificateServiceName, false]]);
        const [timer, service] = part.units.map((unit) => unit.contents);
        expect(timer).to.contain("\n[Timer]\nOnCalendar=*-*-* 00/6:00:00 UTC\nPersistent=false\n");
        expect(service).to.contain("\n[Service]\nType=oneshot\nEnvironmentFile=/run/metadata/afterburn\nEnvironmentFile=/etc/etcd3-cluster/certificate.env\n" +
            "ExecStart=/bin/bash /opt/etcd3-cluster/etcd-member-certificate ${AFTERBURN_AWS_IPV4_LOCAL}\n");
    });

    it("refuses a bucket whose name S3's certificate would not match, and a region that is not one", () => {
        expect(peerTlsProblems(options)).to.deep.equal([]);
        expect(peerTlsProblems({ bucket: "kv.secrets", region: "Europe" })).to.deep.equal([
            'peerTls.bucket "kv.secrets": use an S3 bucket name of 3 to 63 lowercase letters, digits and hyphens',
            'peerTls.region "Europe": use the bucket\'s AWS region, such as eu-west-2',
        ]);
    });

    it("refuses a peer CA round that names no CAs, under the option's own names", () => {
        expect(peerTlsProblems({ ...options, ca: { generation: -1, rotation: "sign" as never } })).to.deep.equal([
            "peerTls.ca.generation -1: use a whole number from 0",
            'peerTls.ca.rotation "sign": use "trust-next" or "sign-with-next", or leave it out',
        ]);
    });

    it("serves clients plain HTTP, and gives etcdctl no CA, without client TLS", () => {
        expect({ scheme: part.clientScheme, etcdctl: part.etcdctlOptions }).to.deep.equal({ scheme: "http", etcdctl: "" });
    });

    describe("with client TLS", () => {
        const nlb = "kv-nlb-0123456789abcdef.elb.eu-west-2.amazonaws.com";
        const clientPart = memberCertificatePart(options, context, { dnsNames: [nlb] });

        it("serves the client port with the member's certificate and key, and asks clients for none (no --trusted-ca-file)", () => {
            expect(clientPart.etcdFlags).to.deep.equal([
                "--peer-cert-file=/run/etcd3-cluster/tls/peer.crt",
                "--peer-key-file=/run/etcd3-cluster/tls/peer.key",
                "--peer-trusted-ca-file=/run/etcd3-cluster/tls/peer-ca.crt",
                "--peer-client-cert-auth=true",
                "--cert-file=/run/etcd3-cluster/tls/peer.crt",
                "--key-file=/run/etcd3-cluster/tls/peer.key",
            ]);
        });

        it("has the members' client URLs https://, and etcdctl verify them with the CA", () => {
            expect({ scheme: clientPart.clientScheme, etcdctl: clientPart.etcdctlOptions })
                .to.deep.equal({ scheme: "https", etcdctl: " --cacert=/run/etcd3-cluster/tls/peer-ca.crt" });
        });

        it("names the DNS names in the certificate's settings, separated by spaces, as the script reads them", () => {
            const settings = memberCertificatePart(options, context, { dnsNames: [nlb, "etcd.example.com"] }).files[1].contents;
            expect(settings.split("\n").filter((line) => line.startsWith("CERTIFICATE_DNS_NAMES="))).to.deep.equal([`CERTIFICATE_DNS_NAMES=${nlb} etcd.example.com`]);
        });

        it("refuses a DNS name no certificate can give", () => {
            expect(clientTlsProblems({ dnsNames: [nlb] })).to.deep.equal([]);
            expect(clientTlsProblems({ dnsNames: [nlb, "not a name"] })).to.deep.equal([
                'clientTls.dnsNames: "not a name" is not a DNS name a certificate can give (such as etcd-nlb-0123456789abcdef.elb.eu-west-2.amazonaws.com)',
            ]);
        });

        it("makes the builder refuse client TLS without peer TLS, whose certificate it serves", () => {
            const member: EtcdNodeIgnitionOptions = {
                memberName: "kv-1", clusterToken: "kv-token", members: [{ name: "kv-1", ip: "10.0.0.1" }], etcdVersion: "v3.5.33", clientTls: { dnsNames: [] },
            };
            expect(() => buildIgnitionConfig(member)).to.throw('cannot build the Ignition config for etcd member "kv-1":\n' +
                "  - clientTls: the client port serves the member's certificate, which peerTls issues; give peerTls");
        });
    });

    it("makes the builder refuse bad peerTls options, naming each, before building anything", () => {
        const member: EtcdNodeIgnitionOptions = {
            memberName: "kv-1", clusterToken: "kv-token", members: [{ name: "kv-1", ip: "10.0.0.1" }], etcdVersion: "v3.5.33",
            peerTls: { bucket: "kv.secrets", region: "eu-west-2" },
        };
        expect(() => buildIgnitionConfig(member)).to.throw('cannot build the Ignition config for etcd member "kv-1":\n' +
            '  - peerTls.bucket "kv.secrets": use an S3 bucket name of 3 to 63 lowercase letters, digits and hyphens');
    });
});
