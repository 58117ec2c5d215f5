"""A second process holding the duty lists warm, for the pre-check cache test:
`python -m tests.precheck_process URL NAME TOWNSHIP`.

It pre-checks an application named NAME for TOWNSHIP twice (the second from its memory), prints
the findings' kinds as one JSON line, then again after each line read from stdin, until EOF.
"""

from __future__ import annotations

import json
import sys

from sqlalchemy import select

from engine.duty_lists.services.precheck import run_precheck
from engine.models import Organization
from engine.services.context import build_context
from tests.conftest import make_settings
from tests.factories import application


def main() -> None:
    url, name, township = sys.argv[1:4]
    ctx = build_context(make_settings(url))
    values = application(name=name, townships=[township])

    def kinds() -> list[str]:
        with ctx.db.read() as session:
            org = session.scalar(select(Organization).where(Organization.code == township))
            found = run_precheck(session, ctx, values, [org])
        return sorted(f.kind for f in found.findings)

    kinds()
    print(json.dumps(kinds()), flush=True)
    for _ in sys.stdin:
        print(json.dumps(kinds()), flush=True)
    ctx.db.dispose()


if __name__ == "__main__":
    main()
