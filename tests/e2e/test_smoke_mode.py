"""`make smoke API=<url>` runs the end-to-end suite against a stack it did not start, as it would a deployed one.

The stack here is a local one, started apart and reached only through its URL and two bearer tokens, exactly
what the README tells a user to pass for a stack on AWS. Its guest limit is 0, as if earlier runs had taken
every seat, so a smoke test that needs a fresh stack fails here rather than on its second run against AWS.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from horizon.local.auth import issue, signing_key
from tests.e2e.conftest import API_URL, ROOT, TOKENS, local_stack

pytestmark = [pytest.mark.e2e, pytest.mark.local_only, pytest.mark.timeout(240)]


def test_make_smoke_passes_against_a_running_stack_it_only_knows_by_url_and_tokens(tmp_path: Path) -> None:
    with local_stack(tmp_path, guest_limit=0) as stack:
        key = signing_key(stack.keys_dir)
        env = {name: value for name, value in os.environ.items() if name not in (API_URL, *TOKENS.values())}
        env[TOKENS["hosts"]] = issue(key, ["hosts"], subject="smoke-host")
        env[TOKENS["guests"]] = issue(key, ["guests"], subject="smoke-guest")
        # Not the developer's .local/: a smoke run must not need the stack's key, so it gets none.
        env["HORIZON_LOCAL_DIR"] = str(tmp_path / "no-key-here")

        done = subprocess.run(
            ["make", "-s", "smoke", f"API={stack.client.base_url}/"],  # ApiUrl as pasted, trailing slash and all
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=200,
            check=False,
        )
        served = stack.log.read_text()

    summary = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    counts = {word: int(number) for number, word in re.findall(r"(\d+) (\w+)", summary)}
    assert counts.get("passed", 0) >= 10, summary
    assert counts.get("deselected", 0) >= 1, summary  # the local_only tests, this one among them
    assert not re.search(r"failed|error|skipped", summary), summary
    # The suite talked to this stack, and never minted a token with a key of its own.
    assert served.count('"POST /commands/CreateInvite"') >= 20
    assert not (tmp_path / "no-key-here").exists()
