"""The erasure tool on moto built from the template: reports stored by the real postback handler
(items, a conflicting delivery in `rejected/`, an unstored body, index markers), recordings with
several versions and a delete marker, a v2 call (through the real webhooks handler) naming the
number on the other side; after
erasing the number nothing of it is left in the tables or the bucket, in any version, and what
belongs to other people is untouched."""

from __future__ import annotations

import io
import json
import random
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from boto3.dynamodb.types import TypeDeserializer

from functions.names import ARCHIVE_PREFIXES, Env, LocalEndpoint, Output, Prefix
from functions.reports.links import LinkKind, canonical_phone, keyed_hash, phone_link
from local.faults import failing
from tests.helpers import REGION, event_body, new_id, quiet, v2_body, v2_event
from tests.integration.conftest import PostbackClient, WebhookClient
from tools import erase
from tools.erasure import Eraser, Options, Subject
from tools.target import Target

_deserializer = TypeDeserializer()


def new_number() -> str:
    return f"555{random.randrange(10**7):07d}"  # noqa: S311 - a test's fresh number


def call_body(
    call_id: str, phone: str, *, dnis: str = "8778973473", sample: str = "call_finished.xml"
) -> bytes:
    return (
        event_body(sample)
        .replace(b"111111", call_id.encode())
        .replace(b"2132212289", phone.encode())
        .replace(b"8778973473", dnis.encode())
        .replace(b"88202", dnis.encode())
    )


def v2_call(call_id: str, phone: str, **changes: Any) -> bytes:
    """CallFire's sample outbound call as a v2 delivery, to `phone` (with its country code, as
    the v2 API writes numbers: the contact's own phones too)."""
    event = v2_event("outbound_call_finished.json", id=int(call_id), **changes)
    return v2_body(json.loads(json.dumps(event).replace("12132041238", f"1{phone}")))


@pytest.fixture
def target(postback: PostbackClient) -> Target:
    return Target(
        session=boto3.session.Session(region_name=REGION),
        endpoint_url=None,
        calls_table=postback.outputs[Output.CALLS_TABLE],
        campaigns_table=postback.outputs[Output.CAMPAIGNS_TABLE],
        bucket=postback.outputs[Output.BUCKET],
        recordings_queue=postback.function.environment[Env.RECORDINGS_QUEUE_URL],
        description="moto",
        hash_salt_secret=postback.outputs[Output.HASH_SALT_SECRET_ARN],
    )


@pytest.fixture
def salt(target: Target, aws: Callable[[str], Any]) -> str:
    value: str = aws("secretsmanager").get_secret_value(SecretId=target.hash_salt_secret)[
        "SecretString"
    ]
    return value


class Person:
    """Everything a person left in the stack, made through the real postback handler."""

    def __init__(
        self,
        postback: PostbackClient,
        webhooks: WebhookClient,
        aws: Callable[[str], Any],
        target: Target,
    ) -> None:
        self.phone = new_number()
        self.call_id = new_id()
        self.other_side_call = new_id()
        self.undated_call = new_id()
        self.unstored_call = new_id()
        self.v2_call = new_id()
        self._aws = aws
        self._target = target
        call = call_body(self.call_id, self.phone)
        answers = [
            postback.post(call),
            postback.post(call_body(self.call_id, self.phone, sample="text_sent.xml")),
            postback.post(call_body(self.call_id, self.phone, sample="text_reply.xml")),
            postback.post(call.replace(b"TRANSFER", b"BUSY")),
            postback.post(call_body(self.other_side_call, new_number(), dnis=self.phone)),
            postback.post(
                f"<call-finished><callid>{self.undated_call}</callid>"
                f"<phonenumber>{self.phone}</phonenumber></call-finished>".encode()
            ),
        ]
        assert [answer.body.get("status") for answer in answers] == [
            "stored",
            "stored",
            "stored",
            "conflict",
            "stored",
            "stored",
        ]
        with failing("dynamodb", "PutItem"):
            unstored = postback.post(call_body(self.unstored_call, self.phone))
        assert unstored.status == 503
        other_side = v2_call(self.v2_call, "2135550000", fromNumber=f"1{self.phone}")
        assert webhooks.post(other_side).body["status"] == "stored"
        self.recording_folder = f"recordings/22222/{self.call_id}/"
        self.put_versions(f"{self.recording_folder}0.wav")

    def put_versions(self, key: str) -> None:
        """Two versions and a delete marker on top: what a deleted recording leaves behind."""
        s3 = self._aws("s3")
        s3.put_object(Bucket=self._target.bucket, Key=key, Body=b"RIFF first")
        s3.put_object(Bucket=self._target.bucket, Key=key, Body=b"RIFF second")
        s3.delete_object(Bucket=self._target.bucket, Key=key)


def every_item(aws: Callable[[str], Any], table: str) -> Iterator[dict[str, Any]]:
    for page in aws("dynamodb").get_paginator("scan").paginate(TableName=table):
        for item in page["Items"]:
            yield {name: _deserializer.deserialize(value) for name, value in item.items()}


def every_version(aws: Callable[[str], Any], bucket: str) -> list[tuple[str, str, bytes]]:
    """(key, version id, body) of every version, and (key, version id, b"") of every marker."""
    found = []
    s3 = aws("s3")
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        for version in page.get("Versions", []):
            body = s3.get_object(Bucket=bucket, Key=version["Key"], VersionId=version["VersionId"])[
                "Body"
            ].read()
            found.append((version["Key"], version["VersionId"], body))
        found += [(m["Key"], m["VersionId"], b"") for m in page.get("DeleteMarkers", [])]
    return found


def traces(
    aws: Callable[[str], Any], target: Target, person: Person, salt: str
) -> dict[str, list[str]]:
    """Everything in the tables and the bucket that still holds the person's number or points
    at it: items, object keys or bodies in any version, index markers under their hash."""
    spellings = {person.phone, "1" + person.phone}
    items = [
        json.dumps(item, default=str)[:80]
        for table in (target.calls_table, target.campaigns_table)
        for item in every_item(aws, table)
        if any(spelling in json.dumps(item, default=str) for spelling in spellings)
    ]
    link = phone_link(salt, person.phone)
    objects = [
        f"{key} ({version})"
        for key, version, body in every_version(aws, str(target.bucket))
        if any(spelling.encode() in body or spelling in key for spelling in spellings)
        or f"/{link}/" in key
        or key.startswith(person.recording_folder)
    ]
    return {"items": items, "objects": objects}


@pytest.fixture
def person(
    postback: PostbackClient, webhooks: WebhookClient, aws: Callable[[str], Any], target: Target
) -> Person:
    return Person(postback, webhooks, aws, target)


def test_before_erasure_the_number_is_everywhere_the_test_expects(
    person: Person, aws: Callable[[str], Any], target: Target, salt: str
) -> None:
    """The check below must be able to fail: it sees every trace the person left."""
    found = traces(aws, target, person, salt)

    assert len(found["items"]) == 6
    kinds = {key.split("/")[0] for key in found["objects"]}
    assert kinds == {"rejected", "unstored", "archive-index", "recordings"}
    markers = [key for key in found["objects"] if key.startswith(Prefix.ARCHIVE_INDEX)]
    assert {marker.split("/")[1] for marker in markers} == {"rejected", "unstored"}


def test_erasing_a_number_leaves_nothing_of_it_in_the_tables_or_the_bucket(
    *,
    person: Person,
    postback: PostbackClient,
    webhooks: WebhookClient,
    aws: Callable[[str], Any],
    target: Target,
    salt: str,
) -> None:
    bystander = Person(postback, webhooks, aws, target)
    eraser = Eraser(target, salt=salt, progress=quiet)

    plan = eraser.plan(Subject(LinkKind.PHONE, person.phone), Options())
    erased = eraser.execute(plan)
    record_key = eraser.record(plan, erased, complete=True)

    assert traces(aws, target, person, salt) == {"items": [], "objects": []}
    assert erased["items"] == 6
    assert erased["archived bodies"] == 2
    assert erased["object versions"] >= 3 + 2 + 6
    bystander_traces = traces(aws, target, bystander, salt)
    assert len(bystander_traces["items"]) == 6
    assert any(key.startswith(bystander.recording_folder) for key in bystander_traces["objects"])
    record = aws("s3").get_object(Bucket=target.bucket, Key=record_key)["Body"].read()
    assert person.phone.encode() not in record
    assert json.loads(record)["subject"] == {
        "kind": "phone",
        "hash": keyed_hash(salt, LinkKind.PHONE, canonical_phone(person.phone)),
    }


def test_a_dry_run_lists_everything_and_changes_nothing(
    person: Person, aws: Callable[[str], Any], target: Target, salt: str
) -> None:
    before = every_version(aws, str(target.bucket))
    eraser = Eraser(target, salt=salt, progress=quiet)

    plan = eraser.plan(Subject(LinkKind.PHONE, "+1 " + person.phone), Options())

    assert {item.key["callId"] for item in plan.items} == {
        person.call_id,
        person.other_side_call,
        person.undated_call,
        person.v2_call,
    }
    assert person.recording_folder in plan.object_places
    assert {key.split("/")[0] for key in plan.archived_bodies} == {"rejected", "unstored"}
    assert every_version(aws, str(target.bucket)) == before


def test_the_index_alone_finds_only_the_contact_side_with_a_call_start(
    person: Person, target: Target, salt: str
) -> None:
    plan = Eraser(target, salt=salt, progress=quiet).plan(
        Subject(LinkKind.PHONE, person.phone), Options(index_only=True)
    )

    assert {item.key["callId"] for item in plan.items} == {person.call_id}


def test_erasing_a_call_takes_its_texts_recordings_and_archived_bodies(
    person: Person, aws: Callable[[str], Any], target: Target, salt: str
) -> None:
    eraser = Eraser(target, salt=salt, progress=quiet)

    plan = eraser.plan(Subject(LinkKind.CALL, person.call_id), Options())
    eraser.execute(plan)

    assert [item.key["eventType"] for item in plan.items] == ["call", "text-reply", "text-sent"]
    remaining = [key for key, _, _ in every_version(aws, str(target.bucket))]
    assert not [key for key in remaining if key.startswith(person.recording_folder)]
    (conflict,) = [key for key in plan.archived_bodies if key.startswith("rejected/")]
    assert conflict not in remaining
    assert not [marker for marker in plan.markers if marker in remaining]
    phone_markers = [marker for marker in plan.markers if "/phone/" in marker]
    assert phone_markers, "the body's own links name its phone markers too"


def test_a_deep_erasure_finds_an_unindexed_body_by_reading_it(
    person: Person, aws: Callable[[str], Any], target: Target, salt: str
) -> None:
    """A body archived before the index existed (or refused unread) has no markers."""
    key = f"{ARCHIVE_PREFIXES[0]}2020/01/01/{new_id()}.xml"
    aws("s3").put_object(Bucket=target.bucket, Key=key, Body=f"<x><n>{person.phone}</n>".encode())
    eraser = Eraser(target, salt=salt, progress=quiet)

    shallow = eraser.plan(Subject(LinkKind.PHONE, person.phone), Options())
    deep = eraser.plan(Subject(LinkKind.PHONE, person.phone), Options(deep=True))

    assert key not in shallow.archived_bodies
    assert key in deep.archived_bodies
    eraser.execute(deep)
    assert traces(aws, target, person, salt) == {"items": [], "objects": []}


def test_erasing_a_campaign_takes_its_item_and_every_call_in_it(
    postback: PostbackClient, aws: Callable[[str], Any], target: Target, salt: str
) -> None:
    campaign = new_id()
    call_id = new_id()
    postback.post(event_body("campaign_finished.xml").replace(b"22222", campaign.encode()))
    postback.post(call_body(call_id, new_number()).replace(b"22222", campaign.encode()))
    eraser = Eraser(target, salt=salt, progress=quiet)

    plan = eraser.plan(Subject(LinkKind.CAMPAIGN, campaign), Options())
    eraser.execute(plan)

    assert {item.table for item in plan.items} == {target.calls_table, target.campaigns_table}
    assert f"recordings/{campaign}/" in plan.object_places
    for table in (target.calls_table, target.campaigns_table):
        left = [
            item for item in every_item(aws, table) if campaign in json.dumps(item, default=str)
        ]
        assert left == []


@pytest.fixture
def endpoints(target: Target, tmp_path: Path) -> Path:
    """An endpoints file pointing the command line at the in-process moto (no endpoint URL)."""
    path = tmp_path / "endpoints.json"
    path.write_text(
        json.dumps(
            {
                LocalEndpoint.ENDPOINT_URL: None,
                LocalEndpoint.REGION: REGION,
                LocalEndpoint.CALLS_TABLE: target.calls_table,
                LocalEndpoint.CAMPAIGNS_TABLE: target.campaigns_table,
                LocalEndpoint.BUCKET: target.bucket,
                LocalEndpoint.HASH_SALT_SECRET: target.hash_salt_secret,
            }
        )
    )
    return path


def test_the_command_line_erases_writes_the_record_and_says_what_it_cannot_erase(
    person: Person,
    endpoints: Path,
    target: Target,
    salt: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    local = ["--endpoints", str(endpoints)]

    dry = erase.main([*local, "--phone", person.phone, "--dry-run"])
    refused = erase.main([*local, "--phone", person.phone], stdin=io.StringIO("erase\n"))
    done = erase.main(["--phone", person.phone, "--yes", *local])
    history = erase.main([*local, "--history", "--phone", person.phone])

    output = capsys.readouterr().out
    assert (dry, refused, done, history) == (0, 2, 0, 0)
    assert "Dry run: nothing was erased." in output
    assert "point-in-time recovery" in output
    assert "CloudWatch Logs" in output
    assert "audit record: s3://" in output
    assert traces(target.client, target, person, salt) == {"items": [], "objects": []}
    history_lines = output.split("erasedAt")[-1].splitlines()
    assert len([line for line in history_lines if "phone" in line]) == 1
    assert person.phone not in output.split("Erased:")[-1]


def test_a_recording_that_landed_after_its_call_was_erased_is_found_by_the_call_id(
    person: Person, aws: Callable[[str], Any], target: Target, salt: str
) -> None:
    eraser = Eraser(target, salt=salt, progress=quiet)
    eraser.execute(eraser.plan(Subject(LinkKind.CALL, person.call_id), Options()))
    late = f"{person.recording_folder}1.wav"
    aws("s3").put_object(Bucket=target.bucket, Key=late, Body=b"RIFF late")

    plan = eraser.plan(Subject(LinkKind.CALL, person.call_id), Options())
    eraser.execute(plan)

    assert plan.items == []
    assert plan.object_places == [person.recording_folder]
    assert not [key for key, _, _ in every_version(aws, str(target.bucket)) if key == late]


def test_bodies_kept_in_raw_go_with_their_items_and_with_conflicting_deliveries(
    postback: PostbackClient, aws: Callable[[str], Any], target: Target, salt: str
) -> None:
    """A report too large for its item keeps its body in `raw/`; a conflicting delivery of such a
    body leaves its own copy there beside the one in `rejected/`."""
    phone, call_id = new_number(), new_id()
    notes = ("a long conversation " * 4000).encode()
    large = call_body(call_id, phone).replace(
        b"notes that a call center campaign will add to a call.", notes
    )
    assert postback.post(large).body["status"] == "stored"
    assert postback.post(large.replace(b"TRANSFER", b"BUSY")).body["status"] == "conflict"
    raw_keys = [
        key
        for key, _, body in every_version(aws, str(target.bucket))
        if key.startswith(Prefix.RAW) and phone.encode() in body
    ]
    assert len(raw_keys) == 2
    eraser = Eraser(target, salt=salt, progress=quiet)

    plan = eraser.plan(Subject(LinkKind.PHONE, phone), Options())
    eraser.execute(plan)

    assert set(raw_keys) <= set(plan.object_places)
    spellings = (phone.encode(), f"1{phone}".encode())
    assert [
        key
        for key, _, body in every_version(aws, str(target.bucket))
        if any(spelling in body for spelling in spellings)
    ] == []


def test_v2_items_and_their_archived_deliveries_go_with_the_number(
    webhooks: WebhookClient, aws: Callable[[str], Any], target: Target, salt: str
) -> None:
    """A v2 call stored through the real webhooks handler, and a delivery of the same version
    with other content, kept in `rejected/` as a conflict: the archived delivery is indexed by
    the reports it holds, so erasing the number finds it. (Without the index the shallow
    erasure left that body behind.)"""
    phone, call_id = new_number(), new_id()
    assert webhooks.post(v2_call(call_id, phone)).body["status"] == "stored"
    assert webhooks.post(v2_call(call_id, phone, state="OTHER")).body["status"] == "conflict"
    spellings = (phone.encode(), f"1{phone}".encode())
    rejected = [
        key
        for key, _, body in every_version(aws, str(target.bucket))
        if key.startswith(Prefix.REJECTED) and any(spelling in body for spelling in spellings)
    ]
    assert len(rejected) == 1
    assert rejected[0].endswith(".json")
    eraser = Eraser(target, salt=salt, progress=quiet)

    plan = eraser.plan(Subject(LinkKind.PHONE, phone), Options())
    eraser.execute(plan)

    assert [item.key["callId"] for item in plan.items] == [call_id]
    assert plan.archived_bodies == rejected
    assert [
        key
        for key, _, body in every_version(aws, str(target.bucket))
        if any(spelling in body for spelling in spellings) or f"/{phone_link(salt, phone)}/" in key
    ] == []
    assert not [
        item
        for item in every_item(aws, target.calls_table)
        if any(s.decode() in json.dumps(item, default=str) for s in spellings)
    ]
