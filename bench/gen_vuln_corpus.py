#!/usr/bin/env python3
"""Synthetic NVD API 2.0 corpus of realistic shape for bench/vuln_bench.sh.

Writes OUT/nvd-page-NNNN.json.gz (2,000 records per page, like the API's largest page) and
OUT/queries.jsonl (1,000 components: 70% by CPE, 30% by name). Deterministic (seeded).
Shape per record, after NVD averages (PRODUCTS=100000 vendor:product pairs, Zipf-like): 1-3 configurations, 1-8 cpeMatch each (ranges and exact
versions), 15% AND configurations with a not-vulnerable platform, CVSS v3.1 (+v2 for 40%),
1-2 CWEs, 3-10 references, a 150-600 character description.
"""
import gzip, itertools, json, os, random, sys

count = int(sys.argv[1]) if len(sys.argv) > 1 else 300000
out = sys.argv[2] if len(sys.argv) > 2 else "bench-vuln"
os.makedirs(out, exist_ok=True)
rng = random.Random(4)
words = ("buffer overflow in the parser allows remote attackers to execute arbitrary code via a "
         "crafted packet when the service handles malformed input leading to denial of service "
         "or information disclosure through an integer underflow in the length field").split()
# NVD's configurations name about 100,000 vendor:product pairs; the hottest (the Linux
# kernel) has several thousand CVEs, most have a handful.
product_count = int(os.environ.get("PRODUCTS", "100000"))
vendors = [f"vendor{i}" for i in range(product_count * 3 // 10)]
products = [(rng.choice(vendors), f"product{i}") for i in range(product_count)]
weights = [1.0 / (i + 1) ** 0.8 for i in range(len(products))]  # a few products have many CVEs
cum_weights = list(itertools.accumulate(weights))
platforms = ["cpe:2.3:o:microsoft:windows:-:*:*:*:*:*:*:*", "cpe:2.3:h:acme:router_x1:-:*:*:*:*:*:*:*",
             "cpe:2.3:o:linux:linux_kernel:-:*:*:*:*:*:*:*"]

def version(r):
    kind = r.random()
    if kind < 0.6:
        return f"{r.randint(0, 9)}.{r.randint(0, 30)}.{r.randint(0, 40)}"
    if kind < 0.8:
        return f"{r.randint(0, 3)}.{r.randint(0, 9)}.{r.randint(0, 9)}{r.choice('abcdefghijklmnopqrstuvwxyz')}"
    if kind < 0.9:
        return f"{r.randint(2010, 2024)}.{r.randint(60, 90)}"
    return f"{r.randint(1, 9)}.{r.randint(0, 9)}"

def cpe(vp, v="*", part="a"):
    return f"cpe:2.3:{part}:{vp[0]}:{vp[1]}:{v}:*:*:*:*:*:*:*"

def match(vp, r):
    m = {"vulnerable": True, "matchCriteriaId": "%08X-0000-0000-0000-%012X" % (r.getrandbits(32), r.getrandbits(48))}
    kind = r.random()
    if kind < 0.55:
        lo, hi = sorted([version(r), version(r)])
        m["criteria"] = cpe(vp)
        if r.random() < 0.6:
            m["versionStartIncluding"] = lo
        m["versionEndExcluding" if r.random() < 0.7 else "versionEndIncluding"] = hi
    else:
        m["criteria"] = cpe(vp, version(r))
    return m

def record(n, r):
    cve_id = f"CVE-{1999 + n % 26}-{100000 + n}"
    vp = r.choices(products, cum_weights=cum_weights)[0]
    configs = []
    for _ in range(r.choice([1, 1, 1, 2, 3])):
        node = {"operator": "OR", "negate": False, "cpeMatch": [match(vp, r) for _ in range(r.randint(1, 8))]}
        if r.random() < 0.15:
            platform = {"operator": "OR", "negate": False, "cpeMatch": [
                {"vulnerable": False, "criteria": r.choice(platforms), "matchCriteriaId": "X"}]}
            configs.append({"operator": "AND", "nodes": [node, platform]})
        else:
            configs.append({"nodes": [node]})
        vp = r.choices(products, cum_weights=cum_weights)[0] if r.random() < 0.3 else vp
    metrics = {"cvssMetricV31": [{"source": "nvd@nist.gov", "type": "Primary", "cvssData": {
        "version": "3.1", "vectorString": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
        "baseScore": round(r.uniform(2, 10), 1), "baseSeverity": "HIGH", "attackVector": "NETWORK"},
        "exploitabilityScore": 3.9, "impactScore": 5.9}]}
    if r.random() < 0.4:
        metrics["cvssMetricV2"] = [{"source": "nvd@nist.gov", "type": "Primary", "cvssData": {
            "version": "2.0", "vectorString": "AV:N/AC:L/Au:N/C:P/I:P/A:P", "baseScore": 7.5},
            "baseSeverity": "HIGH"}]
    return {"cve": {
        "id": cve_id, "sourceIdentifier": "cve@mitre.org",
        "published": f"20{r.randint(10, 24)}-0{r.randint(1, 9)}-1{r.randint(0, 9)}T10:00:00.000",
        "lastModified": f"2024-0{r.randint(1, 9)}-2{r.randint(0, 8)}T10:00:00.000", "vulnStatus": "Analyzed",
        "descriptions": [{"lang": "en", "value": " ".join(r.choices(words, k=r.randint(20, 80)))}],
        "metrics": metrics,
        "weaknesses": [{"source": "nvd@nist.gov", "type": "Primary", "description": [
            {"lang": "en", "value": f"CWE-{r.randint(20, 1000)}"} for _ in range(r.randint(1, 2))]}],
        "configurations": configs,
        "references": [{"url": f"https://example.org/advisories/{cve_id}/{k}", "source": "cve@mitre.org"}
                       for k in range(r.randint(3, 10))]}}

page = 2000
queries_only = len(sys.argv) > 3 and sys.argv[3] == "queries-only"
for start in range(0, 0 if queries_only else count, page):
    items = [record(n, rng) for n in range(start, min(count, start + page))]
    doc = {"resultsPerPage": len(items), "startIndex": start, "totalResults": count,
           "format": "NVD_CVE", "version": "2.0", "timestamp": "2024-10-01T00:00:00.000",
           "vulnerabilities": items}
    with gzip.open(os.path.join(out, "nvd-page-%04d.json.gz" % (start // page)), "wt", compresslevel=1) as f:
        json.dump(doc, f, separators=(",", ":"))
qrng = random.Random(5)
with open(os.path.join(out, "queries.jsonl"), "w") as f:
    for i in range(1000):
        # A firmware's components are mostly distinct, mostly not the hottest products.
        vp = qrng.choice(products)
        if i % 10 < 7:
            f.write(json.dumps({"cpe": cpe(vp, version(qrng))}) + "\n")
        else:
            f.write(json.dumps({"name": vp[1], "version": version(qrng)}) + "\n")
print(f"{count} records in {out}")
