#!/usr/bin/env python3
"""Asserts that the DynamoDB table template.yaml deploys is the table the tests create.

The tests create their table on moto from infra/dynamodb-table.json (functions/core/src/state/dynamodb/table.rs);
template.yaml declares the production table. If the two drift, the code is tested against a table nobody deploys.
Exits non-zero naming each differing property.
"""
import json
import sys
from pathlib import Path

from cfnlint.decode import cfn_yaml  # cfn-lint's loader understands !Ref, !Sub, ...

ROOT = Path(__file__).resolve().parent.parent


def normalise(value):
    """Order-insensitive for lists of definitions (their order carries no meaning in CloudFormation)."""
    if isinstance(value, dict):
        return {k: normalise(v) for k, v in value.items()}
    if isinstance(value, list):
        items = [normalise(v) for v in value]
        if all(isinstance(v, dict) for v in items):
            return sorted(items, key=lambda v: json.dumps(v, sort_keys=True))
        return items
    return value


def main():
    template = cfn_yaml.load(str(ROOT / "template.yaml"))
    tables = {
        name: res
        for name, res in template["Resources"].items()
        if res.get("Type") == "AWS::DynamoDB::Table"
    }
    if list(tables) != ["StateTable"]:
        sys.exit(f"template.yaml: expected exactly one table, StateTable; found {sorted(tables)}")
    deployed = json.loads(json.dumps(tables["StateTable"]["Properties"]))
    tested = json.loads((ROOT / "infra/dynamodb-table.json").read_text())
    problems = []
    for key in sorted(set(deployed) | set(tested)):
        if key not in deployed:
            problems.append(f"{key}: in infra/dynamodb-table.json, missing from template.yaml")
        elif key not in tested:
            problems.append(f"{key}: in template.yaml, missing from infra/dynamodb-table.json")
        elif normalise(deployed[key]) != normalise(tested[key]):
            problems.append(f"{key}: template.yaml {deployed[key]} != tested {tested[key]}")
    if problems:
        sys.exit("table definitions differ:\n  " + "\n  ".join(problems))
    print("template.yaml StateTable matches infra/dynamodb-table.json")


if __name__ == "__main__":
    main()
