"""API fuzz: schemathesis generates requests for every operation of the FastAPI app's OpenAPI
schema and calls the app in-process through its ASGI integration (no network, no server); every
response must be a non-5xx answer (`not_a_server_error`). Bounded: 15 examples per operation
with a write token, 5 with a bad token.

Requires schemathesis (dev extra; written against 4.32.5). Its own pytest loader
(`schemathesis.pytest.from_fixture` / `schema.parametrize`) sets `request.node._nodeid`, which
pytest 9 no longer has, so operations are parametrized here by hand and each one's
`as_strategy()` is driven by a plain hypothesis `@given`.
"""
from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

schemathesis = pytest.importorskip("schemathesis")
from schemathesis.checks import not_a_server_error  # noqa: E402

from alert_helpers import HashEmbedder, add_biometrics_development, make_cfg, new_store  # noqa: E402
from alerts.api import create_app  # noqa: E402
from alerts.engine import process  # noqa: E402
from alerts.rules import sync_rules  # noqa: E402

READ, WRITE = "read-token-fuzz", "write-token-fuzz"
READ_ENV, WRITE_ENV = "LAWWATCH_FUZZ_READ", "LAWWATCH_FUZZ_WRITE"


def _build_app(tmp: Path):
    store = new_store(tmp)
    cfg = make_cfg({"api": {"read_tokens_env": READ_ENV, "write_tokens_env": WRITE_ENV,
                            "page_size": 3},
                    "alerts": {"relative_margin": 1.0}})
    sync_rules(store, cfg)
    add_biometrics_development(store)          # real rows: ids, cursors, diffs have data
    process(store, cfg, embedder=HashEmbedder())
    return create_app(cfg, store, embedder=HashEmbedder())


def _operation_labels() -> list[str]:
    """Operation labels ("GET /rules/{rule_id}") from a throwaway app, for parametrization."""
    tmp = Path(tempfile.mkdtemp(prefix="lw-schemathesis-"))
    atexit.register(shutil.rmtree, tmp, ignore_errors=True)
    schema = schemathesis.openapi.from_asgi("/openapi.json", _build_app(tmp))
    return [r.ok().label for r in schema.get_all_operations()]


OPERATIONS = _operation_labels()


@pytest.fixture(scope="module")
def operations(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv(READ_ENV, READ)
    mp.setenv(WRITE_ENV, WRITE)
    app = _build_app(tmp_path_factory.mktemp("api-fuzz"))
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    ops = {op.label: op for op in (r.ok() for r in schema.get_all_operations())}
    yield ops
    mp.undo()


def test_schema_has_operations():
    assert len(OPERATIONS) >= 5, OPERATIONS


def _fuzz(op, token: str, n: int) -> None:
    @settings(max_examples=n, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(case=op.as_strategy())
    def run(case):
        case.call_and_validate(headers={"Authorization": f"Bearer {token}"},
                               checks=[not_a_server_error])
    run()


@pytest.mark.parametrize("label", OPERATIONS)
def test_no_server_errors_with_write_token(operations, label):
    _fuzz(operations[label], WRITE, 15)


@pytest.mark.parametrize("label", OPERATIONS)
def test_no_server_errors_with_bad_token(operations, label):
    _fuzz(operations[label], "not-a-token", 5)
