import os
import sys
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples" / "archive"
DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(scope="session")
def embedder():
    """The real bundled model, loaded once for the whole run."""
    from index.embed import Embedder

    e = Embedder()
    e.encode(["warm up"])
    return e


@pytest.fixture
def cfg_for(tmp_path):
    """A Config with the given sources and an index folder in tmp_path."""
    from index.config import parse

    def make(*paths, **sections):
        data = {"index": {"path": str(tmp_path / "idx")}, "sources": [
            p if isinstance(p, dict) else {"path": str(p)} for p in paths]}
        for name, values in sections.items():
            data.setdefault(name, {}).update(values)
        return parse(data, tmp_path)

    return make


def run_cli(*args, cwd=None, env=None, input=None, timeout=300):
    """The real console script in a subprocess."""
    import subprocess

    exe = Path(sys.executable).parent / "archivist"
    return subprocess.run([str(exe), *map(str, args)], cwd=cwd, env={**os.environ, **(env or {})},
                          input=input, capture_output=True, text=True, timeout=timeout)
