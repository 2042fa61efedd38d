"""`rolecall demo` runs the whole loop offline and says so honestly."""

from __future__ import annotations

import json
import os
import subprocess

from tests.e2e.conftest import rolecall_executable


def test_demo_opens_the_draft_pull_request_and_says_the_model_is_scripted(tmp_path) -> None:
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "LANG": "C.UTF-8"}
    result = subprocess.run(
        [rolecall_executable(), "demo", "--json"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["ok"] is True
    assert "scripted" in report["model"]
    pull = report["pull_request"]
    assert pull["draft"] is True
    assert f"Fixes #{report['issue']}" in pull["body"]
    assert "calc.py" in pull["diff_stat"]
    assert "__pycache__" not in pull["diff_stat"]
    steps = [moment["what"] for moment in report["timeline"]]
    assert steps[0].startswith("GitHub sent webhook issue_comment.created")
    assert any("reacted eyes" in step for step in steps)
    assert steps[-1].startswith("Tracking comment: Rolecall opened a draft pull request")


def test_demo_text_output_names_the_scripted_model(tmp_path) -> None:
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "LANG": "C.UTF-8"}
    result = subprocess.run(
        [rolecall_executable(), "demo"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "the model is SCRIPTED" in result.stdout
    assert "OK: the draft pull request exists as described." in result.stdout
