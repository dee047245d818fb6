"""The one reader of buf.yaml (versions v1beta1, v1 and v2) for breaking and lint.

It reads the version, the v2 `modules:`, and in the `breaking:` and `lint:`
sections rule selection (`use`, `except`), ignored paths (`ignore`,
`ignore_only`) and `ignore_unstable_packages`; `LintConfig.from_buf_yaml` builds
on it for the lint section's other settings. Paths in a buf.yaml are relative to
the folder holding it, which is also the root of the import paths the command
line compiles, so they compare with finding paths as they are.

A v2 file may put its sections under `modules:`; the module at path "." (the
folder itself) is honoured, as buf would for a one-module workspace. Other
modules live in sub-folders whose import paths differ from the folder's, which
the command line does not model.
"""

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from protoengine.findings import Finding

FILE_NAME = "buf.yaml"
KNOWN_VERSIONS = ("v1beta1", "v1", "v2")
DEFAULT_BREAKING_USE = ("FILE",)
# buf's unstable package versions: v1alpha, v1beta2, v1p1beta1, v1test, v1testfoo.
_UNSTABLE_VERSION = re.compile(r"^v[1-9][0-9]*(?:(?:p[1-9][0-9]*)?(?:alpha|beta)[0-9]*|test.*)$")


class BufConfigError(ValueError):
    """The buf.yaml cannot be used; the message says which key is wrong and how."""


@dataclass(frozen=True)
class IgnoreSettings:
    """Which findings a buf.yaml section drops, whatever rules are run.

    `only` maps a rule id or category, as written in the file, to the paths where
    that rule is ignored; `PathFilter` resolves the names to rule ids.
    """

    paths: tuple[str, ...] = ()
    only: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    unstable_packages: bool = False


@dataclass(frozen=True)
class BreakingSettings:
    use: tuple[str, ...] = DEFAULT_BREAKING_USE
    except_: tuple[str, ...] = ()
    ignore: IgnoreSettings = field(default_factory=IgnoreSettings)


def read_buf_yaml(directory: str | Path) -> dict:
    """Return the parsed buf.yaml of the folder, or an empty dict when it has none."""
    path = Path(directory) / FILE_NAME
    if not path.is_file():
        return {}
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        raise BufConfigError(f"{path}: not valid YAML ({error}).") from None
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise BufConfigError(f"{path}: expected a mapping with `version:` at the top level.")
    buf_version(document, where=str(path))
    return document


def buf_version(document: Mapping, where: str = FILE_NAME) -> str:
    """Return the document's `version:`, v1 when it has none; an unknown version raises BufConfigError."""
    version = str(document.get("version", "v1"))
    if version not in KNOWN_VERSIONS:
        raise BufConfigError(f"{where}: unknown version {version!r}; use one of {', '.join(KNOWN_VERSIONS)}.")
    return version


def root_module_path(document: Mapping) -> str | None:
    """Return the `path:` of the v2 module that is the folder itself, None when there is none."""
    for module in document.get("modules") or ():
        if isinstance(module, dict) and _is_root_path(module.get("path", ".")):
            return module.get("path", ".")
    return None


def module(document: Mapping, module_path: str) -> Mapping:
    """Return the v2 module whose `path:` is `module_path`; BufConfigError when there is none."""
    version = buf_version(document)
    if version != "v2":
        raise BufConfigError(f"module_path is for v2 buf.yaml files; this one is {version}.")
    wanted = clean_path(module_path)
    for candidate in document.get("modules") or ():
        if isinstance(candidate, dict) and clean_path(candidate.get("path", ".")) == wanted:
            return candidate
    raise BufConfigError(f'No module with path "{module_path}" in buf.yaml.')


def section(document: Mapping, name: str, module_path: str | None = None) -> dict:
    """Return the `breaking` or `lint` section for the module at `module_path`, or the workspace's.

    A v2 module's own non-empty section replaces the workspace's, as in buf.
    """
    chosen = document.get(name)
    if module_path is not None:
        chosen = module(document, module_path).get(name) or chosen
    if chosen is None:
        return {}
    if not isinstance(chosen, dict):
        raise BufConfigError(f"buf.yaml: `{name}:` must be a mapping.")
    return chosen


def breaking_settings(document: Mapping) -> BreakingSettings:
    """Return the breaking settings of a parsed buf.yaml, buf's defaults for what it leaves out."""
    config = section(document, "breaking", root_module_path(document))
    return BreakingSettings(
        use=names(config, "use", "breaking") or DEFAULT_BREAKING_USE,
        except_=names(config, "except", "breaking"),
        ignore=ignore_settings(config, "breaking"),
    )


def ignore_settings(config: Mapping, where: str, module_path: str | None = None) -> IgnoreSettings:
    """Return the `ignore`, `ignore_only` and `ignore_unstable_packages` keys of one section.

    The paths are written from the workspace root; in a module's section they are
    made relative to the module.
    """
    prefix = clean_path(module_path or ".")
    only = config.get("ignore_only") or {}
    if not isinstance(only, dict):
        raise BufConfigError(f"buf.yaml: `{where}.ignore_only` must map rule ids or categories to lists of paths.")
    unstable = config.get("ignore_unstable_packages", False)
    if not isinstance(unstable, bool):
        raise BufConfigError(f"buf.yaml: `{where}.ignore_unstable_packages` must be true or false.")
    return IgnoreSettings(
        paths=tuple(_from_module(path, prefix) for path in names(config, "ignore", where)),
        only={
            str(name): tuple(_from_module(path, prefix) for path in names(only, name, f"{where}.ignore_only"))
            for name in only
        },
        unstable_packages=unstable,
    )


def names(config: Mapping, key: str, where: str) -> tuple[str, ...]:
    """Return the list of strings at `key` of a section, () when it is absent."""
    value = config.get(key)
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise BufConfigError(f"buf.yaml: `{where}.{key}` must be a list of strings.")
    return tuple(value)


def clean_path(path: str) -> str:
    """Return the path as an import path prefix: no "./" in front, no "/" behind, "." for the root."""
    path = str(path).strip()
    while path.startswith("./"):
        path = path[2:]
    return path.rstrip("/") or "."


def _from_module(path: str, prefix: str) -> str:
    path = clean_path(path)
    if prefix != "." and path.startswith(prefix + "/"):
        return path[len(prefix) + 1 :]
    return path


def _is_root_path(path) -> bool:
    return isinstance(path, str) and clean_path(path) == "."


def is_under(path: str, prefixes: Iterable[str]) -> bool:
    """Return True when the import path is one of the prefixes or lies in a folder named by one."""
    if not prefixes:
        return False  # the usual case (nothing ignored), asked for every rule and file of a lint run
    return any(prefix in ("", ".") or path == prefix or path.startswith(prefix + "/") for prefix in prefixes)


def is_unstable_package(package: str) -> bool:
    """Return True for packages whose last part is an alpha, beta or test version (`foo.v1beta1`)."""
    return bool(_UNSTABLE_VERSION.match(package.rsplit(".", 1)[-1]))


class PathFilter:
    """Drop the findings a section's ignore settings cover.

    `packages` maps each file path, on either side of a comparison, to the
    packages it declares there, so a file that moves into or out of an unstable
    package is skipped as buf skips it.
    """

    def __init__(self, settings: IgnoreSettings, packages: Mapping[str, set[str]], resolve):
        self.settings = settings
        self.packages = packages
        # `resolve` turns a name from `ignore_only` into the rule ids it stands for.
        self.only = [(resolve(name), paths) for name, paths in settings.only.items()]

    def keeps(self, finding: Finding) -> bool:
        if is_under(finding.path, self.settings.paths):
            return False
        if any(finding.rule in rules and is_under(finding.path, paths) for rules, paths in self.only):
            return False
        return not (
            self.settings.unstable_packages
            and any(is_unstable_package(package) for package in self.packages.get(finding.path, ()))
        )

    def apply(self, findings: Iterable[Finding]) -> list[Finding]:
        return [finding for finding in findings if self.keeps(finding)]


def packages_by_path(*file_sets) -> dict[str, set[str]]:
    """Map each file path to the packages its files declare across the given sets of FileDescriptorProtos."""
    table: dict[str, set[str]] = {}
    for files in file_sets:
        for file in files:
            table.setdefault(file.name, set()).add(file.package)
    return table
