#!/usr/bin/env bash
# Vulnerability store benchmark (issue 4): imports a synthetic NVD corpus of N records
# (default 300,000) with `clearbox db import`, reports records/s and the database size, then
# times matching 1,000 components (`clearbox db match --batch`). Needs a release build.
# Usage: bench/vuln_bench.sh [RECORDS] [WORKDIR]
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
records="${1:-300000}"
work="${2:-$here/build/bench-vuln}"
products="${PRODUCTS:-100000}"
bin="${CLEARBOX_BIN:-$here/build/release/src/cli/clearbox}"
[ -x "$bin" ] || { echo "build the release binary first (make build)" >&2; exit 2; }
mkdir -p "$work"
if [ ! -f "$work/corpus-$records-$products/queries.jsonl" ]; then
  echo "generating $records synthetic records..."
  PRODUCTS=$products python3 "$here/bench/gen_vuln_corpus.py" "$records" "$work/corpus-$records-$products"
fi
db="$work/bench-$records-$products.db"
rm -f "$db" "$db-journal"
corpus_bytes=$(du -cb "$work/corpus-$records-$products"/nvd-page-*.json.gz | tail -1 | cut -f1)
start=$(date +%s.%N)
"$bin" db import --db "$db" "$work/corpus-$records-$products"/nvd-page-*.json.gz >/dev/null
end=$(date +%s.%N)
secs=$(echo "$end - $start" | bc)
size=$(stat -c %s "$db")
echo "import: $records records in ${secs} s = $(echo "$records / $secs" | bc) records/s (gzip corpus $((corpus_bytes / 1048576)) MiB)"
echo "database size: $((size / 1048576)) MiB ($size bytes)"
"$bin" db info --db "$db" | sed -n '3,5p'
# ms_first: the first pass over the queries in a fresh process (pages faulted in);
# ms_warm: the same 1,000 queries again in that process.
for run in 1 2 3; do
  echo -n "match 1,000 components (run $run): "
  "$bin" db match --db "$db" --batch "$work/corpus-$records-$products/queries.jsonl"
done
