"""The boundary where handlers hand a client's request to a codec.

A codec says what is wrong with a request by raising ``FormatError`` (a 400 naming the
field). A request shaped in a way the codec did not foresee (``"properties": null`` in a
tool schema, say) may instead make it raise TypeError, KeyError and the like. That is
still the client's input failing translation, not a router fault: the client gets a 400
in its own format and the log one warning line naming where the codec gave way (no
traceback), so the codec can be taught to say it properly.
"""

from __future__ import annotations

import logging
import traceback
from types import TracebackType

from router.errors import ErrorKind, ProxyError
from router.formats import FormatError
from router.logs import log_fields

log = logging.getLogger("router.codec")

# What a codec raises when it meets a shape it did not check for.
_UNFORESEEN_SHAPE = (TypeError, KeyError, AttributeError, IndexError, ValueError, RecursionError)


class TranslatingClientRequest:
    """Codec failures on a client's request as 400s; ``stage`` names the step in the log.

    A class rather than a @contextmanager: it wraps every translated request, and a
    generator-based manager costs several times as much to enter and leave."""

    __slots__ = ("request_id", "stage")

    def __init__(self, stage: str, request_id: str) -> None:
        self.stage = stage
        self.request_id = request_id

    def __enter__(self) -> None:
        return None

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is None:
            return
        if isinstance(exc, FormatError):
            raise ProxyError(400, exc.message, ErrorKind.INVALID_REQUEST) from None
        if isinstance(exc, _UNFORESEEN_SHAPE):
            raise _unforeseen(exc, self.stage, self.request_id) from None


def _unforeseen(exc: BaseException, stage: str, request_id: str) -> ProxyError:
    frame = traceback.extract_tb(exc.__traceback__)[-1]
    log_fields(
        log,
        logging.WARNING,
        event="codec_fault",
        request_id=request_id,
        stage=stage,
        error=type(exc).__name__,
        at=f"{frame.filename.rsplit('/router/', 1)[-1]}:{frame.lineno}",
        detail=str(exc)[:200],
    )
    return ProxyError(
        400,
        f"the request could not be translated ({stage}): a field has a shape this "
        f"router does not understand ({type(exc).__name__}); check the request against "
        "the API's schema",
        ErrorKind.INVALID_REQUEST,
    )
