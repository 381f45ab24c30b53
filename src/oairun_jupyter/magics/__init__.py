"""The magics layer: `%%oai_run` and `%oai`, and the session they remember (server, assistant,
thread, runs). Registered by `load_ipython_extension` in the package's root."""

from ._line import run_line_command
from ._magics import OaiMagics, interpolate
from ._session import DEFAULT_ASSISTANT_NAME, Session

__all__ = ["OaiMagics", "interpolate", "run_line_command", "Session", "DEFAULT_ASSISTANT_NAME"]
