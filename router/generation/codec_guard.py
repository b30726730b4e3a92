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
from collections.abc import Iterator
from contextlib import contextmanager

from router.errors import ErrorKind, ProxyError
from router.formats import FormatError
from router.logs import log_fields

log = logging.getLogger("router.codec")

# What a codec raises when it meets a shape it did not check for.
_UNFORESEEN_SHAPE = (TypeError, KeyError, AttributeError, IndexError, ValueError, RecursionError)


@contextmanager
def translating_client_request(stage: str, request_id: str) -> Iterator[None]:
    """Codec failures on a client's request as 400s; ``stage`` names the step in the log."""
    try:
        yield
    except FormatError as exc:
        raise ProxyError(400, exc.message, ErrorKind.INVALID_REQUEST) from None
    except _UNFORESEEN_SHAPE as exc:
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
        raise ProxyError(
            400,
            f"the request could not be translated ({stage}): a field has a shape this "
            f"router does not understand ({type(exc).__name__}); check the request against "
            "the API's schema",
            ErrorKind.INVALID_REQUEST,
        ) from None
