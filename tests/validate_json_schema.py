#!/usr/bin/python3
"""Validates JSON documents against the official schemas in tests/schemas, offline.

usage: validate_json_schema.py {cyclonedx|spdx|sarif} FILE...
Prints one line per error; exits 0 when every file is valid, 1 otherwise, 2 on bad usage.
"""
import json
import pathlib
import sys
import warnings

import jsonschema

SCHEMAS = pathlib.Path(__file__).resolve().parent / "schemas"
MAIN = {"cyclonedx": "bom-1.6.schema.json", "spdx": "spdx-schema-2.3.json",
        "sarif": "sarif-schema-2.1.0.json"}


def validator_for(kind):
    store = {}
    for path in SCHEMAS.glob("*.json"):
        schema = json.loads(path.read_text())
        key = schema.get("$id", schema.get("id"))  # draft-04 (SARIF) says "id"
        if key:
            store[key] = schema
    main = json.loads((SCHEMAS / MAIN[kind]).read_text())
    cls = jsonschema.validators.validator_for(main)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        resolver = jsonschema.RefResolver.from_schema(main, store=store)
        return cls(main, resolver=resolver, format_checker=cls.FORMAT_CHECKER)


def main(argv):
    if len(argv) < 3 or argv[1] not in MAIN:
        print(__doc__, file=sys.stderr)
        return 2
    validator = validator_for(argv[1])
    failed = False
    for name in argv[2:]:
        document = json.loads(pathlib.Path(name).read_text())
        for error in sorted(validator.iter_errors(document), key=lambda e: list(e.path)):
            failed = True
            where = "/".join(str(p) for p in error.path)
            print(f"{name}: /{where}: {error.message[:300]}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
