"""Server mode over Redis Streams: a publisher (``yuqing ingest ... --stream URL``) and
consumer-group workers (``yuqing worker``). See docs/server.md."""

from yuqing.streams.command import worker_command
from yuqing.streams.publisher import Publisher, PublishReport, publish_command
from yuqing.streams.url import StreamURL, parse_stream_url
from yuqing.streams.worker import Worker, WorkerReport

__all__ = [
    "PublishReport",
    "Publisher",
    "StreamURL",
    "Worker",
    "WorkerReport",
    "parse_stream_url",
    "publish_command",
    "worker_command",
]
