"""How the events table stores envelopes: packed into one binary, and still read as written before packing."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime
from typing import Any

from horizon.dynamodb import deflate, layout
from horizon.dynamodb.streams import decode_record
from horizon.events import Event, Metadata
from horizon.local.poller import as_lambda_record

META = Metadata(correlation_id="c", causation_id="c", command="Tick", command_id=None)


def events_of(aggregate: uuid.UUID, count: int, **data: Any) -> list[Event]:
    return [
        Event(aggregate_type="Thing", aggregate_id=aggregate, version=v, type="Ticked", data=data, metadata=META)
        for v in range(1, count + 1)
    ]


def tip(aggregate: uuid.UUID, events: list[Event], attribute: dict[str, Any]) -> dict[str, Any]:
    return {
        "pk": {"S": layout.stream_key("Thing", aggregate)},
        "sk": {"N": layout.TIP_SORT_KEY},
        layout.VERSION: {"N": str(events[-1].version)},
        layout.FIRST: {"N": str(events[-1].version)},
        layout.EVENTS: attribute,
    }


def test_packed_envelopes_decode_to_the_events_whether_the_binary_is_bytes_or_base64_text() -> None:
    aggregate = uuid.uuid4()
    events = events_of(aggregate, 3, note="Zoë")
    attribute = layout.packed([layout.encode_event(e) for e in events])
    as_api = tip(aggregate, events, attribute)
    as_lambda = tip(aggregate, events, {"B": base64.b64encode(attribute["B"]).decode()})
    assert layout.decode_events(as_api, 3) == events
    assert layout.decode_events(as_lambda, 3) == events


def test_an_item_written_before_packing_still_decodes_to_its_events() -> None:
    aggregate = uuid.uuid4()
    events = events_of(aggregate, 2)
    legacy = tip(aggregate, events, {"L": [{"S": layout.encode_event(e)} for e in events]})
    assert layout.decode_events(legacy, 2) == events
    assert layout.preceding_types(legacy) == {1: "Ticked"}


def test_a_newline_inside_an_events_data_survives_packing() -> None:
    aggregate = uuid.uuid4()
    events = events_of(aggregate, 2, text="line one\nline two\n")
    packed = tip(aggregate, events, layout.packed([layout.encode_event(e) for e in events]))
    assert layout.decode_events(packed, 2) == events


def test_envelopes_of_one_aggregate_pack_to_less_than_half_their_bytes() -> None:
    # Like an invitation's: random ids and times, repeated field names, command and actor.
    aggregate = uuid.uuid4()
    events = [
        Event(
            aggregate_type="Invitation",
            aggregate_id=aggregate,
            version=v,
            type=kind,
            timestamp=datetime.now(UTC),
            metadata=Metadata(
                correlation_id=command_id,
                causation_id=command_id,
                command=command,
                command_id=command_id,
                actor={"subject": str(uuid.uuid4()), "roles": ["guests"]},
            ),
        )
        for v, (kind, command, command_id) in enumerate(
            [
                ("InviteCreated", "CreateInvite", str(uuid.uuid4())),
                ("InviteAccepted", "AcceptInvite", str(uuid.uuid4())),
                ("InviteConfirmed", "ConfirmInvite", str(uuid.uuid4())),
            ],
            1,
        )
    ]
    bodies = [layout.encode_event(e) for e in events]
    assert len(layout.packed(bodies)["B"]) < sum(len(body.encode()) for body in bodies) / 2


def test_a_stream_record_in_lambdas_json_carries_the_binary_as_base64_and_decodes_to_the_same_commit() -> None:
    aggregate = uuid.uuid4()
    events = events_of(aggregate, 2)
    image = tip(aggregate, events, layout.packed([layout.encode_event(e) for e in events]))
    keys = {"pk": image["pk"], "sk": image["sk"]}
    api_record = {"eventName": "MODIFY", "dynamodb": {"Keys": keys, "NewImage": image}}
    record = as_lambda_record(api_record, "arn:stream")
    json.dumps(record)  # Lambda's event is JSON: the API's bytes would not serialise
    assert isinstance(record["dynamodb"]["NewImage"][layout.EVENTS]["B"], str)
    assert decode_record(record) == decode_record(api_record) == events[-1:]
    assert as_lambda_record(record, "arn:stream") == record  # already in Lambda's shape: unchanged


def test_a_tip_is_read_with_one_inflate_and_only_its_commit_becomes_events(monkeypatch: Any) -> None:
    aggregate = uuid.uuid4()
    events = events_of(aggregate, 5)
    image = tip(aggregate, events, layout.packed([layout.encode_event(e) for e in events]))
    image[layout.FIRST] = {"N": "4"}  # the commit wrote versions 4 and 5; the tip still holds 1 to 3
    inflates: list[int] = []
    built: list[int] = []
    real_inflate, real_decode = deflate.inflated, layout.decode_event

    def inflate(value: dict[str, Any]) -> str:
        inflates.append(1)
        return real_inflate(value)

    def decode(body: str, *position: Any) -> Event:
        built.append(position[-1])
        return real_decode(body, *position)

    monkeypatch.setattr(layout, "inflated", inflate)
    monkeypatch.setattr(layout, "decode_event", decode)
    commit, earlier = layout.read_tip(image)
    assert commit == events[3:]
    assert earlier == {1: "Ticked", 2: "Ticked", 3: "Ticked"}
    assert inflates == [1]
    assert built == [4, 5]  # no Event is built for what the tip held before the commit


def test_a_tip_holding_only_the_end_of_its_commit_numbers_those_events_from_its_version() -> None:
    aggregate = uuid.uuid4()
    events = events_of(aggregate, 6)
    # A commit of versions 2..6 whose first events moved into a batch item: the tip holds 5 and 6 only.
    image = tip(aggregate, events, layout.packed([layout.encode_event(e) for e in events[4:]]))
    image[layout.FIRST] = {"N": "2"}
    assert layout.read_tip(image) == (events[4:], {})
