"""The end-to-end load's reports: both routes, keys a v2 delivery can carry, and each report
signed for its route."""

from __future__ import annotations

import json

import pytest

from bench.load import Routes, make_reports
from functions.postback.signature import signature_of


def test_a_quarter_of_the_reports_are_signed_v2_deliveries_with_numeric_ids() -> None:
    reports = make_reports(100, run_id="7", v2_share=0.25)
    webhooks = [report for report in reports if report.webhook]

    assert len(webhooks) == 25
    assert len({report.key for report in reports}) == 100
    for report in webhooks:
        (event,) = json.loads(report.body)["events"]
        assert str(event["resource"]["id"]) == report.key
    assert {report.kind for report in webhooks} == {
        "OutboundCall",
        "OutboundText",
        "InboundText",
        "campaign",
    }


def test_each_report_goes_to_its_route() -> None:
    routes = Routes("http://h:1/postbacks?token=t", "http://h:1/webhooks", "s3cret")
    legacy, v2 = make_reports(4, run_id="7", v2_share=0.25)[2:4]

    assert routes.request(legacy) == ("/postbacks?token=t", {"Content-Type": "text/xml"})
    target, headers = routes.request(v2)
    assert target == "/webhooks"
    assert headers["X-CallFire-Signature"] == signature_of("s3cret", v2.body)


def test_a_run_id_with_a_leading_zero_is_refused_for_v2_deliveries() -> None:
    """As a number, a v2 id loses it, and the run's items would no longer begin with the run id
    (the bench counted every v2 report lost whenever the clock's digits began with 0)."""
    with pytest.raises(ValueError, match="leading zero"):
        make_reports(4, run_id="0123", v2_share=0.25)
    assert len(make_reports(4, run_id="0123")) == 4
