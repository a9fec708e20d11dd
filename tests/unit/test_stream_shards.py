"""Listing a stream's shards: every page of DescribeStream, for the local poller and `horizon tail` alike."""

from __future__ import annotations

from typing import Any

from horizon.dynamodb.streams import shard_ids

ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/events/stream/2026-12-04T00:00:00.000"


class PagedStreams:
    """DescribeStream as AWS answers a stream with many shards: a page at a time, LastEvaluatedShardId between."""

    def __init__(self, *pages: list[str]) -> None:
        self.pages = pages
        self.requests: list[dict[str, Any]] = []

    def describe_stream(self, **request: Any) -> dict[str, Any]:
        self.requests.append(request)
        index = len(self.requests) - 1
        description: dict[str, Any] = {"Shards": [{"ShardId": shard} for shard in self.pages[index]]}
        if index + 1 < len(self.pages):
            description["LastEvaluatedShardId"] = self.pages[index][-1]
        return {"StreamDescription": description}


def test_every_page_of_shards_is_listed_each_asked_for_after_the_last_shard_of_the_one_before() -> None:
    streams = PagedStreams(["shard-1", "shard-2"], ["shard-3"], ["shard-4"])

    assert shard_ids(streams, ARN) == ["shard-1", "shard-2", "shard-3", "shard-4"]
    assert streams.requests == [
        {"StreamArn": ARN},
        {"StreamArn": ARN, "ExclusiveStartShardId": "shard-2"},
        {"StreamArn": ARN, "ExclusiveStartShardId": "shard-3"},
    ]
