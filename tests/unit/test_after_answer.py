"""Work left for after the answer runs when the response is closed, or at once when there is no answer to wait for."""

import pytest
from django.http import HttpResponse

from registry.after_answer import after_the_answer, answered_first


def test_work_left_by_a_view_runs_when_its_response_is_closed():
    done = []

    def view():
        after_the_answer(lambda: done.append("commit"))
        return HttpResponse("answer")

    response = answered_first(view)
    assert done == []
    response.close()
    assert done == ["commit"]


def test_work_outside_a_view_runs_at_once():
    done = []
    after_the_answer(lambda: done.append("commit"))
    assert done == ["commit"]


def test_work_left_by_a_view_that_raises_runs_before_the_error_goes_on():
    done = []

    def view():
        after_the_answer(lambda: done.append("commit"))
        raise RuntimeError("after the transaction committed")

    with pytest.raises(RuntimeError):
        answered_first(view)
    assert done == ["commit"]
    after_the_answer(lambda: done.append("later"))  # the view's collection is over: at once again
    assert done == ["commit", "later"]
