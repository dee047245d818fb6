"""The registry benchmark's runs start from the same state: a git history of their own, removed afterwards."""

from pathlib import Path

from django.conf import settings

from tests.performance import bench_registry


def test_each_run_commits_to_an_empty_git_history_of_its_own_that_is_removed_afterwards():
    with bench_registry.history_of_its_own(bench_registry.server_env()) as first:
        history = Path(first["REGISTRY_GIT_HISTORY_DIR"])
        with bench_registry.history_of_its_own(bench_registry.server_env()) as second:
            other = Path(second["REGISTRY_GIT_HISTORY_DIR"])
        assert not history.exists()  # the history writer creates it on the first commit
        history.mkdir()
        (history / "HEAD").write_text("ref: refs/heads/main\n")

    assert history != other
    assert history.resolve() != (Path(settings.BASE_DIR) / "var" / "history.git").resolve()
    assert not history.parent.exists()
    assert not other.parent.exists()
