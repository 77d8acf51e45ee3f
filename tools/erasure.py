"""Erasing one person (a phone number), one call or one campaign from the stack: finding every item
and object that holds it, deleting each with all its versions, and keeping an audit record.

What is found, for each subject:
- items: a phone number through the `byPhoneNumber` index (the contact's side), then a scan of the
  calls table for the number on either side (`NUMBER_ATTRIBUTES`: `phoneNumber`, `dnis`,
  `fromNumber`, `toNumber`), which also finds items the sparse index leaves out; a call by its
  key; a campaign through `byCampaign`, a scan for items without `callStart`, and its own item;
- S3 objects of those items (`objects_of`): each call's recordings folder and the keys its
  entries name;
- archived bodies (`rejected/`, `unstored/`) through the archive index, by phone number (keyed
  hash), by the call id of every item found, or by campaign id; each body's own `links` metadata
  names every marker that points at it. `deep` also reads every archived body, for bodies that
  could never be read (so were never indexed), and looks for the number inside items' `raw`.

Everything is deleted with all its versions and delete markers (S3 User Guide, "Deleting object
versions from a versioning-enabled bucket": only DELETE with a versionId removes a version).
"""

from __future__ import annotations

import contextlib
import json
import re
import uuid
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from boto3.dynamodb.types import TypeDeserializer
from botocore.exceptions import ClientError

from functions.adapters.archive import (
    CONTENT_ENCODING_METADATA,
    LINKS_METADATA,
    RECEIVED_AT_METADATA,
    archived_key_of,
    index_prefix,
    marker_key,
)
from functions.adapters.dynamodb import serialize
from functions.names import (
    ARCHIVE_PREFIXES,
    NO_CAMPAIGN,
    NUMBER_ATTRIBUTES,
    CallAttribute,
    CallsTable,
    CampaignsTable,
    Item,
    Prefix,
    RecordingEntry,
)
from functions.postback.body import read_postback
from functions.postback.delivery import JSON, delivery_items, read_webhook
from functions.recordings.naming import key_segment
from functions.reports import ReportRejected
from functions.reports.items import ReportItem
from functions.reports.links import (
    LinkKind,
    call_link,
    campaign_link,
    canonical_phone,
    id_hash,
    keyed_hash,
    links_of,
    phone_link,
    phone_variants,
)
from tools.progress import Progress
from tools.target import Target, items

NOT_ERASED = (
    "point-in-time recovery of both tables: every item stays restorable for 35 days after it "
    "changed or was deleted (a restore into a new table brings it back)",
    "DynamoDB Streams records (kept 24 hours), the events published from them (with numbers, "
    "texts and notes) and kept in the event bus's archive for eventArchiveDays (30 by default; "
    "an archive cannot drop single events), and what other consumers received from the bus",
    "CloudWatch Logs: the functions never write phone numbers or message texts there (a test "
    "checks every log line), so there is nothing of the person to erase",
    "copies outside this stack: CallFire's own records, exports, e-mails or downloads",
    "a report CallFire delivers again after this erasure (a retry of an earlier 503): run the "
    "same erasure again once CallFire stops retrying",
)
"""What this tool cannot reach, said plainly on every run and in every audit record."""
DELETE_BATCH = 1000
"""S3 DeleteObjects takes at most 1000 keys per request."""
MAX_READ_BYTES = 16 * 1024 * 1024
"""How much of an archived body `deep` inflates (bodies refused as gzip bombs are archived too)."""
ItemKey = tuple[str, frozenset[tuple[str, str]]]
"""A table name and an item's key."""
_deserializer = TypeDeserializer()


class ErasureIncomplete(Exception):
    """S3 refused to delete some versions; what was deleted before stays deleted."""


@dataclass(frozen=True)
class Subject:
    kind: LinkKind
    value: str

    def audit_hash(self, salt: str | None) -> str | None:
        """How the audit record names the subject: keyed with the salt, never in clear. A phone
        number without the salt gets no name at all (an unkeyed hash of it could be reversed)."""
        if salt is not None:
            value = canonical_phone(self.value) if self.kind is LinkKind.PHONE else self.value
            return keyed_hash(salt, self.kind, value)
        return None if self.kind is LinkKind.PHONE else id_hash(self.kind, self.value)


@dataclass(frozen=True)
class Options:
    exact: bool = False
    """Match the number only as written (no other spellings)."""
    index_only: bool = False
    """Skip the table scans: faster, but the other side of a call and items without
    `callStart` are not found."""
    deep: bool = False
    """Also read every archived body, and look for the number inside items' `raw`."""


@dataclass(frozen=True)
class StoredItem:
    table: str
    key: dict[str, str]
    attributes: dict[str, Any]

    def describe(self) -> str:
        order = (CallsTable.PARTITION_KEY, CallsTable.SORT_KEY, CampaignsTable.PARTITION_KEY)
        return " ".join(self.key[name] for name in order if name in self.key)


@dataclass
class Plan:
    subject: Subject
    options: Options
    items: list[StoredItem] = field(default_factory=list)
    object_places: list[str] = field(default_factory=list)
    """Recording folders (ending in `/`) and exact keys that hold the items' objects."""
    archived_bodies: list[str] = field(default_factory=list)
    markers: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.items or self.object_places or self.archived_bodies or self.markers)


def objects_of(item: Mapping[str, Any]) -> list[str]:
    """Every S3 place that holds part of an item: its body when kept in the bucket (`raw/`), and
    for a call its recordings folder (also for a copy that landed without its entry being marked)
    and each key its entries name. Another kind of object kept beside an item is one more line
    here."""
    places = [str(item[Item.RAW_S3_KEY])] if item.get(Item.RAW_S3_KEY) else []
    if CallsTable.PARTITION_KEY not in item:
        return places
    campaign = key_segment(item.get(CallAttribute.CAMPAIGN_ID), NO_CAMPAIGN)
    call = key_segment(item[CallsTable.PARTITION_KEY], "_")
    places.append(f"{Prefix.RECORDINGS}{campaign}/{call}/")
    places += [
        str(entry[RecordingEntry.S3_KEY])
        for entry in item.get(CallAttribute.RECORDINGS, [])
        if isinstance(entry, dict) and entry.get(RecordingEntry.S3_KEY)
    ]
    return places


def links_to_search(subject: Subject, found: Sequence[StoredItem], salt: str | None) -> list[str]:
    """The archive index folders that may hold the subject's bodies: its own link, and the call
    of every item found (a conflicting delivery of a call is archived under its call id)."""
    links = []
    if subject.kind is LinkKind.PHONE:
        if salt is not None:
            links.append(phone_link(salt, subject.value))
    elif subject.kind is LinkKind.CALL:
        links.append(call_link(subject.value))
    else:
        links.append(campaign_link(subject.value))
    links += [
        call_link(str(item.attributes[CallsTable.PARTITION_KEY]))
        for item in found
        if CallsTable.PARTITION_KEY in item.attributes
    ]
    return list(dict.fromkeys(links))


def needles(subject: Subject, options: Options) -> list[re.Pattern[str]]:
    """What marks an archived body as the subject's when it is read: a number in any of its
    spellings, not inside a longer number; an id as a whole token."""
    if subject.kind is LinkKind.PHONE:
        spellings = (subject.value,) if options.exact else phone_variants(subject.value)
        return [re.compile(rf"(?<!\d){re.escape(spelling)}(?!\d)") for spelling in spellings]
    return [re.compile(rf"(?<![\w.-]){re.escape(subject.value)}(?![\w.-])")]


class Eraser:
    def __init__(
        self,
        target: Target,
        *,
        salt: str | None,
        progress: Callable[[str, int], Progress] = Progress,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        if target.bucket is None:
            raise ValueError("the target names no bucket")
        self._target = target
        self.bucket: str = target.bucket
        self._salt = salt
        self._progress = progress
        self._clock = clock
        self._dynamodb = target.client("dynamodb")
        self._s3 = target.client("s3")

    # Finding.

    def plan(self, subject: Subject, options: Options) -> Plan:
        plan = Plan(subject, options)
        keys = self._item_keys(subject, options)
        plan.items = [
            found
            for table, key in sorted(keys, key=lambda k: (k[0], sorted(k[1])))
            if (found := self._get(table, dict(key))) is not None
        ]
        if subject.kind is LinkKind.CAMPAIGN:
            plan.object_places.append(
                f"{Prefix.RECORDINGS}{key_segment(subject.value, NO_CAMPAIGN)}/"
            )
        if subject.kind is LinkKind.CALL:
            plan.object_places += self._recording_folders_of_call(subject.value)
        for item in plan.items:
            plan.object_places += objects_of(item.attributes)
        plan.object_places = _without_nested(plan.object_places)
        if subject.kind is LinkKind.PHONE and self._salt is None:
            plan.notes.append(
                "the hash salt could not be read: archived bodies are found by the call ids of "
                "the items only (add --deep to read every archived body)"
            )
        markers = self._index_markers(links_to_search(subject, plan.items, self._salt))
        bodies = {archived_key_of(marker) for marker in markers}
        if options.deep:
            bodies |= self._bodies_mentioning(needles(subject, options))
        plan.archived_bodies = sorted(bodies)
        left_markers, raw_copies = self._left_by(bodies, plan.items)
        plan.markers = sorted(markers | left_markers)
        plan.object_places = _without_nested([*plan.object_places, *sorted(raw_copies)])
        return plan

    def _item_keys(self, subject: Subject, options: Options) -> set[ItemKey]:
        calls = self._target.calls_table
        if subject.kind is LinkKind.CALL:
            return self._keys(calls, self._query_table(calls, subject.value))
        if subject.kind is LinkKind.CAMPAIGN:
            found = self._keys(
                calls,
                self._query_index(
                    CallsTable.BY_CAMPAIGN, CallAttribute.CAMPAIGN_ID, {subject.value}
                ),
            )
            if not options.index_only:
                found |= self._keys(
                    calls, self._scan(calls, {CallAttribute.CAMPAIGN_ID: [subject.value]})
                )
            campaign_key = {CampaignsTable.PARTITION_KEY: subject.value}
            return found | {(self._target.campaigns_table, frozenset(campaign_key.items()))}
        spellings = (subject.value,) if options.exact else phone_variants(subject.value)
        found = self._keys(
            calls,
            self._query_index(CallsTable.BY_PHONE_NUMBER, CallAttribute.PHONE_NUMBER, spellings),
        )
        if not options.index_only:
            attributes = {name: list(spellings) for name in NUMBER_ATTRIBUTES}
            raw_contains = list(spellings) if options.deep else []
            found |= self._keys(calls, self._scan(calls, attributes, raw_contains))
        return found

    @staticmethod
    def _keys(table: str, found: Iterable[dict[str, Any]]) -> set[ItemKey]:
        """The calls-table keys of `found` (index entries and scan pages carry them)."""
        names = (CallsTable.PARTITION_KEY, CallsTable.SORT_KEY)
        return {(table, frozenset((name, str(item[name])) for name in names)) for item in found}

    def _query_table(self, table: str, call_id: str) -> Iterator[dict[str, Any]]:
        return items(
            self._dynamodb,
            "query",
            TableName=table,
            KeyConditionExpression="#k = :v",
            ExpressionAttributeNames={"#k": CallsTable.PARTITION_KEY},
            ExpressionAttributeValues={":v": {"S": call_id}},
        )

    def _query_index(
        self, index: str, attribute: str, values: Iterable[str]
    ) -> Iterator[dict[str, Any]]:
        for value in values:
            yield from items(
                self._dynamodb,
                "query",
                TableName=self._target.calls_table,
                IndexName=index,
                KeyConditionExpression="#k = :v",
                ExpressionAttributeNames={"#k": attribute},
                ExpressionAttributeValues={":v": {"S": value}},
            )

    def _scan(
        self,
        table: str,
        attributes: Mapping[str, Sequence[str]],
        raw_contains: Sequence[str] = (),
    ) -> Iterator[dict[str, Any]]:
        """Items where any of `attributes` holds one of its values (or `raw` contains one of
        `raw_contains`): a whole-table scan, shown with a progress bar."""
        names: dict[str, str] = {"#pk": CallsTable.PARTITION_KEY, "#sk": CallsTable.SORT_KEY}
        values: dict[str, Any] = {}
        clauses = []
        for n, (attribute, wanted) in enumerate(attributes.items()):
            names[f"#a{n}"] = attribute
            placeholders = []
            for value in wanted:
                placeholder = f":v{len(values)}"
                values[placeholder] = {"S": value}
                placeholders.append(placeholder)
            clauses.append(f"#a{n} IN ({', '.join(placeholders)})")
        if raw_contains:
            names["#raw"] = Item.RAW
            for value in raw_contains:
                placeholder = f":v{len(values)}"
                values[placeholder] = {"S": value}
                clauses.append(f"contains(#raw, {placeholder})")
        total = self._dynamodb.describe_table(TableName=table)["Table"].get("ItemCount", 0)
        bar = self._progress(f"scan {table}", int(total))
        pages = self._dynamodb.get_paginator("scan").paginate(
            TableName=table,
            FilterExpression=" OR ".join(clauses),
            ProjectionExpression="#pk, #sk",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )
        for page in pages:
            bar.step("scanned", int(page.get("ScannedCount", 0)))
            for item in page.get("Items", []):
                yield {name: _deserializer.deserialize(value) for name, value in item.items()}
        bar.finish()

    def _get(self, table: str, key: dict[str, str]) -> StoredItem | None:
        response = self._dynamodb.get_item(TableName=table, Key=serialize(key), ConsistentRead=True)
        if "Item" not in response:
            return None
        attributes = {
            name: _deserializer.deserialize(value) for name, value in response["Item"].items()
        }
        return StoredItem(table, key, attributes)

    def _index_markers(self, links: Sequence[str]) -> set[str]:
        """Every marker under the links' folders of every archive (a marker may outlive its
        body: it is erased all the same)."""
        return {
            marker
            for link in links
            for archive_prefix in ARCHIVE_PREFIXES
            for marker in self._list(f"{index_prefix(archive_prefix)}{link}/")
        }

    def _bodies_mentioning(self, patterns: Sequence[re.Pattern[str]]) -> set[str]:
        keys = [key for prefix in ARCHIVE_PREFIXES for key in self._list(prefix)]
        bar = self._progress("read archived bodies", len(keys))
        found = set()
        for key in keys:
            archived = self._s3.get_object(Bucket=self.bucket, Key=key)
            text = _as_text(archived["Body"].read(), archived.get("Metadata", {}))
            if any(pattern.search(text) for pattern in patterns):
                found.add(key)
                bar.step("mentions it")
            else:
                bar.step("does not")
        bar.finish()
        return found

    def _left_by(
        self, bodies: Iterable[str], found: Sequence[StoredItem]
    ) -> tuple[set[str], set[str]]:
        """What each archived body left elsewhere: its index markers, and the copy of its text in
        `raw/` a conflicting delivery of a large body leaves. A body found by its call id takes
        its phone-number markers with it: their names come from its `links` metadata, from its
        own text read again (the phone links need the salt, which the archive may not have had
        time for) and from the numbers of the items found."""
        numbers = [
            str(value)
            for item in found
            for name in NUMBER_ATTRIBUTES
            if (value := item.attributes.get(name))
        ]
        markers: set[str] = set()
        copies: set[str] = set()
        for body in bodies:
            try:
                archived = self._s3.get_object(Bucket=self.bucket, Key=body)
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") not in ("404", "NoSuchKey"):
                    raise
                continue
            metadata = archived.get("Metadata", {})
            names = set(metadata.get(LINKS_METADATA, "").split())
            if self._salt is not None:
                names |= {phone_link(self._salt, number) for number in numbers}
            for item in _read_again(
                body, archived["Body"].read(), metadata, archived["LastModified"]
            ):
                names |= set(links_of(item).names(self._salt))
                if item.attributes.get(Item.RAW_S3_KEY):
                    copies.add(str(item.attributes[Item.RAW_S3_KEY]))
            markers |= {marker_key(body, name) for name in names}
        return (
            {marker for marker in markers if self._exists(marker)},
            {copy for copy in copies if self._exists(copy)},
        )

    def _exists(self, key: str) -> bool:
        listing = self._s3.list_object_versions(Bucket=self.bucket, Prefix=key, MaxKeys=10)
        entries = [*listing.get("Versions", []), *listing.get("DeleteMarkers", [])]
        return any(entry["Key"] == key for entry in entries)

    def _recording_folders_of_call(self, call_id: str) -> list[str]:
        """The call's recordings folder under every campaign folder: found even when its items
        are gone (a copy that landed after an earlier erasure)."""
        call = key_segment(call_id, "_")
        pages = self._s3.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=Prefix.RECORDINGS, Delimiter="/"
        )
        campaigns = [entry["Prefix"] for page in pages for entry in page.get("CommonPrefixes", [])]
        return [f"{campaign}{call}/" for campaign in campaigns if self._list(f"{campaign}{call}/")]

    def _list(self, prefix: str) -> list[str]:
        pages = self._s3.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=prefix
        )
        return [entry["Key"] for page in pages for entry in page.get("Contents", [])]

    # Erasing.

    def execute(self, plan: Plan) -> Counter[str]:
        """Objects first, then items: a run cut short is run again and finds the items, and
        through them whatever objects are left. Raises ErasureIncomplete."""
        erased: Counter[str] = Counter()
        places = [
            *(("recordings", place) for place in plan.object_places),
            *(("archived bodies", key) for key in plan.archived_bodies),
            *(("index markers", key) for key in plan.markers),
        ]
        bar = self._progress("erase", len(places) + len(plan.items))
        for kind, place in places:
            objects, versions = self.delete_every_version(place)
            erased[kind] += objects
            erased["object versions"] += versions
            bar.step(kind)
        for item in plan.items:
            self._dynamodb.delete_item(TableName=item.table, Key=serialize(item.key))
            erased["items"] += 1
            bar.step("items")
        bar.finish()
        for place in plan.object_places:
            objects, versions = self.delete_every_version(place)
            erased["recordings"] += objects
            erased["object versions"] += versions
        return erased

    def delete_every_version(self, place: str) -> tuple[int, int]:
        """Delete every version and delete marker of the key `place`, or of every key under it
        when it ends in `/`; how many keys and how many versions went."""
        exact = not place.endswith("/")
        doomed = []
        pages = self._s3.get_paginator("list_object_versions").paginate(
            Bucket=self.bucket, Prefix=place
        )
        for page in pages:
            for entry in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]:
                if exact and entry["Key"] != place:
                    continue
                doomed.append({"Key": entry["Key"], "VersionId": entry["VersionId"]})
        for start in range(0, len(doomed), DELETE_BATCH):
            response = self._s3.delete_objects(
                Bucket=self.bucket,
                Delete={"Objects": doomed[start : start + DELETE_BATCH], "Quiet": True},
            )
            if response.get("Errors"):
                codes = sorted({error.get("Code", "?") for error in response["Errors"]})
                raise ErasureIncomplete(
                    f"S3 kept {len(response['Errors'])} versions under {place} ({', '.join(codes)})"
                )
        return len({entry["Key"] for entry in doomed}), len(doomed)

    # The audit record.

    def record(self, plan: Plan, erased: Mapping[str, int], *, complete: bool) -> str:
        """Write the audit record of an erasure under `erasures/`; its key. It names the subject
        by keyed hash only and says what kinds of data went and how many."""
        when = self._clock()
        key = f"{Prefix.ERASURES}{when:%Y/%m/%d}/{when:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}.json"
        record = {
            "erasedAt": when.isoformat(),
            "complete": complete,
            "subject": {
                "kind": plan.subject.kind.value,
                "hash": plan.subject.audit_hash(self._salt),
            },
            "options": {
                "exact": plan.options.exact,
                "indexOnly": plan.options.index_only,
                "deep": plan.options.deep,
            },
            "erased": dict(sorted(erased.items())),
            "notes": plan.notes,
            "notErased": list(NOT_ERASED),
            "operator": self._operator(),
            "target": self._target.description,
        }
        self._s3.put_object(
            Bucket=self.bucket,
            Key=key,
            Body=json.dumps(record, indent=2).encode(),
            ContentType="application/json",
        )
        return key

    def history(self, subject: Subject | None = None) -> list[dict[str, Any]]:
        """Every audit record, oldest first; only the subject's when one is given."""
        wanted = subject.audit_hash(self._salt) if subject is not None else None
        found = []
        for key in self._list(Prefix.ERASURES):
            record = json.loads(self._s3.get_object(Bucket=self.bucket, Key=key)["Body"].read())
            if subject is None or (
                record["subject"]["kind"] == subject.kind.value
                and record["subject"]["hash"] == wanted
            ):
                found.append({"key": key, **record})
        return sorted(found, key=lambda record: record["erasedAt"])

    def _operator(self) -> str | None:
        try:
            arn: str = self._target.client("sts").get_caller_identity()["Arn"]
        except Exception:  # the record matters more than who wrote it
            return None
        return arn


def _without_nested(places: Sequence[str]) -> list[str]:
    """Folders once, and exact keys only when no folder listed holds them."""
    unique = list(dict.fromkeys(places))
    folders = [place for place in unique if place.endswith("/")]
    return [
        place
        for place in unique
        if place.endswith("/") or not any(place.startswith(folder) for folder in folders)
    ]


def _read_again(
    key: str, body: bytes, metadata: Mapping[str, str], last_modified: datetime
) -> list[ReportItem]:
    """The items an archived body makes with today's readers: a postback's one, or one per
    report of a v2 delivery (`.json`); none when it cannot be read."""
    encoding = metadata.get(CONTENT_ENCODING_METADATA) or (
        "gzip" if body.startswith(b"\x1f\x8b") else None
    )
    try:
        received_at = datetime.fromisoformat(metadata[RECEIVED_AT_METADATA])
    except (KeyError, ValueError):
        received_at = last_modified
    try:
        if key.endswith(f".{JSON}"):
            delivery = read_webhook(body, encoding, MAX_READ_BYTES)
            return delivery_items(delivery, received_at)
        _, item = read_postback(body, encoding, received_at, MAX_READ_BYTES)
    except ReportRejected:
        return []
    return [item] if item is not None else []


def _as_text(body: bytes, metadata: Mapping[str, str]) -> str:
    """An archived body as text, inflated (up to MAX_READ_BYTES) when it was sent gzip-encoded."""
    if metadata.get(CONTENT_ENCODING_METADATA) or body.startswith(b"\x1f\x8b"):
        with contextlib.suppress(zlib.error):
            body = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS).decompress(body, MAX_READ_BYTES)
    return body.decode("utf-8", errors="replace")
