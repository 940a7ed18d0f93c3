"""A plan's checks: ids, rule queries (with the parser's column), sources, intervals,
regions, channels, secrets refused; its dict form round-trips."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.plans.conftest import plan_settings
from yuqing.plans.guard import PlanSecretError, refuse_secrets
from yuqing.plans.plan import PlanError, plan_from_dict
from yuqing.plans.rules import check_plan, effective_query, plan_monitor_rules


def _plan(**extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "校园食品安全",
        "rules": [{"name": "食堂", "query": "食堂 AND (过期 OR 变质)"}],
        "sources": [
            {"kind": "rss", "url": "https://edu.example.org/feed.xml", "interval": "15m"},
            {"kind": "files", "path": "/data/inbox/*.jsonl"},
            {"kind": "push", "name": "wechat-collector"},
        ],
    }
    data.update(extra)
    return data


def test_defaults_and_round_trip() -> None:
    plan = plan_from_dict(_plan(regions=["宁波市", "330200"], department="宣传处"))
    assert plan.id.startswith("plan-") and plan.rules[0].id == "r1"
    assert [s.kind for s in plan.sources] == ["rss", "files", "push"]
    assert plan.sources[1].interval == "15m"  # the default interval
    assert not plan.sources[2].polled and plan.sources[2].target == "wechat-collector"
    assert plan.sources[0].id.startswith("rss-")
    again = plan_from_dict(plan.as_dict())
    assert again.as_dict() == plan.as_dict()


def test_effective_query_adds_the_regions() -> None:
    plan = plan_from_dict(_plan(regions=["宁波市", "330200"]))
    assert effective_query(plan, plan.rules[0]) == (
        "食堂 AND (过期 OR 变质) AND (region:宁波市 OR region:330200)"
    )
    single = plan_from_dict(_plan(regions=["宁波市"], rules=[{"query": "食堂 OR 餐厅"}]))
    assert effective_query(single, single.rules[0]) == "(食堂 OR 餐厅) AND region:宁波市"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"rules": [{"query": "食堂 AND (过期"}]},
            "rules[1] (id 'r1'): query '食堂 AND (过期': column",
        ),
        ({"rules": [{"query": "x", "severity": "loud"}]}, "severity 'loud'"),
        ({"sources": [{"kind": "ftp", "url": "ftp://x"}]}, "kind 'ftp' is not one of"),
        ({"sources": [{"kind": "rss", "url": "edu.example.org/feed"}]}, "must be an http(s)"),
        (
            {"sources": [{"kind": "rss", "url": "https://a/f", "interval": "often"}]},
            "not a duration",
        ),
        ({"sources": [{"kind": "push"}]}, "a push source needs 'name'"),
        ({"id": "has space"}, "id 'has space' must be"),
        (
            {"rules": [{"id": "a", "query": "x"}, {"id": "a", "query": "y"}]},
            "rule id(s) a used twice",
        ),
        ({"colour": "red"}, "unknown field(s) colour"),
        ({"enabled": "yes"}, "'enabled' must be true or false"),
        ({"name": ""}, "missing required field 'name'"),
    ],
)
def test_bad_plans_say_what_and_where(change: dict[str, Any], message: str) -> None:
    with pytest.raises(PlanError) as caught:
        plan_from_dict(_plan(**change))
    assert message in str(caught.value)


def test_settings_checks(tmp_path: Path) -> None:
    settings = plan_settings(tmp_path)
    check_plan(plan_from_dict(_plan(notify=["duty"])), settings)
    with pytest.raises(PlanError, match=r"unknown channel id.*nobody.*configured.*duty"):
        check_plan(plan_from_dict(_plan(notify=["nobody"])), settings)
    fast = _plan(sources=[{"kind": "rss", "url": "https://a.example/f.xml", "interval": "10s"}])
    with pytest.raises(PlanError, match="shorter than \\[plans\\] min_interval"):
        check_plan(plan_from_dict(fast), settings)
    bad_trigger = _plan(rules=[{"query": "x", "triggers": [{"kind": "count"}]}])
    with pytest.raises(PlanError, match="missing required key 'threshold'"):
        check_plan(plan_from_dict(bad_trigger), settings)
    disabled = plan_from_dict(_plan(enabled=False))
    assert plan_monitor_rules(disabled, settings) == []
    (rule,) = plan_monitor_rules(plan_from_dict(_plan(id="p1", notify=["duty"])), settings)
    assert rule.id == "plan:p1:r1" and rule.channels == ("duty",)


@pytest.mark.parametrize(
    ("payload", "where"),
    [
        ({"smtp_password": "hunter2"}, "plan.smtp_password"),
        ({"notify": [{"kind": "webhook", "secret": "s"}]}, "plan.notify[0].secret"),
        ({"webhookSecret": "s"}, "plan.webhookSecret"),
        ({"apiKey": "k"}, "plan.apiKey"),
        ({"sources": [{"kind": "push", "name": "x", "token": "t"}]}, "plan.sources[0].token"),
        (
            {
                "sources": [
                    {"kind": "page", "url": "https://oapi.dingtalk.com/robot/send?access_token=abc"}
                ]
            },
            "plan.sources[0].url",
        ),
        (
            {"sources": [{"kind": "rss", "url": "https://user:pw@feeds.example.org/a.xml"}]},
            "plan.sources[0].url",
        ),
        ({"description": "-----BEGIN RSA PRIVATE KEY-----\nMII..."}, "plan.description"),
    ],
)
def test_secret_looking_fields_are_refused(payload: dict[str, Any], where: str) -> None:
    with pytest.raises(PlanSecretError) as caught:
        plan_from_dict(_plan(**payload))
    assert caught.value.path == where
    assert "never stored in a plan" in str(caught.value)
    assert "env:NAME" in str(caught.value)


def test_ordinary_fields_pass_the_guard() -> None:
    refuse_secrets(_plan(keywords=["key", "token"], author="x", description="密钥不在此处"))


@given(st.recursive(st.text(max_size=8), lambda inner: st.lists(inner, max_size=3), max_leaves=10))
def test_guard_never_crashes_on_texts(data: Any) -> None:
    with contextlib.suppress(PlanSecretError):
        refuse_secrets({"description": data})
