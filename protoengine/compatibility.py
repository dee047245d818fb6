"""Check a new schema version against earlier ones at a registry compatibility level.

Level names are Confluent Schema Registry's, and so are their directions:

- BACKWARD: consumers on the NEW schema can read data written with the OLD one
  (upgrade consumers first). The product spec calls this "forward compatibility,
  new code reads old data"; we use Confluent's name everywhere.
- FORWARD: consumers still on the OLD schema can read data written with the NEW one
  (upgrade producers first). The spec's "backward compatibility, old code reads new data".
- FULL: both.
- *_TRANSITIVE: the same, against every earlier version rather than the latest only.
- NONE: nothing is checked.

The level picks the direction; the rule set picks which changes count as breaking:

- SPEC (default): wire and JSON safety (buf's WIRE_JSON category) everywhere, plus the
  spec's rules for each direction. Reading old data with new code (BACKWARD) needs new
  fields to be optional (MESSAGE_SAME_REQUIRED_FIELDS, already in WIRE_JSON) and no
  enum value removed (ENUM_VALUE_NO_DELETE). Reading new data with old code (FORWARD)
  needs no field removed, even with its number reserved (FIELD_NO_DELETE), and no field
  type changed, even to a wire-compatible one (FIELD_SAME_TYPE); a changed number is a
  removal plus an addition. In both directions no message may go, as it takes all its
  fields with it and new code could no longer read old data of that type
  (PACKAGE_MESSAGE_NO_DELETE, PACKAGE_NO_DELETE).
- WIRE, WIRE_JSON, PACKAGE, FILE: exactly buf's category, the same in both directions.
- CONFLUENT: Confluent's own verdicts (protoengine.confluent_diff), which compare a
  reader with a writer: BACKWARD calls check(previous, current), FORWARD swaps them.

Our own rules always compare the older version with the newer one: each names a
change ("field 3 was deleted"), and the direction decides which changes matter.
Swapping them as Confluent does would turn every added field into a deleted one.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from google.protobuf.descriptor_pb2 import FileDescriptorProto

from protoengine import breaking
from protoengine.findings import Finding
from protoengine.model import model_of

# The one list of level, rule-set and mode names: the registry's models, errors and clients import these.
BACKWARD = "BACKWARD"
FORWARD = "FORWARD"
FULL = "FULL"
NONE = "NONE"
LEVELS = ("BACKWARD", "BACKWARD_TRANSITIVE", "FORWARD", "FORWARD_TRANSITIVE", "FULL", "FULL_TRANSITIVE", "NONE")
DEFAULT_LEVEL = BACKWARD

SPEC = "SPEC"
CONFLUENT = "CONFLUENT"
RULE_SETS = ("SPEC", "CONFLUENT", "WIRE", "WIRE_JSON", "PACKAGE", "FILE")
DEFAULT_RULE_SET = SPEC

# A subject's mode says whether it may change at all (Confluent's modes); the engine does not act on them.
MODES = ("READWRITE", "READONLY", "READONLY_OVERRIDE", "IMPORT")
READ_ONLY_MODES = ("READONLY", "READONLY_OVERRIDE")
IMPORT = "IMPORT"

# What each direction of SPEC checks, as rule ids and categories.
_NO_MESSAGE_LOST = ("PACKAGE_MESSAGE_NO_DELETE", "PACKAGE_NO_DELETE")
SPEC_RULES = {
    BACKWARD: ("WIRE_JSON", "MESSAGE_SAME_REQUIRED_FIELDS", "ENUM_VALUE_NO_DELETE", *_NO_MESSAGE_LOST),
    FORWARD: ("WIRE_JSON", "FIELD_NO_DELETE", "FIELD_SAME_TYPE", *_NO_MESSAGE_LOST),
}
_DIRECTIONS = {BACKWARD: (BACKWARD,), FORWARD: (FORWARD,), FULL: (BACKWARD, FORWARD), NONE: ()}


@dataclass(frozen=True)
class VersionCheck:
    """What one comparison of a new version with the earlier ones found.

    `findings` break the level; `breaks_latest` says whether the new version breaks the
    latest earlier one in either direction (FULL), which is what a MAJOR semantic version means.
    """

    findings: list[Finding]
    breaks_latest: bool


def check_compatibility(
    current: Sequence[FileDescriptorProto],
    previous_versions: Sequence[Sequence[FileDescriptorProto]],
    *,
    level: str = BACKWARD,
    rule_set: str = SPEC,
) -> list[Finding]:
    """Return what makes `current` incompatible with the earlier versions (oldest first) at `level`.

    Non-transitive levels look at the latest earlier version only. A finding seen
    against several versions is reported once. Raises ValueError for an unknown
    level or rule set. Each version may be a sequence of files or a `breaking.Schema`
    already indexed (a cached earlier version's).
    """
    directions = directions_of(level)
    _check_rule_set(rule_set)
    earlier = versions_the_level_reads(previous_versions, level)
    if not earlier or not directions:
        return []
    indexed = _indexed(current)  # indexed once for every earlier version
    findings = {
        finding
        for previous in earlier
        for direction_findings in _by_direction(previous, indexed, rule_set, directions).values()
        for finding in direction_findings
    }
    return sorted(findings, key=_order)


def check_new_version(
    current: Sequence[FileDescriptorProto],
    previous_versions: Sequence[Sequence[FileDescriptorProto]],
    *,
    level: str = BACKWARD,
    rule_set: str = SPEC,
) -> VersionCheck:
    """Compare `current` once with the earlier versions: the level's findings and whether it breaks the latest.

    The latest version is compared in both directions in one pass; the level reads
    its directions from that pass, and the semantic version whether any direction broke.
    """
    level_directions = directions_of(level)
    _check_rule_set(rule_set)
    versions = list(previous_versions)
    if not versions:
        return VersionCheck(findings=[], breaks_latest=False)
    indexed = _indexed(current)
    latest = _by_direction(versions[-1], indexed, rule_set, _DIRECTIONS[FULL])
    findings = {finding for direction in level_directions for finding in latest[direction]}
    if level_directions:
        for previous in versions_the_level_reads(versions, level)[:-1]:
            for direction_findings in _by_direction(previous, indexed, rule_set, level_directions).values():
                findings.update(direction_findings)
    return VersionCheck(
        findings=sorted(findings, key=_order), breaks_latest=any(latest[direction] for direction in latest)
    )


def is_transitive(level: str) -> bool:
    """Return True for a level that checks every earlier version, not only the latest."""
    return level.endswith("_TRANSITIVE")


def latest_only_level(level: str) -> str:
    """Return the level that checks the same directions against the latest version only (BACKWARD for
    BACKWARD_TRANSITIVE): what a comparison of two given versions reads."""
    return level.removesuffix("_TRANSITIVE")


def transitive_level(level: str) -> str:
    """Return the level that checks the same directions against every earlier version (NONE stays NONE)."""
    return level if level == NONE or is_transitive(level) else f"{level}_TRANSITIVE"


def versions_the_level_reads(versions: Sequence, level: str) -> list:
    """Return the earlier versions (oldest first) a level compares with: all when transitive, else the latest.

    The one home of this choice: the engine, the registry's selectors and deploy_schemas all ask here.
    """
    return list(versions) if is_transitive(level) else list(versions)[-1:]


def directions_of(level: str) -> tuple[str, ...]:
    """Return the directions a level checks: (BACKWARD,), (FORWARD,), both, or none."""
    if level not in LEVELS:
        raise ValueError(f'Unknown compatibility level "{level}". Choose one of {", ".join(LEVELS)}.')
    return _DIRECTIONS[latest_only_level(level)]


def rule_ids_for(rule_set: str, directions: Sequence[str]) -> frozenset[str]:
    """Return the breaking rule ids a rule set runs for these directions (not for CONFLUENT)."""
    if rule_set == CONFLUENT:
        raise ValueError("The CONFLUENT rule set is Confluent's checker, not a list of rule ids.")
    if rule_set == SPEC:
        names = {name for direction in directions for name in SPEC_RULES[direction]}
        return breaking.resolve_rule_ids(sorted(names))
    return breaking.resolve_rule_ids([rule_set])


def _check_rule_set(rule_set: str) -> None:
    if rule_set not in RULE_SETS:
        raise ValueError(f'Unknown rule set "{rule_set}". Choose one of {", ".join(RULE_SETS)}.')


def _indexed(files) -> "breaking.Schema":
    """Return the breaking index of a version: its compiled set's cached one when it has a model."""
    if isinstance(files, breaking.Schema):
        return files
    return model_of(files).breaking


def _by_direction(previous, current: "breaking.Schema", rule_set: str, directions) -> dict[str, list[Finding]]:
    """Return the findings against one earlier version in each direction, from one comparison."""
    if rule_set == CONFLUENT:
        original, update = _confluent_view(previous), _confluent_view(current)
        return {direction: _confluent(original, update, (direction,)) for direction in directions}
    wanted = {direction: rule_ids_for(rule_set, (direction,)) for direction in directions}
    found = breaking.compare(_indexed(previous), current, frozenset().union(*wanted.values()))
    return {direction: [finding for finding in found if finding.rule in ids] for direction, ids in wanted.items()}


def _confluent_view(version):
    """Return Confluent's view of a version, kept by its model: a breaking index's shows its own files only."""
    from protoengine import confluent_diff as confluent

    if isinstance(version, breaking.Schema):
        return version.model.confluent(well_known=False)
    return confluent.schema_of(version)


def _confluent(previous, current, directions) -> list[Finding]:
    # Imported here so this module works before, or without, the Confluent checker.
    from protoengine import confluent_diff as confluent

    findings = []
    if BACKWARD in directions:
        findings += confluent.check(previous, current)
    if FORWARD in directions:
        findings += confluent.check(current, previous)
    return findings


def _order(finding: Finding) -> tuple:
    return (finding.path, finding.line, finding.column, finding.rule, finding.message, finding.confluent or "")
