import itertools
import os
import sys
from pathlib import Path

import pytest

# Against the installed package (make test) or the source tree (by hand).
if not os.environ.get("GMSTORE_TEST_INSTALLED"):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gmstore import SQLiteStorage  # noqa: E402

_stores = itertools.count()


@pytest.fixture
def db_path(tmp_path):
    return tmp_path / "test.db"


def server_store_target() -> str:
    """A fresh store on the server `make test` starts; fails (never skips)
    when none was provided."""
    server = os.environ.get("GMSTORE_TEST_PG")
    assert server, "GMSTORE_TEST_PG must name a PostgreSQL server: make test starts one (scripts/pg_throwaway.sh)"
    return f"{server} store=py_{os.getpid()}_{next(_stores)}"


@pytest.fixture(params=["sqlite", "postgres"])
def store(request, db_path):
    """Every test written against `store` runs on both engines."""
    target = db_path if request.param == "sqlite" else server_store_target()
    with SQLiteStorage(target) as s:
        yield s
