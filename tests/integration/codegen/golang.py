"""Build generated Go offline: GOPATH mode against Debian's packaged protobuf and gRPC libraries.

No Go module proxy is reachable from CI, so the generated packages go under a
temporary GOPATH at their go_package import paths and resolve their imports from
/usr/share/gocode, where Debian's golang-*-dev packages install their sources.
"""

import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from codegen.generators import GoGenerator
from protoengine.compiler import compile_sources

GOCODE = Path("/usr/share/gocode")
# Debian package -> the folder it installs; generated messages import the first, gRPC stubs the second.
GO_LIBRARIES = {
    "golang-google-protobuf-dev": GOCODE / "src" / "google.golang.org" / "protobuf",
    "golang-google-grpc-dev": GOCODE / "src" / "google.golang.org" / "grpc",
}


def missing_go_packages() -> list[str]:
    """Return the Debian packages a Go build of generated code needs and this machine lacks."""
    missing = [] if shutil.which("go") and shutil.which("gofmt") else ["golang-go"]
    return missing + [package for package, folder in GO_LIBRARIES.items() if not folder.is_dir()]


def go_import_paths(sources: Mapping[str, str], roots: Sequence[str]) -> dict[str, str]:
    """Return each generated .proto file with the Go import path of its package, as the generator mapped it."""
    generator = GoGenerator()
    return {
        file.name: (file.options.go_package or generator.fallback_import_path(file)).split(";")[0]
        for file in compile_sources(sources, roots).own_files
    }


def go_build(output: Path, import_paths: Mapping[str, str], workspace: Path) -> subprocess.CompletedProcess:
    """Copy the .go files under `output` to workspace/src/IMPORT_PATH and `go build` those packages."""
    for proto, import_path in import_paths.items():
        package_dir = workspace / "src" / import_path
        package_dir.mkdir(parents=True, exist_ok=True)
        stem = proto.removesuffix(".proto")
        for generated in (output / f"{stem}.pb.go", output / f"{stem}_grpc.pb.go"):
            if generated.is_file():
                shutil.copy(generated, package_dir)
    environment = {
        **os.environ,
        "GO111MODULE": "off",
        "GOPATH": f"{workspace}{os.pathsep}{GOCODE}",
        # A developer's own flags (-mod=...) would refuse GOPATH mode; the cache stays inside the workspace.
        "GOFLAGS": "",
        "GOCACHE": str(workspace / "cache"),
    }
    return subprocess.run(
        ["go", "build", *sorted(set(import_paths.values()))],
        cwd=workspace,
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
    )
