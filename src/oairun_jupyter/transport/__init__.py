"""The transport layer: configuration, the clock, the retry policy, sync and async HTTP transports,
the client that holds them, and the readers of an open event stream.

`get_client()` is the process-wide default; objects keep the client they came through.
"""

from ._client import Client, configure, get_client, oai_set_api_key, reset_default_client
from ._clock import SYSTEM_CLOCK, Clock
from ._config import DEFAULT_BASE_URL, ClientConfig, Timeouts, config_from_env, environment_key_for
from ._event_stream import AsyncEventStream, EventStream
from ._http import AsyncTransport, Response, SyncTransport
from ._retry import INITIAL_DELAY, MAX_DELAY, retry_delay, should_retry_status

__all__ = [
    "Client", "configure", "get_client", "oai_set_api_key", "reset_default_client",
    "Clock", "SYSTEM_CLOCK", "ClientConfig", "Timeouts", "DEFAULT_BASE_URL", "config_from_env",
    "environment_key_for",
    "EventStream", "AsyncEventStream", "SyncTransport", "AsyncTransport", "Response",
    "retry_delay", "should_retry_status", "INITIAL_DELAY", "MAX_DELAY",
]
