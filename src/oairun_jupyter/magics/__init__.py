"""The magics layer: `%%oai_run` and `%oai`, and the session they remember (server, assistant,
thread, runs). Registered by `load_ipython_extension` in the package's root."""

from ._interpolation import InterpolationError, interpolate
from ._line import run_line_command
from ._magics import OaiMagics
from ._session import DEFAULT_ASSISTANT_NAME, Session

__all__ = ["OaiMagics", "interpolate", "InterpolationError", "run_line_command", "Session", "DEFAULT_ASSISTANT_NAME"]
