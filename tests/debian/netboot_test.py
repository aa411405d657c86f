#!/usr/bin/env python3
"""Debian's armhf netboot installer package, scanned end to end (issue 12).

The .deb (deb -> data.tar.xz -> initrd.gz -> cpio with the installer's dpkg status; a zImage
kernel with an xz payload) is fetched by scripts/fetch-test-debs.sh before the tests (listed
in tests/debian/artefacts.txt); the test itself reads only that cache. It checks:
- every package of the installer's dpkg database is a component with a correct purl
  (pkg:deb/debian/<name>@<full version>, distro=debian-12 from the installer's lsb-release),
  and a CPE only where rule data maps the package or its source package (udebs' sources
  from data/identify/debian-udeb-sources.json: libc6-udeb is glibc);
- vulnerabilities of those packages come from Debian's data once it is imported, decided in
  dpkg's version order (a backported fix counts), and from NVD CPE ranges without it; every
  match says which data decided it;
- the RSA keys of the kernel's crypto self-tests are reported as known test keys (info), no
  private key in the image is a high-severity leak, and the certificates compiled into the
  kernel and its modules are trust anchors (info), not self-signed device certificates.
The NVD records are public (tests/oracle/nvd); the two Debian OSV records are written here
in osv.dev's form with fixed versions chosen by the test, not Debian's real verdicts.
"""
import argparse
import glob
import json
import os
import shutil
import subprocess
import sys


def fail(message):
    print("FAIL: " + message)
    sys.exit(1)


def osv_record(osv_id, cve, fixed):
    events = [{"introduced": "0"}] + ([{"fixed": fixed}] if fixed else [])
    return {"schema_version": "1.6.0", "id": osv_id, "modified": "2099-03-01T00:00:00Z",
            "upstream": [cve], "details": "Test record.",
            "affected": [{"package": {"ecosystem": "Debian:12", "name": "busybox"},
                          "ranges": [{"type": "ECOSYSTEM", "events": events}]}]}


def run(cmd, expect=(0,)):
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode not in expect:
        fail("%s exited %d\n%s%s" % (" ".join(cmd), proc.returncode, proc.stdout, proc.stderr))
    return proc


def scan(clearbox, deb, out, db):
    if os.path.exists(out):
        shutil.rmtree(out)
    run([clearbox, "scan", deb, "-o", out, "-q", "--db", db], expect=(0, 3))
    with open(os.path.join(out, "report.json")) as f:
        return json.load(f)


def rule_packages(data_dir):
    mapped = set()
    for path in glob.glob(os.path.join(data_dir, "signatures", "*.json")):
        with open(path) as f:
            for rule in json.load(f)["rules"]:
                mapped.update(rule.get("packages", []))
    return mapped


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--clearbox", required=True)
    ap.add_argument("--source", required=True)
    ap.add_argument("--work", required=True)
    args = ap.parse_args()
    cache = os.environ.get("CLEARBOX_TEST_DEBS", "")
    if not cache:
        print("SKIP: CLEARBOX_TEST_DEBS is not set (make test fetches the packages)")
        sys.exit(77)
    debs = sorted(glob.glob(os.path.join(cache, "all", "debian-installer-12-netboot-armhf_*.deb")))
    if not debs:
        fail("no debian-installer-12-netboot-armhf .deb under %s/all: run scripts/fetch-test-debs.sh" % cache)
    deb = debs[-1]
    os.makedirs(args.work, exist_ok=True)
    nvd_dir = os.path.join(args.source, "tests", "oracle", "nvd")

    # Two databases: NVD only, and NVD plus Debian's (test) records for Debian 12.
    nvd_db = os.path.join(args.work, "nvd.db")
    debian_db = os.path.join(args.work, "debian.db")
    for db in (nvd_db, debian_db):
        if os.path.exists(db):
            os.remove(db)
    nvd_files = [os.path.join(nvd_dir, c + ".json") for c in ("CVE-2022-48174", "CVE-2021-42380")]
    run([args.clearbox, "db", "import", "--db", nvd_db] + nvd_files)
    osv_files = []
    for osv_id, cve, fixed in (("DEBIAN-CVE-2022-48174", "CVE-2022-48174", "1:1.35.0-4+deb12u1"),
                               ("DEBIAN-CVE-2021-42380", "CVE-2021-42380", "")):
        path = os.path.join(args.work, osv_id + ".json")
        with open(path, "w") as f:
            json.dump(osv_record(osv_id, cve, fixed), f)
        osv_files.append(path)
    run([args.clearbox, "db", "import", "--db", debian_db] + nvd_files + osv_files)

    report = scan(args.clearbox, deb, os.path.join(args.work, "out-debian"), debian_db)
    comps = report["components"]
    dpkg = [c for c in comps if any(e["method"] == "dpkg" for e in c["evidence"])]
    if len(dpkg) < 80:
        fail("only %d components from the installer's dpkg database" % len(dpkg))
    mapped = rule_packages(os.path.join(args.source, "data"))
    for c in dpkg:
        want = "pkg:deb/debian/%s@" % c["name"]
        if not c["purl"].startswith(want) or "distro=debian-12" not in c["purl"]:
            fail("purl of %s: %s" % (c["name"], c["purl"]))
        # The source package (purl upstream=, from the status or data/identify) may be mapped.
        source = c["purl"].partition("upstream=")[2].split("&")[0].split("%40")[0]
        if c["cpe"] and c["name"] not in mapped and source not in mapped:
            signature = any(e["method"] != "dpkg" for e in c["evidence"])
            if not signature:
                fail("invented CPE for %s: %s" % (c["name"], c["cpe"]))
    libc = [c for c in dpkg if c["name"] == "libc6-udeb"]
    if len(libc) != 1 or "&upstream=glibc" not in libc[0]["purl"]:
        fail("libc6-udeb: %r" % [c["purl"] for c in libc])
    busybox = [c for c in dpkg if c["name"] == "busybox-udeb"]
    if len(busybox) != 1 or busybox[0]["version"] != "1.35.0":
        fail("busybox-udeb: %r" % busybox)
    if not busybox[0]["cpe"].startswith("cpe:2.3:a:busybox:busybox:1.35.0"):
        fail("busybox-udeb CPE: %s" % busybox[0]["cpe"])
    kernel = [c for c in comps if c["name"] == "linux"]
    if not kernel or not kernel[0]["version"].startswith("6.1."):
        fail("kernel: %r" % [(c["name"], c["version"]) for c in kernel])

    def vulns_of(rep, name):
        out = {}
        for v in rep["vulnerabilities"]:
            if v["component"]["name"] == name:
                out[v["id"]] = v["decided_by"]
        return out

    got = vulns_of(report, "busybox-udeb")
    # Debian's data decides: the backported fix of CVE-2022-48174 counts, CVE-2021-42380 is
    # open in Debian 12 although NVD's upstream range ends before 1.35.0.
    if got != {"CVE-2021-42380": "OSV Debian:12"}:
        fail("busybox-udeb with Debian data: %r" % got)
    for v in report["vulnerabilities"]:
        if v["component"]["name"] in {c["name"] for c in dpkg} and not v["decided_by"].startswith("OSV Debian:12"):
            fail("a dpkg package matched by %s: %s %s" % (v["decided_by"], v["component"]["name"], v["id"]))

    findings = report["findings"]
    test_keys = [f for f in findings if f["rule"] == "secret.known-test-key" and "vmlinuz" in f["path"]]
    if len(test_keys) < 2 or any(f["severity"] != "info" for f in test_keys):
        fail("kernel self-test keys: %r" % [(f["rule"], f["severity"]) for f in test_keys])
    leaks = [f for f in findings if f["rule"] == "secret.private-key" and f["severity"] in ("high", "critical")]
    if leaks:
        fail("private keys reported as leaks: %r" % [(f["path"], f["message"]) for f in leaks])

    # Certificates compiled into the kernel and modules (module signing, regulatory database)
    # are trust anchors (info), not self-signed device certificates.
    anchors = [f for f in findings if f["rule"] == "cert.trust-anchor"]
    if not any("vmlinuz" in f["path"] for f in anchors) or not any(".ko" in f["path"] for f in anchors):
        fail("trust anchors: %r" % [(f["path"][-40:], f["message"][:60]) for f in anchors])
    self_signed = [f for f in findings if f["rule"] == "cert.self-signed"]
    if self_signed:
        fail("self-signed findings left: %r" % [(f["path"][-40:], f["message"][:60]) for f in self_signed])

    # Compliance on the real artefact: public test keys contradict nothing, every evidence
    # pointer resolves in report.json, the SBOM clause is judged on the components' versions.
    compliance_dir = os.path.join(args.work, "out-compliance")
    run([args.clearbox, "assess", os.path.join(args.work, "out-debian", "report.json"),
         "--standard", "all", "-q", "-o", compliance_dir])
    with open(os.path.join(compliance_dir, "compliance.json")) as f:
        compliance = json.load(f)
    verdicts = {}
    for standard in compliance["standards"]:
        for clause in standard["clauses"]:
            verdicts[(standard["id"], clause["id"])] = clause
            for pointer in clause["evidence"]:
                node = report
                for part in pointer.split("/")[1:]:
                    part = part.replace("~1", "/").replace("~0", "~")
                    node = node[int(part)] if isinstance(node, list) else node[part]
                if pointer.startswith("/findings/") and node["rule"] == "secret.known-test-key":
                    fail("a public test key is evidence against %s %s" % (standard["id"], clause["id"]))
    key_clause = verdicts[("en303645", "5.4-3")]
    if key_clause["verdict"] == "CONTRADICTED":
        fail("EN 303 645 5.4-3 contradicted by %r" % key_clause["evidence"][:5])
    sbom_clause = verdicts[("cra", "II(1)")]
    without_version = [c for c in report["components"] if not c["version"]]
    expected = "PARTIALLY_SUPPORTED" if without_version else "SUPPORTED"
    if sbom_clause["verdict"] != expected:
        fail("CRA II(1): %s, expected %s" % (sbom_clause["verdict"], expected))

    # Without Debian's data the upstream CPE ranges decide.
    nvd_report = scan(args.clearbox, deb, os.path.join(args.work, "out-nvd"), nvd_db)
    got = vulns_of(nvd_report, "busybox-udeb")
    if got != {"CVE-2022-48174": "nvd CPE configuration"}:
        fail("busybox-udeb with NVD data only: %r" % got)

    print("netboot: %d dpkg components, %d with CPE, kernel %s, %d test keys; busybox-udeb: "
          "Debian data -> CVE-2021-42380, NVD only -> CVE-2022-48174"
          % (len(dpkg), sum(1 for c in dpkg if c["cpe"]), kernel[0]["version"], len(test_keys)))
    print("1 passed, 0 failed")


if __name__ == "__main__":
    main()
