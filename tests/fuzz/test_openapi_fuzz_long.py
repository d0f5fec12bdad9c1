"""The long schemathesis run (marker `long`, run by .ci/run): every operation with many generated inputs
and every phase, the coverage phase's boundary and missing-parameter cases included.

Kept in a module of its own because schemathesis builds the coverage cases when the test is collected:
seconds in every worker, which tests/conftest.py saves when `long` tests are deselected.
"""

import pytest
import schemathesis
from hypothesis import settings

from tests.fuzz.test_openapi_fuzz import APP, SETTINGS, _run

LONG = 30
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


@pytest.mark.long
@schema.parametrize()
@settings(SETTINGS, max_examples=LONG)
def test_every_operation_at_length(case: schemathesis.Case) -> None:
    _run(case)


pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
