"""`python -m portal_contracts snapshot`: record the schema of every event version.

A new version gets its snapshot; an existing one is updated only where the change is compatible.
The envelope's is `Envelope.v<ENVELOPE_VERSION>.json`, under the same rule.
`python -m portal_contracts asyncapi` prints the AsyncAPI document of the whole system.
"""

from __future__ import annotations

import sys

from portal_contracts import compat
from portal_contracts.envelope import ENVELOPE_VERSION, Envelope
from portal_contracts.registry import all_events


def snapshot() -> int:
    failed = 0
    for cls in all_events():
        path = compat.snapshot_path(cls.event_type, cls.version)
        schema = compat.schema_of(cls)
        if path.exists():
            problems = compat.breaking_changes(compat.load_snapshot(path), schema)
            if problems:
                failed += 1
                print(
                    f"{cls.event_type} v{cls.version} breaks its readers; add version "
                    f"{cls.version + 1} instead:\n  " + "\n  ".join(problems)
                )
                continue
        compat.write_snapshot(path, schema)
    envelope_path, envelope_schema = compat.snapshot_path("Envelope", ENVELOPE_VERSION), compat.schema_of(Envelope)
    if envelope_path.exists() and (
        problems := compat.breaking_changes(compat.load_snapshot(envelope_path), envelope_schema)
    ):
        print("the Envelope breaks its readers; keep its attributes:\n  " + "\n  ".join(problems))
        return 1
    compat.write_snapshot(envelope_path, envelope_schema)
    return 1 if failed else 0


def main(argv: list[str]) -> int:
    command = argv[0] if argv else ""
    if command == "snapshot":
        return snapshot()
    if command == "asyncapi":
        from portal_contracts.asyncapi import system_asyncapi

        print(system_asyncapi().to_json())
        return 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
