#!/usr/bin/env bash
# Rebuilds data/vuln/snapshot/nvd-oracle.json, the bundled vulnerability snapshot: one NVD
# API 2.0 response page holding every public NVD record of tests/oracle/nvd (one record
# per line, so that git diffs stay readable). Usage: scripts/make-vuln-snapshot.sh [NVD_DIR]
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
src="${1:-$here/../tests/oracle/nvd}"
out="$here/data/vuln/snapshot/nvd-oracle.json"
mkdir -p "$(dirname "$out")"
python3 - "$src" "$out" <<'PY'
import glob, json, os, sys
src, out = sys.argv[1], sys.argv[2]
files = sorted(glob.glob(os.path.join(src, "CVE-*.json")))
if not files:
    sys.exit("no CVE-*.json records in " + src)
lines = [json.dumps({"cve": json.load(open(f))}, separators=(",", ":"), sort_keys=True)
         for f in files]
head = {"format": "NVD_CVE", "version": "2.0", "resultsPerPage": len(lines), "startIndex": 0,
        "totalResults": len(lines)}
with open(out + ".tmp", "w") as f:
    f.write(json.dumps(head, separators=(",", ":"))[:-1] + ',"vulnerabilities":[\n')
    f.write(",\n".join(lines))
    f.write("\n]}\n")
os.replace(out + ".tmp", out)
print(f"{out}: {len(lines)} records, {os.path.getsize(out)} bytes")
PY
