"""Every dashboard page through streamlit's AppTest, on a small seeded store.

The seed (tests/dashboard_seed.py) is eight mentions of February 2015, so every page
must also follow the data back in time rather than show an empty default window.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from streamlit.testing.v1 import AppTest

from listening.app import common as dashboard
from listening.app.serve import ENTRY
from tests.conftest import FIXTURES
from tests.support.dashboard_seed import BRAND_COUNTS, NEEDS_REPLY, add_search_volume, open_alert, seed

APP = str(ENTRY)


@pytest.fixture
def seeded(store_env, demo_config):
    """The store with the seed written, ids newest first."""
    return store_env, seed(store_env, demo_config)


def open_page(page: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=30).run()
    if page:
        at.switch_page(f"views/{page}.py").run()
    assert not at.exception, at.exception
    return at


def chart_data(at: AppTest, index: int = 0):
    """The first dataset of an Altair chart on the page, as a DataFrame."""
    import pyarrow as pa

    proto = at.get("vega_lite_chart")[index].proto
    return pa.ipc.open_stream(proto.datasets[0].data.data).read_all().to_pandas()


def infos(at: AppTest) -> str:
    return " ".join(i.value for i in at.info)


def test_live_shows_newest_first_and_follows_old_data(seeded):
    _, ids = seeded
    at = open_page()
    assert "the newest is from 24 Feb 2015 11:00 UTC" in infos(at)
    assert at.metric[0].value == "8"
    assert at.metric[1].value == "38%"  # 3 negative of 8
    feed = at.dataframe[0].value
    assert list(feed["link"]) == [f"https://example.com/m/{i}" for i in range(8)]
    assert list(feed["brands"])[:2] == ["United", "United"]


def test_live_filters_and_escaped_search(seeded):
    at = open_page()
    at.multiselect(key="live_brands").set_value(["JetBlue"]).run()
    assert at.metric[0].value == "3"
    assert list(at.dataframe[0].value["link"]) == [f"https://example.com/m/{i}" for i in (3, 4, 5)]
    at.multiselect(key="live_brands").set_value([]).run()
    at.text_input(key="live_text").input("DELAYED").run()
    assert list(at.dataframe[0].value["link"]) == ["https://example.com/m/1", "https://example.com/m/3"]
    for hostile in ("(.*", "$where", '{"$gt": ""}', ".*"):
        at.text_input(key="live_text").input(hostile).run()
        assert not at.exception
        assert not at.dataframe, hostile  # taken literally: no mention contains it
        assert "No mention matches" in infos(at)


def test_voice_and_sentiment(seeded):
    store, _ = seeded
    at = open_page("voice")
    assert at.metric[0].value == "8"
    assert at.metric[1].value in ("United", "JetBlue")  # tied at 3 each
    table = at.dataframe[0].value.set_index("brand")
    assert table["mentions"].to_dict() == {**BRAND_COUNTS, "American": 0, "US Airways": 0}
    assert table.loc["United", "share of voice"] == pytest.approx(3 / 8)
    assert table.loc["United", "negative"] == pytest.approx(2 / 3)
    assert table.loc["Southwest", "net sentiment"] == pytest.approx(1.0)
    assert table.loc["JetBlue", "net sentiment"] == pytest.approx(0.0)
    assert len(at.get("vega_lite_chart")) == 4  # voice, split, trend, issues


def test_sources_health_lists_runs_and_configured_sources(seeded):
    store, _ = seeded
    run = store.runs.start("import", source="import:tweets.csv")
    store.runs.finish(run, status="partial", counts={"read": 120, "new": 100}, error="2 rows rejected")
    failed = store.runs.start("trends")
    store.runs.finish(failed, status="failed", error="429 Too Many Requests")
    at = open_page("sources")
    sources = at.dataframe[0].value.set_index("source")
    assert sources.loc["import:tweets.csv", "items last run"] == 120
    assert sources.loc["import:tweets.csv", "status"] == "partial"
    assert sources.loc["import:tweets.csv", "error"] == "2 rows rejected"
    jobs = at.dataframe[1].value.set_index("job")
    assert jobs.loc["trends", "status"] == "failed"
    assert jobs.loc["trends", "error"] == "429 Too Many Requests"
    assert at.metric[0].value == "24 Feb 2015"
    assert at.metric[2].value == "1"


def test_empty_store_says_what_to_do(store_env):
    for page in (None, "voice", "sources", "alerts", "share_of_search"):
        at = open_page(page)
        assert "`listening " in infos(at), page  # points at a command to run
    at = open_page("needs_reply")
    assert "Nothing waiting" in at.success[0].value


def test_window_follows_old_data_only_when_needed():
    from datetime import datetime, timedelta, timezone
    utc = timezone.utc
    now = datetime(2026, 1, 10, 12, 0, 30, tzinfo=utc)
    old = (datetime(2015, 2, 1, tzinfo=utc), datetime(2015, 2, 24, 11, tzinfo=utc))
    w = dashboard.resolve_window("Last 7 days", old, now)  # whole days, ending after the newest
    assert (w.since, w.until, w.followed) == (datetime(2015, 2, 18, tzinfo=utc),
                                              datetime(2015, 2, 25, tzinfo=utc), old[1])
    w = dashboard.resolve_window("Last 24 hours", old, now)
    assert (w.since, w.until) == (old[1] + timedelta(hours=1) - timedelta(days=1), old[1] + timedelta(hours=1))
    fresh = (old[0], now - timedelta(hours=3))
    w = dashboard.resolve_window("Last 7 days", fresh, now)
    assert w.followed is None and (w.since, w.until) == (datetime(2026, 1, 4, tzinfo=utc),
                                                         datetime(2026, 1, 11, tzinfo=utc))
    w = dashboard.resolve_window("All time", old, now)
    assert (w.since, w.until) == (old[0], datetime(2015, 2, 25, tzinfo=utc))


def test_needs_reply_queue_handle_and_correct(seeded):
    store, ids = seeded
    at = open_page("needs_reply")
    queue = at.dataframe[0].value
    assert list(queue["link"]) == [f"https://example.com/m/{i}" for i in NEEDS_REPLY]  # oldest first
    assert at.metric[0].value == "3"
    assert at.metric[1].value == "–"  # nobody has handled anything yet

    at.sidebar.text_input(key="who").input("dana").run()
    at.text_input(key="reply_note").input("answered by DM").run()
    at.button(key="reply_handled").click().run()
    assert not at.exception
    handled = store.mentions.get(ids[NEEDS_REPLY[0]])["handled"]
    assert (handled["by"], handled["note"]) == ("dana", "answered by DM")
    assert list(at.dataframe[0].value["link"]) == [f"https://example.com/m/{i}" for i in NEEDS_REPLY[1:]]
    assert at.metric[0].value == "2"
    assert at.metric[2].value == "1"
    assert at.metric[1].value != "–"

    # the oldest waiting one is now the United cancellation: call it neutral, issue Delay
    target = ids[NEEDS_REPLY[1]]
    before = store.mentions.get(target)
    at.selectbox(key="reply_sentiment").set_value("neutral")
    at.multiselect(key="reply_issues").set_value(["Delay"])
    at.button[-1].click().run()  # the form's submit button
    assert not at.exception
    after = store.mentions.get(target)
    assert after["sentiment"]["label"] == "neutral" and after["issues"] == ["Delay"]
    assert after["labels"]["sentiment"] == "neutral" and after["labels"]["by"] == "dana"
    assert after["correction"]["before"]["sentiment"] == before["sentiment"]["label"] == "negative"
    assert [e["action"] for e in store.feed.history(target)] == ["corrected"]
    by_brand = {r["brand"]: r["count"] for r in store.mentions.totals(("brand",))}
    united = {r["label"]: r["count"] for r in store.mentions.totals(("label",), brands=["United"])}
    assert united == {"positive": 1, "negative": 1, "neutral": 1}  # the rollups moved with it
    assert by_brand["United"] == 3


def test_alerts_acknowledge_and_resolve_record_who(seeded):
    store, _ = seeded
    alert_id = open_alert(store)
    at = open_page("alerts")
    assert [m.value for m in at.metric] == ["1", "0", "0"]
    assert at.dataframe[0].value.loc[0, "brand"] == "United"
    hourly = chart_data(at)  # 2 days before to 12 h after, hourly
    assert len(hourly) == 60 and hourly["mentions"].sum() == 1  # the one negative Delay mention
    at.toggle(key="alerts_band").set_value(True).run()
    band = chart_data(at, 1)  # rebuilt by the alert engine
    assert len(band) == 61 and (band["high"] >= band["expected"]).all()
    evidence = at.dataframe[1].value
    assert list(evidence["link"]) == ["https://example.com/m/1"]  # the negative Delay mention

    at.sidebar.text_input(key="who").input("sam").run()
    at.button(key="alerts_ack").click().run()
    assert not at.exception
    stored = store.alerts.get(alert_id)
    assert (stored["status"], stored["acknowledged_by"]) == ("acknowledged", "sam")
    assert [m.value for m in at.metric] == ["0", "1", "0"]
    assert "Acknowledged by **sam**" in at.markdown[-1].value or any(
        "Acknowledged by **sam**" in m.value for m in at.markdown)

    at.button(key="alerts_resolve").click().run()
    stored = store.alerts.get(alert_id)
    assert (stored["status"], stored["resolved_by"]) == ("resolved", "sam")
    assert [m.value for m in at.metric] == ["0", "0", "1"]


def test_share_of_search_empty_state(seeded):
    at = open_page("share_of_search")
    assert "No search data yet: run `listening trends`" in infos(at)


def test_share_of_search_ranking_and_gap(seeded):
    store, _ = seeded
    add_search_volume(store)
    at = open_page("share_of_search")
    at.selectbox(key="search_smoothing").set_value("none").run()
    assert not at.exception
    ranking = {m.label: m.value for m in at.metric}
    # the last complete week: United 60, JetBlue 22 -> 73.2% / 26.8%
    assert ranking == {"United": "73.2%", "JetBlue": "26.8%"}
    gap = at.dataframe[0].value.set_index("brand")
    assert gap.loc["United", "mentions"] == 3 and gap.loc["JetBlue", "mentions"] == 3
    assert gap.loc["United", "share_of_voice"] == pytest.approx(3 / 8)
    assert len(at.get("vega_lite_chart")) == 3


def test_password_login_gates_every_page_and_names_the_actor(seeded, tmp_path, monkeypatch):
    import yaml

    from listening.config import PACKAGED_DEMO

    store, _ = seeded
    raw = yaml.safe_load(PACKAGED_DEMO.read_text())
    raw["dashboard"] = {"auth": {"method": "password", "users": ["dana", "sam"]}}
    path = tmp_path / "listening.yaml"
    path.write_text(yaml.safe_dump(raw))
    monkeypatch.setenv("LISTENING_CONFIG", str(path))
    monkeypatch.setenv("LISTENING_DASHBOARD_PASSWORD", "s3cret")
    alert_id = open_alert(store)

    at = AppTest.from_file(APP, default_timeout=30).run()
    assert not at.exception and not at.dataframe  # nothing shown before signing in
    at.text_input[0].input("mallory")
    at.text_input[1].input("s3cret")
    at.button[0].click().run()
    assert "Wrong name or password." in [e.value for e in at.error]
    at.text_input[0].input("sam")
    at.text_input[1].input("wrong")
    at.button[0].click().run()
    assert not at.dataframe
    at.text_input[1].input("s3cret")
    at.button[0].click().run()
    assert not at.exception and at.dataframe  # the Live feed
    at.switch_page("views/alerts.py").run()
    at.button(key="alerts_ack").click().run()
    assert store.alerts.get(alert_id)["acknowledged_by"] == "sam"


def test_query_tester_shows_what_a_query_would_match(seeded):
    at = open_page("query_tester")
    assert any("Read as:" in c.value for c in at.caption)
    at.text_area(key="query_text_United").input("@united AND (delayed OR cancelled)").run()
    assert not at.exception
    values = {m.label: m.value for m in at.metric}
    # of the three United mentions, the delayed and the cancelled ones still match
    assert (values["Would match"], values["New matches"], values["Lost matches"]) == ("2", "0", "1")
    at.text_area(key="query_samples").input("@united my bag was delayed\n@united thanks!").run()
    assert list(at.dataframe[0].value["matches"]) == [True, False]
    at.text_area(key="query_text_United").input('@united AND ("unclosed').run()
    assert "Not a valid query" in at.error[0].value


def test_query_tester_saves_a_query_with_who_and_when_and_the_pipeline_uses_it(seeded, demo_config):
    store, _ = seeded
    from listening.ingest.pipeline import Pipeline
    from listening.models import RawMention

    at = open_page("query_tester")
    at.sidebar.text_input(key="who").input("dana").run()
    at.text_area(key="query_text_United").input('@united OR "big blue tail"').run()
    before = datetime.now(timezone.utc).replace(microsecond=0)
    at.button(key="query_save").click().run()
    assert not at.exception
    saved = store.brand_queries.current()["United"]
    assert saved["query"] == '@united OR "big blue tail"'
    assert saved["by"] == "dana" and before <= saved["at"] <= datetime.now(timezone.utc)
    assert [h["query"] for h in store.brand_queries.history("United")] == [saved["query"]]
    counts = Pipeline(store, demo_config).run([RawMention(
        source="t", source_kind="import", text="Flew on the big blue tail today", external_id="q1",
        published_at="2024-05-01T10:00:00Z")])
    assert counts.new == 1
    assert store.mentions.collection.find_one({"external_id": "q1"})["brands"] == ["United"]


def colour_domain(at: AppTest, index: int) -> list[str]:
    """The brand colour scale's domain of a chart (what its legend lists)."""
    import json

    spec = json.loads(at.get("vega_lite_chart")[index].proto.spec)
    layers = spec.get("layer") or [spec]
    return layers[0]["encoding"]["color"]["scale"]["domain"]


def test_share_of_search_draws_a_search_only_category_in_its_market(seeded, demo_config):
    """The real CSV exports (six running brands in Canada): not the configured airlines."""
    from listening.demo.trends import collect_exports

    store, _ = seeded
    collect_exports(store, demo_config, FIXTURES / "google_trends_exports_real")
    at = open_page("share_of_search")
    # the category comparing most terms comes first
    assert at.selectbox(key="search_category").options == ["running shoes", "online marketplaces"]
    drawn = set(chart_data(at)["brand"])
    assert len(drawn) == 6 and "New balance Running" in drawn
    assert set(colour_domain(at, 0)) == drawn and set(colour_domain(at, 1)) == drawn
    assert {m.label for m in at.metric} == drawn
    assert any(c.value.startswith("CA, 262 buckets") for c in at.caption)
    assert "search-only category" in infos(at)  # no share of voice to put beside it, and it says why
    [download] = at.get("download_button")  # the series as `listening export search` writes it
    assert download.proto.label == "Download as CSV"


def test_live_text_search_drives_the_chart_and_the_figures(seeded):
    at = open_page()
    at.text_input(key="live_text").input("delayed").run()
    assert [m.label for m in at.metric][:2] == ["Mentions matching the search", "Negative"]
    assert [m.value for m in at.metric][:2] == ["2", "100%"]  # the two "delayed" complaints
    assert chart_data(at)["count"].sum() == 2
    feed = at.dataframe[0].value
    assert list(feed.columns[:6]) == ["published", "sentiment", "brands", "text", "issues", "link"]
    assert feed["scored by"].iloc[0] in ("lexicon", "VADER lexicon", "learned model")


def test_live_opens_the_linked_mention(seeded):
    _, ids = seeded
    at = AppTest.from_file(APP, default_timeout=30)
    at.query_params["mention"] = ids[2]
    at.run()
    assert not at.exception
    shown = " ".join(m.value for m in at.markdown)
    assert "Linked mention" in shown
    assert "cancelled my flight, awful service" in " ".join(t.value for t in at.text)  # as text, never markdown
    at.button(key="linked_mention_close").click().run()
    assert "mention" not in at.query_params and "Linked mention" not in " ".join(m.value for m in at.markdown)

    missing = AppTest.from_file(APP, default_timeout=30)
    missing.query_params["mention"] = "no-such-id"
    missing.run()
    assert "No mention 'no-such-id' in this store" in missing.warning[0].value


def test_alert_link_selects_that_alert_and_acknowledge_keeps_it(seeded):
    store, _ = seeded
    first = open_alert(store, brand="JetBlue", issue="Delay", hours_before=3)
    linked = open_alert(store, brand="United", issue="Cancellation", hours_before=2)
    newest = open_alert(store, brand="United", issue="Delay", hours_before=1)
    at = AppTest.from_file(APP, default_timeout=30)
    at.switch_page("views/alerts.py")
    at.query_params["alert"] = linked
    at.run()
    assert not at.exception
    pick = at.selectbox(key="alerts_pick")
    assert pick.value == linked and at.subheader[0].value == "United · Cancellation"
    at.button(key="alerts_ack").click().run()
    pick = at.selectbox(key="alerts_pick")
    assert pick.value == linked and pick.format_func(pick.value).endswith("· acknowledged")
    assert store.alerts.get(linked)["status"] == "acknowledged"
    assert {store.alerts.get(i)["status"] for i in (first, newest)} == {"open"}
    assert at.query_params["alert"] == linked


def test_alert_chart_draws_only_the_firings_on_the_window_it_sums(seeded):
    """An alert that first fired on the 6 h window, then peaked on the 24 h one: the chart sums
    24 h, so its expectation diamonds are the 24 h firings only, and the caption says so."""
    from listening.alerts.detect import Finding
    from listening.alerts.lifecycle import grow

    store, _ = seeded
    alert = store.alerts.get(open_alert(store, brand="United", issue="Delay", hours_before=1))
    end = alert["window_end"] + timedelta(hours=1)
    grow(alert, Finding(rule="issue-negative", kind="issue_negative", brand="United", issue="Delay",
                        window_start=end - timedelta(hours=24), window_end=end, observed=40.0,
                        expected=12.0, score=6.0, severity="high"))
    store.alerts.save_growth(alert)
    at = AppTest.from_file(APP, default_timeout=30)
    at.switch_page("views/alerts.py")
    at.query_params["alert"] = alert["_id"]
    at.run()
    assert not at.exception
    import pyarrow as pa

    frames = [pa.ipc.open_stream(d.data.data).read_all().to_pandas()
              for d in at.get("vega_lite_chart")[0].proto.datasets]
    assert [list(frame["expected"]) for frame in frames if "expected" in frame] == [[12.0]]
    assert any("fired on that window (it also fired once on its 6 h window, not drawn)" in c.value
               for c in at.caption)


def test_sources_health_counts_trends_runs_by_their_points(seeded, demo_config):
    from listening.demo.trends import collect_exports

    store, _ = seeded
    collect_exports(store, demo_config, FIXTURES / "google_trends_exports_real")
    at = open_page("sources")
    sources = at.dataframe[0].value
    assert list(sources.columns[:4]) == ["source", "status", "last run", "items last run"]
    points = sources.set_index("source")["items last run"]
    assert points["Google Trends CSV exports: running shoes (CA)"] == 6 * 262  # points, not 0 items
    assert points["Google Trends CSV exports: online marketplaces (MY)"] == 3 * 72
    runs = chart_data(at)
    assert sorted(runs.loc[runs["unit"] == "points", "items"]) == [3 * 72, 6 * 262]


def test_needs_reply_says_why_in_words_and_recent_actions_show_text(seeded):
    store, ids = seeded
    at = open_page("needs_reply")
    why = set(", ".join(at.dataframe[0].value["why"]).split(", "))
    assert why and why <= {"asks a question", "asks us to act", "may leave us"}
    store.feed.correct(ids[2], "sam", sentiment="neutral")
    at = open_page("needs_reply")
    actions = at.dataframe[-1].value
    assert actions.loc[0, "mention"].startswith("@united you cancelled my flight")
    assert actions.loc[0, "change"] == "sentiment negative → neutral"


def test_voice_says_which_method_scored_the_sentiment(seeded):
    store, ids = seeded
    store.feed.correct(ids[0], "sam", sentiment="neutral")
    at = open_page("voice")
    note = next(c.value for c in at.caption if c.value.startswith("Sentiment scored by"))
    assert note == "Sentiment scored by lexicon (7), corrected by sam (1): the newest 8 mentions of the window."


def test_a_mention_naming_two_brands_shows_each_ones_sentiment_and_method():
    """Synthetic stored fields: the property is the wording of two brands' values."""
    from listening.app.mention import towards

    stored = {"brand_sentiment": {"United": {"label": "negative", "method": "model"},
                                  "JetBlue": {"label": "positive", "method": "lexicon"}}}
    assert towards(stored) == "towards JetBlue: positive (lexicon), United: negative (learned model)"
    assert towards({"brand_sentiment": {}}) == towards({}) == ""


def test_a_mention_link_is_never_empty_and_never_a_script():
    """Synthetic mentions: the fixtures' tweets have no URL at all, none has a javascript: one."""
    from listening.app.mention import link

    assert link({"_id": "a b/c", "url": None}) == "/live?mention=a%20b/c"
    assert link({"_id": "x", "url": "javascript:alert(1)"}) == "/live?mention=x"
    assert link({"_id": "x", "url": "https://example.com/m/1"}) == "https://example.com/m/1"


def test_a_store_that_cannot_be_used_is_one_line_on_the_page(tmp_path, monkeypatch):
    """Nothing listens at MONGO_URI: the page says so in one line, no traceback."""
    from harness.ports import free_port

    monkeypatch.setenv("MONGO_URI", f"mongodb://127.0.0.1:{free_port()}/?serverSelectionTimeoutMS=500")
    monkeypatch.setenv("LISTENING_DATA", str(tmp_path))
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert len(at.error) == 1, [e.value for e in at.error]
    assert at.error[0].value.startswith("The database cannot be used right now: cannot use MONGO_URI")
    assert "the database is unreachable" in at.error[0].value
