"""Slack, Teams and signed-webhook channels against real HTTP servers on 127.0.0.1, through the
outbox: exactly one accepted post per alert event, across a restart between queueing and
sending, and after a 500. The events are real alerts: the airline tweets' storm, evaluated by
``check`` (explanations included)."""

from __future__ import annotations

import hashlib
import hmac
import json
import subprocess
import sys
import uuid
from datetime import datetime, timedelta, timezone

import pytest
import yaml
from pymongo import MongoClient

from listening.alerts import check
from listening.config import parse_config
from listening.ingest.importer import import_file
from listening.ingest.pipeline import Pipeline
from listening.notify import channels
from listening.store import Store
from tests.conftest import TWEETS_CSV
from tests.support.smtp_server import smtp_server
from tests.support.webhook_server import webhook_server

UTC = timezone.utc
AT = datetime(2015, 2, 22, 8, tzinfo=UTC)  # the storm: US Airways, Southwest, United
SECRET = "test-signing-key"


def with_channels(demo_config, kind: str):
    """The demo config, every department with one channel of ``kind`` (URL and key from env)."""
    raw = demo_config.model_dump(exclude_none=True)
    for dept in raw["departments"]:
        dept["channels"] = [{"kind": kind, "url_env": "LC_TEST_HOOK_URL",
                             **({"secret_env": "LC_TEST_HOOK_KEY"} if kind == "webhook" else {})}]
    return parse_config(raw)


@pytest.fixture(scope="module")
def storm_store(mongo_uri, demo_config, tmp_path_factory):
    """The airline tweets and what ``check`` did for 22 Feb 2015 08:00 UTC: (store, touched alerts);
    the store's outbox holds the e-mails it queued."""
    client = MongoClient(mongo_uri, tz_aware=True)
    store = Store(client, f"test_channels_{uuid.uuid4().hex[:8]}")
    store.ensure_indexes()
    import_file(Pipeline(store, demo_config), TWEETS_CSV, demo_config.import_mapping, source="tweets",
                rejects_path=tmp_path_factory.mktemp("channels") / "r.jsonl")
    yield store, check(store, demo_config, AT)
    client.drop_database(store.db.name)
    client.close()


@pytest.fixture(scope="module")
def storm(storm_store):
    """The real alerts ``check`` opens for 22 Feb 2015 08:00 UTC (public JSON form)."""
    return [a for a in storm_store[1] if a["severity"] != "low"]


@pytest.fixture
def env(monkeypatch):
    monkeypatch.setenv("LC_TEST_HOOK_KEY", SECRET)
    return monkeypatch


def flush_mail_in_a_new_process(mongo_uri: str, db: str, port: int, now: datetime) -> dict:
    """The e-mail notifier's restart: a fresh process sends what ``check`` queued, over SMTP."""
    code = ("import json,sys; from datetime import datetime; from listening.config import load_config; "
            "from listening.store import Store; from listening.notify.outbox import flush; "
            "from listening.config import PACKAGED_DEMO; from pymongo import MongoClient; "
            "s = Store(MongoClient(sys.argv[1], tz_aware=True), sys.argv[2]); "
            "print(json.dumps(flush(s, load_config(PACKAGED_DEMO), now=datetime.fromisoformat(sys.argv[3]))))")
    out = subprocess.run([sys.executable, "-c", code, mongo_uri, db, now.isoformat()],
                         capture_output=True, text=True, timeout=120, check=True,
                         env={**__import__("os").environ, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(port)})
    return json.loads(out.stdout.strip().splitlines()[-1])


def flush_in_a_new_process(mongo_uri: str, db: str, config_path, url: str, now: datetime) -> dict:
    """A fresh process (the restart): its own client, config file and environment."""
    code = ("import json,sys; from datetime import datetime; from listening.config import load_config; "
            "from listening.store import Store; from listening.notify.channels import flush; "
            "from pymongo import MongoClient; "
            "s = Store(MongoClient(sys.argv[1], tz_aware=True), sys.argv[2]); "
            "print(json.dumps(flush(s, load_config(sys.argv[3]), now=datetime.fromisoformat(sys.argv[4]))))")
    out = subprocess.run([sys.executable, "-c", code, mongo_uri, db, str(config_path), now.isoformat()],
                         capture_output=True, text=True, timeout=120, check=True,
                         env={**__import__("os").environ, "LC_TEST_HOOK_URL": url, "LC_TEST_HOOK_KEY": SECRET})
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("kind", ["slack", "teams", "webhook"])
def test_one_post_per_alert_event_across_a_restart(kind, storm, store, mongo_uri, demo_config, tmp_path, env):
    config = with_channels(demo_config, kind)
    assert storm, "the storm opened no alerts to notify"
    queued = sum(channels.queue_alert(store, config, a) for a in storm)
    assert queued == len(storm)
    assert sum(channels.queue_alert(store, config, a) for a in storm) == 0  # an event is queued once
    path = tmp_path / "listening.yaml"
    path.write_text(yaml.safe_dump(json.loads(config.model_dump_json(exclude_none=True))), encoding="utf-8")
    with webhook_server() as hook:
        now = datetime.now(UTC)
        assert flush_in_a_new_process(mongo_uri, store.db.name, path, hook.url, now) == \
            {"sent": len(storm), "retry": 0, "failed": 0}
        assert flush_in_a_new_process(mongo_uri, store.db.name, path, hook.url, now + timedelta(hours=2)) == \
            {"sent": 0, "retry": 0, "failed": 0}
    keys = [p["headers"]["Idempotency-Key"] for p in hook.accepted]
    assert len(hook.posts) == len(keys) == len(set(keys)) == len(storm)
    assert sorted(keys) == sorted(f"alert:{a['id']}:opened:{a['department'] if a['issue'] else 'Customer Care'}/{kind}"
                                  for a in storm)


def test_email_one_message_per_alert_event_across_a_restart_and_a_retried_451(storm_store, mongo_uri, demo_config):
    """E-mail, the built-in notifier, the same way: what ``check`` queued is sent by a new process
    to an SMTP server on 127.0.0.1 that first answers 451 (SMTP's transient refusal; a 5xx there
    is permanent by design), retried after the backoff, each alert event received once."""
    store, _ = storm_store
    queued = sorted(m["_id"] for m in store.outbox.collection.find({"status": "pending"}))
    assert queued and all(k.startswith("alert:") and k.endswith((":opened", ":escalated")) for k in queued)
    now = datetime.now(UTC).replace(microsecond=0)
    with smtp_server(fail_first=1) as (inbox, port):
        assert flush_mail_in_a_new_process(mongo_uri, store.db.name, port, now) == \
            {"sent": 0, "retry": 1, "failed": 0}
        assert flush_mail_in_a_new_process(mongo_uri, store.db.name, port, now + timedelta(seconds=1)) == \
            {"sent": len(queued) - 1, "retry": 0, "failed": 0}  # the refused one waits for its backoff
        assert flush_mail_in_a_new_process(
            mongo_uri, store.db.name, port, now + timedelta(seconds=demo_config.alerts.backoff_seconds + 1)) == \
            {"sent": 1, "retry": 0, "failed": 0}
        assert flush_mail_in_a_new_process(mongo_uri, store.db.name, port, now + timedelta(hours=2)) == \
            {"sent": 0, "retry": 0, "failed": 0}
    assert inbox.refused == 1
    assert sorted(m["X-Listening-Key"] for _, m in inbox.messages) == queued  # one message per event
    assert len({m["Message-ID"] for _, m in inbox.messages}) == len(queued)


@pytest.mark.parametrize("kind", ["slack", "teams", "webhook"])
def test_a_500_is_retried_with_backoff_and_delivered_once(kind, storm, store, demo_config, env):
    config = with_channels(demo_config, kind)
    alert = storm[0]
    channels.queue_alert(store, config, alert)
    with webhook_server(fail_first=1) as hook:
        env.setenv("LC_TEST_HOOK_URL", hook.url)
        now = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=1)  # the store keeps ms
        assert channels.flush(store, config, now=now) == {"sent": 0, "retry": 1, "failed": 0}
        msg = store.outbox.collection.find_one({})
        assert msg["status"] == "pending" and msg["last_error"] == "HTTP 500"
        assert msg["next_attempt_at"] == now + timedelta(seconds=config.alerts.backoff_seconds)
        assert channels.flush(store, config, now=now + timedelta(seconds=1)) == {"sent": 0, "retry": 0, "failed": 0}
        assert channels.flush(store, config, now=now + timedelta(minutes=1)) == {"sent": 1, "retry": 0, "failed": 0}
    assert [p["status"] for p in hook.posts] == [500, 200]
    assert hook.posts[0]["raw"] == hook.posts[1]["raw"]  # the same message, not a second one


def test_slack_blocks_show_the_explanation_as_plain_text(storm, demo_config):
    alert = next(a for a in storm if a["explanation"] and a["explanation"]["examples"])
    body = channels.notifier("slack").render(alert, with_channels(demo_config, "slack"))
    texts = [b["text"] for b in body["blocks"] if "text" in b]
    assert all(t["type"] == "plain_text" for t in texts)  # never mrkdwn: tweets stay text
    top = alert["explanation"]["terms"][0]
    assert any(f"{top['term']} ({top['count']} vs {top['expected']:.1f})" in t["text"] for t in texts)
    assert any(alert["explanation"]["examples"][0]["text"][:100] in t["text"] for t in texts)
    assert body["blocks"][-1]["elements"][0]["url"].endswith(f"/alerts?alert={alert['id']}")


def test_teams_card_uses_text_runs(storm, demo_config):
    body = channels.notifier("teams").render(storm[0], with_channels(demo_config, "teams"))
    card = body["attachments"][0]["content"]
    assert card["type"] == "AdaptiveCard"
    assert all(b["type"] == "RichTextBlock" and b["inlines"][0]["type"] == "TextRun" for b in card["body"])


def test_webhook_posts_are_signed(storm, store, demo_config, env):
    config = with_channels(demo_config, "webhook")
    channels.queue_alert(store, config, storm[0])
    with webhook_server() as hook:
        env.setenv("LC_TEST_HOOK_URL", hook.url)
        channels.flush(store, config)
    post = hook.accepted[0]
    ts = post["headers"]["X-Listening-Timestamp"]
    want = hmac.new(SECRET.encode(), ts.encode() + b"." + post["raw"], hashlib.sha256).hexdigest()
    assert post["headers"]["X-Listening-Signature"] == f"sha256={want}"
    assert post["json"]["alert"]["id"] == storm[0]["id"] and post["json"]["alert"]["explanation"]


def test_secrets_come_only_from_the_environment(storm, store, demo_config, env):
    config = with_channels(demo_config, "webhook")
    env.setenv("LC_TEST_HOOK_URL", "https://hooks.example.com/T000/B000/secret-path")
    channels.queue_alert(store, config, storm[0])
    msg = store.outbox.collection.find_one({})
    stored = json.dumps({k: v for k, v in msg.items() if k != "raw"}, default=str).encode() + bytes(msg["raw"])
    assert b"secret-path" not in stored and SECRET.encode() not in stored
    env.delenv("LC_TEST_HOOK_URL", raising=False)
    assert channels.flush(store, config) == {"sent": 0, "retry": 1, "failed": 0}  # waits for its URL
    assert "LC_TEST_HOOK_URL is not set" in store.outbox.collection.find_one({})["last_error"]


def test_plain_http_only_to_loopback(storm, store, demo_config, env):
    config = with_channels(demo_config, "slack")
    channels.queue_alert(store, config, storm[0])
    env.setenv("LC_TEST_HOOK_URL", "http://hooks.example.com/x")
    assert channels.flush(store, config) == {"sent": 0, "retry": 0, "failed": 1}


def test_a_webhook_without_a_signing_key_is_a_config_error(demo_config):
    from listening.errors import ConfigError

    raw = demo_config.model_dump(exclude_none=True)
    raw["departments"][0]["channels"] = [{"kind": "webhook", "url_env": "X_URL"}]
    with pytest.raises(ConfigError, match="secret_env"):
        parse_config(raw)
