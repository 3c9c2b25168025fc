"""The raw private_key_jwt + DPoP example of docs/integrating.md runs against a real server."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tests.sdk.conftest import REPO, ServerFactory


def test_the_integration_guide_example_gets_a_dpop_token_and_calls(
    exchange_server: ServerFactory, tmp_path: Path
) -> None:
    guide = (REPO / "docs/integrating.md").read_text(encoding="utf-8")
    [example] = re.findall(r"```python\n(.*?)```", guide, re.DOTALL)
    script = tmp_path / "token_and_call.py"
    script.write_text(example, encoding="utf-8")
    live = exchange_server(require_dpop="true")  # a Bearer token would be refused
    agency = live.register("customs", scopes="alerts:read")
    done = subprocess.run(
        [sys.executable, str(script), live.url, agency.client_id, str(agency.key_path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "Ephedrine"
