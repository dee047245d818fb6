"""Our governance rules: tenant ids, personal-data annotations and deprecation markers.

Personal fields are recognised by the words of their names, never by substrings
(`symbol`, `hostname` and `emailer_count` are not personal; `contact_email` and
`emails` are). The rules, with their defaults in LintConfig:

- a field is personal when its words contain one of `personal_field_tokens`
  (single words such as "email", "phone", "address", "ssn", "iban", or
  phrases such as "first_name", "date_of_birth", "tax_id"), plural forms
  included ("emails", "addresses");
- unless those words are part of a `non_personal_field_phrases` entry, which
  names technical things that share a word ("server_address", "bind_address");
- a name that ends in "name" is personal when a word before it is one of
  `person_words` ("user_name", "owner_name", "trader_display_name"), or when the
  field is just `name`, `display_name` or `nickname` on a message whose own
  name has a person word (`User.name`, `CustomerProfile.display_name`); other
  names describe things (`model_name`, `file_name`, `Strategy.name`);
- identifiers of persons (`user_id`, `customer_id`) are pseudonymous keys, not
  personal data, and booleans (`email_verified`, `has_phone`) say something
  about personal data without holding it: neither is flagged.
"""

from __future__ import annotations

from google.protobuf.descriptor_pb2 import FieldDescriptorProto

from protoengine.lint.comments import says_deprecated
from protoengine.lint.model import Field, LintRule, Message, Problem
from protoengine.lint.naming import split_words
from protoengine.locations import FIELD_TYPE
from protoengine.wire import WireFormatError, last_varint

GOVERNANCE = "GOVERNANCE"
TENANT_FIELD = "tenant_id"
# Extension numbers of schemas/schemaregistry/options.proto.
PII_OPTION = 50001
CLASSIFICATION_OPTION = 50002
PII_TEXT = "(registry.v1.pii)"
CLASSIFICATION_TEXT = "(registry.v1.classification)"
# Qualifiers that keep a name about the message itself: User.display_name is the user's name.
SELF_NAME_QUALIFIERS = frozenset({"display", "nick", "preferred"})
NAME_WORDS = frozenset({"name", "nickname"})


def in_tenant_package(package: str, tenant_packages) -> bool:
    """Return True when the package is one of the prefixes or lies under one ("trading" covers "trading.v1")."""
    return any(package == prefix or package.startswith(prefix + ".") for prefix in tenant_packages)


def check_message_tenant_id(message: Message, config) -> Problem | None:
    package = message.file.package
    if not message.is_top_level or not in_tenant_package(package, config.tenant_packages):
        return None
    for field in message.fields:
        if field.name == TENANT_FIELD:
            if (
                field.proto.type == FieldDescriptorProto.TYPE_STRING
                and field.proto.label != FieldDescriptorProto.LABEL_REPEATED
            ):
                return None
            return Problem(
                message,
                f'Field "{TENANT_FIELD}" on message "{message.name}" should be a singular string.',
                field.path + (FIELD_TYPE,),
            )
    return Problem(
        message,
        f'Message "{message.name}" in package "{package}" should have a field "string {TENANT_FIELD}".',
        message.name_path,
    )


# Field names a matcher remembers before it starts again.
REMEMBERED_NAMES = 10_000


class PersonalFields:
    """Decide from its words whether a field name looks personal; built once per vocabulary."""

    def __init__(self, tokens: tuple[str, ...], non_personal: tuple[str, ...], person_words: tuple[str, ...]):
        self.phrases_by_first_word: dict[str, list[tuple[str, ...]]] = {}
        for phrase in (tuple(token.split("_")) for token in tokens):
            self.phrases_by_first_word.setdefault(phrase[0], []).append(phrase)
        self.non_personal = [tuple(phrase.split("_")) for phrase in non_personal]
        self.person_words = frozenset(person_words)
        self.vocabulary = {
            word for phrase in (*tokens, *non_personal, *person_words) for word in phrase.split("_")
        } | NAME_WORDS
        # Field names repeat across messages and schemas; their words and token verdict are worked out once.
        self._by_name: dict[str, tuple[tuple[str, ...], str | None, bool]] = {}
        # The names found impersonal whatever their message: most of a schema's, answered without a call to match.
        self.impersonal: set[str] = set()

    def words(self, name: str) -> tuple[str, ...]:
        """Return the lower-case words of a name, plurals of known words made singular."""
        return tuple(self._singular(word.lower()) for word in split_words(name))

    def _singular(self, word: str) -> str:
        for ending in ("es", "s"):
            if word not in self.vocabulary and word.endswith(ending) and word[: -len(ending)] in self.vocabulary:
                return word[: -len(ending)]
        return word

    def match(self, field_name: str, message_name: str | None) -> str | None:
        """Return the personal word or phrase the field name holds, None when it looks impersonal."""
        known = self._by_name.get(field_name)
        if known is None:
            if len(self._by_name) >= REMEMBERED_NAMES:
                self._by_name.clear()  # a long-lived matcher (a server's) stays small
                self.impersonal.clear()
            words = self.words(field_name)
            # Only a name ending in a name word can depend on its message ("name" on "User"): flagged once here.
            about_a_name = bool(words) and words[-1] in NAME_WORDS
            known = self._by_name[field_name] = (words, self._token_match(words), about_a_name)
            if known[1] is None and not about_a_name:
                self.impersonal.add(field_name)
        words, token, about_a_name = known
        if token or not about_a_name:
            return token
        return self._name_match(words, message_name)

    def _token_match(self, words: tuple[str, ...]) -> str | None:
        masked = self._masked(words)
        for start, word in enumerate(words):
            for phrase in self.phrases_by_first_word.get(word, ()):
                end = start + len(phrase)
                if words[start:end] == phrase and not masked.intersection(range(start, end)):
                    return "_".join(phrase)
        return None

    def _masked(self, words: tuple[str, ...]) -> set[int]:
        masked: set[int] = set()
        for phrase in self.non_personal:
            for start in range(len(words) - len(phrase) + 1):
                if words[start : start + len(phrase)] == phrase:
                    masked.update(range(start, start + len(phrase)))
        return masked

    def _name_match(self, words: tuple[str, ...], message_name: str | None) -> str | None:
        if not words or words[-1] not in NAME_WORDS:
            return None
        qualifiers = words[:-1]
        if self.person_words.intersection(qualifiers):
            return "_".join(words)
        about_itself = SELF_NAME_QUALIFIERS.issuperset(qualifiers)
        if about_itself and message_name and self.person_words.intersection(self.words(message_name)):
            return "_".join(words)
        return None


def _described(field: Field) -> str:
    if field.message is None:
        return f'Extension "{field.name}"'
    return f'Field "{field.name}" on message "{field.message.name}"'


def check_field_pii_annotated(field: Field, config) -> Problem | None:
    matcher = config.personal_fields
    if field.name in matcher.impersonal:
        return None  # every field passes here, and nearly every name was found impersonal before
    message = field.parent  # its message (Field.message), read without the property
    reason = matcher.match(field.name, message.name if message else None)
    if (
        reason is None
        or field.proto.type == FieldDescriptorProto.TYPE_BOOL
        or (message is not None and message.is_map_entry)
    ):
        return None
    pii, classification = field_governance_options(field.proto)
    if pii != 1:
        return Problem(
            field,
            f'{_described(field)} looks personal ("{reason}") and should set {PII_TEXT} = true and a '
            f"{CLASSIFICATION_TEXT}.",
            field.name_path,
        )
    if not classification:
        return Problem(
            field,
            f"{_described(field)} sets {PII_TEXT} = true and should also set a {CLASSIFICATION_TEXT} other than "
            "DATA_CLASSIFICATION_UNSPECIFIED.",
            field.name_path,
        )
    return None


def field_governance_options(proto: FieldDescriptorProto) -> tuple[int | None, int | None]:
    """Return the (pii, classification) option values of a field, None where unset."""
    if not proto.HasField("options"):
        return None, None
    data = proto.options.SerializeToString()
    try:
        return last_varint(data, PII_OPTION), last_varint(data, CLASSIFICATION_OPTION)
    except WireFormatError:
        return None, None


def check_field_deprecated_marked(field: Field, config) -> Problem | None:
    proto = field.proto
    if proto.HasField("options") and proto.options.deprecated:
        return None
    if says_deprecated(field.file.index.comment(field.path)):
        return Problem(
            field,
            f"{_described(field)} is documented as deprecated and should be marked [deprecated = true].",
            field.name_path,
        )
    return None


def mentions_deprecation(file) -> bool:
    """Return False when no comment of the file can say "deprecated" (in any case): a quick no for the whole file.

    Read from the serialized source info its position finder keeps, instead of a serialization of its own.
    """
    return file.index.mentions(b"deprecated", any_case=True)


GOVERNANCE_RULES = (
    LintRule(
        "MESSAGE_TENANT_ID",
        "Checks that top-level messages of tenant packages (the `tenant_packages` setting, none by default) "
        'have a "string tenant_id" field.',
        (GOVERNANCE,),
        "message",
        check_message_tenant_id,
    ),
    LintRule(
        "FIELD_PII_ANNOTATED",
        "Checks that fields whose names look personal set (registry.v1.pii) = true and a (registry.v1.classification).",
        (GOVERNANCE,),
        "field",
        check_field_pii_annotated,
        names_pass=lambda names, config: config.personal_fields.impersonal.issuperset(names),
    ),
    LintRule(
        "FIELD_DEPRECATED_MARKED",
        "Checks that fields whose comments say they are deprecated are marked [deprecated = true].",
        (GOVERNANCE,),
        "field",
        check_field_deprecated_marked,
        mentions_deprecation,
    ),
)
