"""The webhook fuzzer's short run: signed, mutated LINE bodies built from webhook.yml.

Every well-formed body gets 200 and never a 5xx, every event that follows the spec is stored,
and once the worker drained nothing is stuck and nothing crashed. ``FUZZ_EXAMPLES`` sets the
number of bodies (60 by default, about 30 s); bench/fuzz_webhook.py runs thousands.
"""

from __future__ import annotations

import logging
import os

from hypothesis import HealthCheck, given, settings

from tests.conftest import CHANNEL_SECRET
from tests.line import fuzzing


@settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "60")),
    deadline=None,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
@given(batch=fuzzing.batches())
def test_fuzzed_bodies_never_fail_and_good_events_are_kept(client, session, worker, caplog, batch):
    caplog.clear()
    caplog.set_level(logging.WARNING)
    problems = fuzzing.post_and_check(client, worker, session, batch, CHANNEL_SECRET)
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert not problems and not errors, (problems, errors)
