"""Sign-in resists guessing: after a few failures per name and client each further one locks
that pair for twice as long, a locked pair is refused without a password check, and it is logged."""

from __future__ import annotations

import logging

import yaml
from streamlit.testing.v1 import AppTest

from listening.app import common as dashboard
from listening.app.common import SignInThrottle
from listening.app.serve import ENTRY
from listening.config import PACKAGED_DEMO


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_lock_grows_per_name_and_client_and_a_success_clears_it(caplog):
    clock = Clock()
    throttle = SignInThrottle(clock)
    with caplog.at_level(logging.WARNING, logger="listening.app.signin"):
        for _ in range(3):
            throttle.failed("Dana", "10.0.0.1")
    assert throttle.wait_s("dana", "10.0.0.1") == 0  # three free tries
    throttle.failed("dana", "10.0.0.1")
    assert throttle.wait_s("dana", "10.0.0.1") == 2
    throttle.failed("dana", "10.0.0.1")
    assert throttle.wait_s("dana", "10.0.0.1") == 4
    assert throttle.wait_s("dana", "10.0.0.2") == 0 and throttle.wait_s("sam", "10.0.0.1") == 0
    for client in range(6):  # beyond ten failures from anywhere, the name is locked everywhere
        throttle.failed("dana", f"10.0.1.{client}")
    assert throttle.wait_s("dana", "10.9.9.9") == 2
    clock.now += 3600
    for _ in range(20):
        throttle.failed("dana", "10.0.0.1")
    assert throttle.wait_s("dana", "10.0.0.1") == SignInThrottle.MAX_LOCK_S
    throttle.succeeded("dana", "10.0.0.1")
    assert throttle.wait_s("dana", "10.0.0.1") == 0
    assert sum("sign-in failed for 'Dana' from 10.0.0.1" in r.getMessage() for r in caplog.records) == 3


def test_the_dashboard_refuses_even_the_right_password_while_locked(store_env, tmp_path, monkeypatch):
    raw = yaml.safe_load(PACKAGED_DEMO.read_text())
    raw["dashboard"] = {"auth": {"method": "password", "users": ["lee"]}}
    path = tmp_path / "listening.yaml"
    path.write_text(yaml.safe_dump(raw))
    monkeypatch.setenv("LISTENING_CONFIG", str(path))
    monkeypatch.setenv("LISTENING_DASHBOARD_PASSWORD", "s3cret")
    throttle = dashboard.THROTTLE  # the process-wide throttle the page uses
    monkeypatch.setattr(throttle, "clock", Clock())

    at = AppTest.from_file(str(ENTRY), default_timeout=30).run()
    for _ in range(4):
        at.text_input[0].input("lee")
        at.text_input[1].input("guess")
        at.button[0].click().run()
        assert "Wrong name or password." in [e.value for e in at.error]
    at.text_input[1].input("s3cret")
    at.button[0].click().run()
    assert "Too many failed sign-ins: try again in 2 s." in [e.value for e in at.error]
    assert "auth_user" not in at.session_state
    throttle.clock.now += 2
    at.text_input[1].input("s3cret")
    at.button[0].click().run()
    assert not at.exception and at.session_state["auth_user"] == "lee"
    assert throttle.wait_s("lee", "local") == 0
