import os
import sys
from pathlib import Path

import pytest

# Against the installed package (make test) or the source tree (by hand).
if not os.environ.get("GMSTORE_TEST_INSTALLED"):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gmstore import SQLiteStorage  # noqa: E402


@pytest.fixture
def db_path(tmp_path):
    return tmp_path / "test.db"


@pytest.fixture
def store(db_path):
    with SQLiteStorage(db_path) as s:
        yield s
