#!/usr/bin/python3
"""Checks the compliance catalogues in data/standards against their schema and their known shape.

usage: validate_standards.py [DIR]   (DIR defaults to data/standards of this checkout)
Every DIR/*.json except standard.schema.json must validate against DIR/standard.schema.json
(JSON Schema draft 2020-12). Beyond the schema: clause ids unique within a file, header ids
unique across files, parents that exist, modality only shall/should, EN 303 645 V2.1.1 with its
68 provisions (33 shall, 35 should), CRA Annex I with Part I (1) plus (2)(a)-(m) and Part II
(1)-(8). Prints one line per violation; exits 0 when all is well, 1 otherwise, 2 on bad usage.
"""
import json
import pathlib
import string
import sys

import jsonschema

SCHEMA_NAME = "standard.schema.json"
MODALITIES = {"shall", "should"}

# Counts the reference note (compliance-catalogues.md) gives for each standard.
EN303645_PROVISIONS = 68
EN303645_SHALL = 33
EN303645_SHOULD = 35
CRA_PART_I = ["I(1)"] + [f"I(2)({letter})" for letter in string.ascii_lowercase[:13]]  # (a)-(m)
CRA_PART_II = [f"II({n})" for n in range(1, 9)]


def check_schema(files, schema, errors):
    validator = jsonschema.Draft202012Validator(schema)
    documents = {}
    for path in files:
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
            errors.append(f"{path.name}: not readable as JSON: {err}")
            continue
        schema_errors = sorted(validator.iter_errors(document), key=lambda e: list(e.path))
        for error in schema_errors:
            where = "/".join(str(p) for p in error.path)
            errors.append(f"{path.name}: /{where}: {error.message[:300]}")
        if not schema_errors:
            documents[path] = document
    return documents


def check_clauses(path, document, errors):
    clauses = document["clauses"]
    seen = set()
    for index, clause in enumerate(clauses):
        clause_id = clause["id"]
        if clause_id in seen:
            errors.append(f"{path.name}: /clauses/{index}: clause id {clause_id!r} appears twice")
        seen.add(clause_id)
        modality = clause.get("modality")
        if modality is not None and modality not in MODALITIES:
            errors.append(f"{path.name}: /clauses/{index}: modality {modality!r} is not shall or should")
    for index, clause in enumerate(clauses):
        parent = clause.get("parent")
        if parent is not None and parent not in seen:
            errors.append(f"{path.name}: /clauses/{index}: parent {parent!r} is not a clause of this file")
        if parent == clause["id"]:
            errors.append(f"{path.name}: /clauses/{index}: clause {parent!r} is its own parent")


def check_en303645(path, document, errors):
    clauses = document["clauses"]
    if len(clauses) != EN303645_PROVISIONS:
        errors.append(f"{path.name}: EN 303 645 V2.1.1 has {EN303645_PROVISIONS} provisions, "
                      f"the file has {len(clauses)}")
    modalities = [c.get("modality") for c in clauses]
    missing = [c["id"] for c in clauses if "modality" not in c]
    if missing:
        errors.append(f"{path.name}: every provision needs a modality; missing for {', '.join(missing)}")
    shall, should = modalities.count("shall"), modalities.count("should")
    if (shall, should) != (EN303645_SHALL, EN303645_SHOULD):
        errors.append(f"{path.name}: expected {EN303645_SHALL} shall and {EN303645_SHOULD} should "
                      f"provisions, found {shall} and {should}")


def check_cra(path, document, errors):
    for part, expected in (("Part I", CRA_PART_I), ("Part II", CRA_PART_II)):
        ids = [c["id"] for c in document["clauses"] if c["section"] == part]
        if ids != expected:
            errors.append(f"{path.name}: {part} must list {len(expected)} points in order "
                          f"({', '.join(expected)}); found {len(ids)}: {', '.join(ids) or 'none'}")
    others = sorted({c["section"] for c in document["clauses"]} - {"Part I", "Part II"})
    if others:
        errors.append(f"{path.name}: sections other than Part I and Part II: {', '.join(others)}")


SHAPE_CHECKS = {"en303645": check_en303645, "cra": check_cra}


def main(argv):
    if len(argv) > 2 or (len(argv) == 2 and argv[1].startswith("-")):
        print(__doc__, file=sys.stderr)
        return 2
    directory = pathlib.Path(argv[1]) if len(argv) == 2 else (
        pathlib.Path(__file__).resolve().parent.parent / "data" / "standards")
    schema_path = directory / SCHEMA_NAME
    try:
        schema = json.loads(schema_path.read_text(encoding="utf-8"))
        jsonschema.Draft202012Validator.check_schema(schema)
    except (OSError, json.JSONDecodeError, jsonschema.SchemaError) as err:
        print(f"{schema_path}: not a usable draft 2020-12 schema: {str(err)[:300]}")
        return 1

    errors = []
    files = sorted(p for p in directory.glob("*.json") if p.name != SCHEMA_NAME)
    if not files:
        errors.append(f"{directory}: no catalogue files")
    documents = check_schema(files, schema, errors)

    owners = {}
    for path, document in documents.items():
        check_clauses(path, document, errors)
        owners.setdefault(document["id"], []).append(path)
    for header_id, paths in sorted(owners.items()):
        if len(paths) > 1:
            errors.append(f"header id {header_id!r} is used by more than one file: "
                          f"{', '.join(p.name for p in paths)}")
        elif header_id in SHAPE_CHECKS:
            SHAPE_CHECKS[header_id](paths[0], documents[paths[0]], errors)
    for header_id in SHAPE_CHECKS:
        if header_id not in owners:
            errors.append(f"{directory}: no valid catalogue with id {header_id!r}")

    for error in errors:
        print(error)
    if errors:
        print(f"validate_standards: {len(errors)} problem(s) in {directory}")
        return 1
    total = sum(len(d["clauses"]) for d in documents.values())
    print(f"validate_standards: {len(documents)} catalogues, {total} clauses, all valid")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
