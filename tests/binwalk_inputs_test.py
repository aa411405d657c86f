#!/usr/bin/env python3
"""ctest binwalk_inputs: clearbox unpack on binwalk v3's public test inputs (tests/oracle/binwalk).

Each file listed in expected.json must give a chunk of the expected format at the expected
offset, the listed files with their sha256, and no problem kinds but the allowed ones.
Files of the folder that expected.json does not list are printed as not handled yet.
"""
import argparse
import json
import pathlib
import shutil
import subprocess
import sys


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clearbox", required=True)
    parser.add_argument("--inputs", required=True)
    parser.add_argument("--work", required=True)
    args = parser.parse_args()
    inputs = pathlib.Path(args.inputs)
    work = pathlib.Path(args.work)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    expected = json.loads((inputs / "expected.json").read_text())["inputs"]
    failures = []
    for name, want in sorted(expected.items()):
        out = work / name
        run = subprocess.run([args.clearbox, "unpack", str(inputs / name), "-o", str(out)],
                             capture_output=True, text=True, timeout=300)
        if run.returncode not in (0, 3):
            failures.append(f"{name}: exit code {run.returncode}: {run.stderr.strip()}")
            continue
        manifest = json.loads((out / "manifest.json").read_text())
        chunks = [(c["format"], c["offset"]) for c in manifest["chunks"]]
        if (want["format"], want["offset"]) not in chunks:
            failures.append(f"{name}: no {want['format']} chunk at {want['offset']} (chunks {chunks[:6]})")
        files = {f["path"]: f.get("sha256") for f in manifest["files"]}
        for path, digest in sorted(want.get("files", {}).items()):
            if files.get(path) != digest:
                failures.append(f"{name}: {path} is {files.get(path, 'missing')}, want {digest}")
        kinds = sorted({p["kind"] for p in manifest["problems"]})
        extra = [k for k in kinds if k not in want.get("problems", [])]
        if extra:
            failures.append(f"{name}: unexpected problems {extra}: {manifest['problems'][:3]}")
        print(f"{name}: {want['format']} at {want['offset']}, {len(manifest['files'])} files, "
              f"problems {kinds}")
    unlisted = sorted(p.name for p in inputs.glob("*.bin") if p.name not in expected)
    print(f"handled {len(expected)} of {len(expected) + len(unlisted)} inputs; "
          f"not handled yet: {', '.join(unlisted) or 'none'}")
    for failure in failures:
        print("FAIL:", failure, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
