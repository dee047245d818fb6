"""The suite's start-up check names each missing tool with the command that installs it."""

from tests.conftest import missing_tools


def test_with_nothing_on_the_path_it_names_the_debian_packages_to_install(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))

    [(what, command), *_] = missing_tools()

    assert what.startswith("protoc-gen-go, protoc-gen-go-grpc")
    assert command.startswith("apt-get install -y --no-install-recommends protoc-gen-go protoc-gen-go-grpc")
    assert "golang-go" in what.split(", ")
    assert command.endswith("nodejs npm")
