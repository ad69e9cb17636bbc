"""Is a new schema of an event still readable by the readers of the old one?

A field removed, retyped, or newly required, or an enum whose values changed, breaks readers:
that needs a new version of the event. Adding an optional field does not.

One retyping is not a change: pydantic's own schema of a `Decimal` (`number` or `string`) recorded
before decimals were declared as what they are on the wire (`portal_contracts.base.DecimalString`, a
string with a pattern). Both describe the same validator, which reads either and writes a string, so
every message ever written still reads, and readers of the old schema read every new message.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from portal_contracts.base import DECIMAL_JSON_SCHEMA

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "schemas"
_IGNORED = {"title", "description", "default", "examples"}
_PYDANTIC_DECIMAL = {"anyOf": [{"type": "number"}, {"type": "string"}]}


def snapshot_path(event_type: str, version: int, root: Path = SCHEMA_DIR) -> Path:
    return root / f"{event_type}.v{version}.json"


def schema_of(cls: Any) -> dict[str, Any]:
    return cls.model_json_schema(mode="validation")


def breaking_changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Every change from `old` to `new` that breaks a reader of `old`, as readable sentences."""
    problems: list[str] = []
    _compare(old, new, old, new, "", problems)
    return problems


def _resolve(node: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        node = root.get("$defs", {})[name]
    return node


def _shape(node: Any, root: dict[str, Any]) -> Any:
    """A schema reduced to what decides how a value is read."""
    if isinstance(node, dict):
        node = _resolve(node, root)
        shape = {k: _shape(v, root) for k, v in sorted(node.items()) if k not in _IGNORED}
        return DECIMAL_JSON_SCHEMA if shape == _PYDANTIC_DECIMAL else shape
    if isinstance(node, list):
        return [_shape(v, root) for v in node]
    return node


def _compare(old, new, old_root, new_root, where, problems) -> None:
    old, new = _resolve(old, old_root), _resolve(new, new_root)
    if old.get("type") == new.get("type") == "array" and "items" in old and "items" in new:
        _compare(old["items"], new["items"], old_root, new_root, f"{where}[]", problems)
        return
    if "properties" not in old:
        if _shape(old, old_root) != _shape(new, new_root):
            problems.append(f"{where or 'event'}: type changed")
        return
    if "properties" not in new:
        problems.append(f"{where or 'event'}: is no longer an object")
        return
    for name, old_field in old["properties"].items():
        path = f"{where}.{name}" if where else name
        if name not in new["properties"]:
            problems.append(f"{path}: field removed")
            continue
        _compare(old_field, new["properties"][name], old_root, new_root, path, problems)
    newly_required = set(new.get("required", [])) - set(old.get("required", []))
    for name in sorted(newly_required):
        path = f"{where}.{name}" if where else name
        problems.append(f"{path}: field is now required")


def load_snapshot(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


def write_snapshot(path: Path, schema: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(schema, indent=2, sort_keys=True) + "\n")
