"""Which lint rules run, where, and with which settings; readable from a buf.yaml `lint:` section."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from functools import cached_property

from protoengine import bufconfig
from protoengine.lint.catalog import expand
from protoengine.lint.governance import PersonalFields

DEFAULT_USE = ("STANDARD", "GOVERNANCE")
# Words and phrases (words joined by "_") that make a field name personal; see governance.py.
DEFAULT_PERSONAL_FIELD_TOKENS = (
    "email",
    "phone",
    "mobile_number",
    "msisdn",
    "address",
    "postal_code",
    "postcode",
    "zip_code",
    "first_name",
    "last_name",
    "middle_name",
    "full_name",
    "given_name",
    "family_name",
    "maiden_name",
    "legal_name",
    "surname",
    "username",
    "nickname",
    "gender",
    "date_of_birth",
    "birth_date",
    "birthdate",
    "birthday",
    "dob",
    "ssn",
    "social_security",
    "national_id",
    "national_insurance",
    "tax_id",
    "passport",
    "driver_license",
    "drivers_license",
    "driving_licence",
    "iban",
    "bank_account",
    "credit_card",
    "card_number",
)
# Technical things that share a personal word: their words never count as personal.
DEFAULT_NON_PERSONAL_FIELD_PHRASES = (
    "server_address",
    "listen_address",
    "bind_address",
    "host_address",
    "broker_address",
    "proxy_address",
    "gateway_address",
    "endpoint_address",
    "service_address",
    "node_address",
    "peer_address",
    "memory_address",
    "contract_address",
    "multicast_address",
)
# Words for people: "owner_name" is personal, and so is `name` on a message called "Customer".
DEFAULT_PERSON_WORDS = (
    "user",
    "customer",
    "client",
    "person",
    "people",
    "employee",
    "contact",
    "trader",
    "member",
    "owner",
    "holder",
    "cardholder",
    "beneficiary",
    "patient",
    "recipient",
    "sender",
    "applicant",
    "author",
    "guardian",
    "spouse",
    "signatory",
)

# buf.yaml `lint:` keys, by configuration version, and ours (which buf does not know).
_BUF_KEYS = {
    "use",
    "except",
    "ignore",
    "ignore_only",
    "enum_zero_value_suffix",
    "rpc_allow_same_request_response",
    "rpc_allow_google_protobuf_empty_requests",
    "rpc_allow_google_protobuf_empty_responses",
    "service_suffix",
}
_VERSION_KEYS = {
    "v1beta1": {"allow_comment_ignores"},
    "v1": {"allow_comment_ignores"},
    "v2": {"disallow_comment_ignores", "disable_builtin"},
}
_OUR_KEYS = {"tenant_packages", "personal_field_tokens", "non_personal_field_phrases", "person_words"}
_GOVERNANCE_ONLY = ("GOVERNANCE",)
# buf 1.75 puts these rules in no category of a v1 or v1beta1 buf.yaml: there they run only when named.
_UNCATEGORISED_BEFORE_V2 = frozenset({"FIELD_NOT_REQUIRED", "PACKAGE_NO_IMPORT_CYCLE"})


@dataclass(frozen=True)
class LintConfig:
    """Lint settings. Sequences may be given as lists; they are kept as tuples.

    `use` and `except_` take rule ids and category names; `ignore` takes import
    paths of files or directories; `ignore_only` maps a rule id or category to
    such paths. A subject switches rules off with `config.with_except([...])`.
    """

    use: tuple[str, ...] = DEFAULT_USE
    except_: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    ignore_only: tuple[tuple[str, tuple[str, ...]], ...] = ()
    allow_comment_ignores: bool = True
    enum_zero_value_suffix: str = "_UNSPECIFIED"
    service_suffix: str = "Service"
    rpc_allow_same_request_response: bool = False
    rpc_allow_google_protobuf_empty_requests: bool = False
    rpc_allow_google_protobuf_empty_responses: bool = False
    # Packages whose top-level messages carry a tenant_id (MESSAGE_TENANT_ID); the project names its own.
    tenant_packages: tuple[str, ...] = ()
    personal_field_tokens: tuple[str, ...] = DEFAULT_PERSONAL_FIELD_TOKENS
    non_personal_field_phrases: tuple[str, ...] = DEFAULT_NON_PERSONAL_FIELD_PHRASES
    person_words: tuple[str, ...] = DEFAULT_PERSON_WORDS
    # The buf.yaml version the settings came from: categories hold slightly different rules before v2.
    buf_version: str = "v2"

    def __post_init__(self):
        for name in (
            "use",
            "except_",
            "tenant_packages",
            "personal_field_tokens",
            "non_personal_field_phrases",
            "person_words",
        ):
            value = getattr(self, name)
            if isinstance(value, str):
                raise ValueError(f'LintConfig.{name} takes a list of names, not the single string "{value}".')
            object.__setattr__(self, name, tuple(value))
        object.__setattr__(self, "ignore", tuple(bufconfig.clean_path(path) for path in self.ignore))
        ignore_only = self.ignore_only.items() if isinstance(self.ignore_only, Mapping) else self.ignore_only
        object.__setattr__(
            self,
            "ignore_only",
            tuple(sorted((key, tuple(bufconfig.clean_path(p) for p in paths)) for key, paths in ignore_only)),
        )
        # Fail on a misspelt rule id now, not at the first lint.
        _ = self.rule_ids
        _ = self._ignored_paths_by_rule

    @cached_property
    def rule_ids(self) -> frozenset[str]:
        """Return the ids of the rules that run: `use` and the governance rules, minus `except`.

        The governance rules are the registry's policy, not a style choice: a narrower `use`
        (BASIC, MINIMAL, single rules) keeps them, and only `except` switches one off.
        """
        used = expand(self.use, "use")
        if self.buf_version != "v2":
            used -= _UNCATEGORISED_BEFORE_V2 - set(self.use)
        return (used | expand(_GOVERNANCE_ONLY)) - expand(self.except_, "except")

    @cached_property
    def _ignored_paths_by_rule(self) -> dict[str, tuple[str, ...]]:
        paths: dict[str, tuple[str, ...]] = {}
        for key, key_paths in self.ignore_only:
            for rule_id in expand([key], "ignore_only"):
                paths[rule_id] = paths.get(rule_id, ()) + key_paths
        return paths

    @cached_property
    def personal_fields(self) -> PersonalFields:
        """Return the matcher of personal field names built from this configuration's word lists."""
        return PersonalFields(self.personal_field_tokens, self.non_personal_field_phrases, self.person_words)

    def ignores(self, rule_id: str, path: str) -> bool:
        """Return True when `ignore` or `ignore_only` excludes the file at `path` from the rule."""
        return bufconfig.is_under(path, self.ignore) or bufconfig.is_under(
            path, self._ignored_paths_by_rule.get(rule_id, ())
        )

    def with_except(self, rule_ids: Iterable[str]) -> LintConfig:
        """Return a copy with more rules switched off, as a subject's own settings do."""
        added = tuple(rule_id for rule_id in rule_ids if rule_id not in self.except_)
        return replace(self, except_=self.except_ + added) if added else self

    @classmethod
    def from_buf_yaml(cls, data: Mapping, module_path: str | None = None) -> LintConfig:
        """Read the lint settings of a parsed buf.yaml (v1beta1, v1 or v2), or of its bare `lint:` mapping.

        In a v2 file, `module_path` picks a module whose own `lint:` section
        replaces the workspace's, as in buf; its `ignore` paths, written from the
        workspace root, are made relative to the module. A section without `use`
        runs buf's STANDARD; the governance rules run whatever `use` says, until
        `except` names them (`except: [GOVERNANCE]` or single ids). Our own keys
        (`tenant_packages`, `personal_field_tokens`, `non_personal_field_phrases`,
        `person_words`) may sit in the same section.
        """
        is_whole_file = any(key in data for key in ("version", "lint", "modules", "breaking", "deps"))
        if not is_whole_file:
            return cls(**_settings(data, "v2", None), buf_version="v2")
        version = bufconfig.buf_version(data)
        section = bufconfig.section(data, "lint", module_path)
        return cls(**_settings(section, version, module_path), buf_version=version)


def _settings(section: Mapping, version: str, module_path: str | None) -> dict:
    unknown = set(section) - _BUF_KEYS - _VERSION_KEYS[version] - _OUR_KEYS
    if unknown:
        raise ValueError(
            f"Unknown key(s) {', '.join(sorted(unknown))} in the buf.yaml lint section (version {version})."
        )
    settings = {
        key: section[key]
        for key in section
        if key in _BUF_KEYS | _OUR_KEYS and key not in ("use", "except", "ignore", "ignore_only")
    }
    if "use" in section:
        settings["use"] = bufconfig.names(section, "use", "lint")
    settings["except_"] = bufconfig.names(section, "except", "lint")
    ignore = bufconfig.ignore_settings(section, "lint", module_path)
    settings["ignore"] = ignore.paths
    settings["ignore_only"] = ignore.only
    if section.get("disable_builtin"):
        settings["use"] = _GOVERNANCE_ONLY
    # Comment ignores are opt-in before v2 and opt-out from v2 on, as in buf.
    if version == "v2":
        settings["allow_comment_ignores"] = not section.get("disallow_comment_ignores", False)
    else:
        settings["allow_comment_ignores"] = bool(section.get("allow_comment_ignores", False))
    return settings
