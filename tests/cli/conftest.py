"""Shared fixtures for the omni CLI tests: run the built binary."""
import json
import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("OMNI_BUILD_DIR", ROOT / "build"))
OMNI = BUILD / "examples" / "cli" / "omni"


class Result:
    def __init__(self, proc: subprocess.CompletedProcess):
        self.code = proc.returncode
        self.out = proc.stdout
        self.err = proc.stderr

    @property
    def text(self) -> str:
        return self.out.decode()

    def json(self):
        return json.loads(self.out)

    def error(self) -> dict:
        lines = self.err.decode().strip().splitlines()
        assert len(lines) == 1, f"stderr must be one JSON line, got {self.err!r}"
        return json.loads(lines[0])


@pytest.fixture
def omni():
    assert OMNI.exists(), f"{OMNI} not built"

    def run(*args, input: bytes | str | None = None, env: dict | None = None) -> Result:
        if isinstance(input, str):
            input = input.encode()
        full_env = dict(os.environ)
        if env:
            full_env.update(env)
        proc = subprocess.run([str(OMNI), *map(str, args)], input=input or b"",
                              capture_output=True, timeout=60, env=full_env)
        return Result(proc)

    return run
