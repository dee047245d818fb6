"""Work a request leaves until its answer has been sent: the client does not wait for it, the process does it next."""

import functools
import logging
from collections.abc import Callable
from contextvars import ContextVar

logger = logging.getLogger(__name__)

# The work the request being answered leaves for after its answer; None outside `answered_first`.
_pending: ContextVar[list | None] = ContextVar("after_the_answer", default=None)


def after_the_answer(work: Callable[[], object]) -> None:
    """Run `work` once the answer of the request being served has been sent, in the same thread; at once outside one.

    For work the client does not wait for but that this process must still do, in order, before it serves its next
    request (the git history's commit). An error in it is logged: the answer has gone already.
    """
    pending = _pending.get()
    if pending is None:
        work()
    else:
        pending.append(work)


def answered_first(respond: Callable[[], object]):
    """Return `respond()`'s response, running the `after_the_answer` work it left when the response is closed.

    WSGI servers (gunicorn, Django's own) close a response once its body has been written to the client; the test
    client closes it before returning it.
    """
    pending = []
    token = _pending.set(pending)
    try:
        response = respond()
    except BaseException:
        # No answer will be closed: the work left (a committed version's git commit) runs now instead of never.
        _pending.reset(token)
        _run(pending)
        raise
    _pending.reset(token)
    if pending:
        response._resource_closers.append(functools.partial(_run, pending))
    return response


def _run(pending: list) -> None:
    for work in pending:
        try:
            work()
        except Exception:  # response.close() would swallow it silently
            logger.exception("Work left for after the answer failed")
