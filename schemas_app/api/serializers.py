"""Input serializers of the registry API.

Every field has the JSON type of Confluent's shapes: DRF's own fields would turn `"schema": 5`
into the text "5", `"normalize": "yes"` into True and `"version": "1"` into 1.
"""

import re

from rest_framework import serializers
from rest_framework.validators import ProhibitSurrogateCharactersValidator

from schemas_app.limits import MAX_PAGE, MAX_VERSION
from schemas_app.preparation import Reference

_SURROGATE = re.compile("[\ud800-\udfff]")


class NoSurrogates(ProhibitSurrogateCharactersValidator):
    """DRF's check for lone surrogates (same message), without a Python loop over every character of a schema."""

    def __call__(self, value):
        text = str(value)
        found = None if text.isascii() else _SURROGATE.search(text)
        if found is not None:
            raise serializers.ValidationError(self.message.format(code_point=ord(found.group())), code=self.code)


class StrictCharField(serializers.CharField):
    """A JSON string, never a number or a list turned into text."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.validators = [
            NoSurrogates() if type(validator) is ProhibitSurrogateCharactersValidator else validator
            for validator in self.validators
        ]

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictIntegerField(serializers.IntegerField):
    """A JSON integer: no strings, floats or booleans."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    """A JSON true or false."""

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


def _is_text_list(value) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _is_text_map(value) -> bool:
    return isinstance(value, dict) and all(isinstance(item, str) for item in value.values())


class MetadataField(serializers.JSONField):
    """Confluent's metadata: {"tags": {path: [tag]}, "properties": {name: value}, "sensitive": [name]}."""

    def to_internal_value(self, data):
        data = super().to_internal_value(data)
        if not isinstance(data, dict):
            raise serializers.ValidationError("metadata must be an object with tags, properties and sensitive")
        unknown = set(data) - {"tags", "properties", "sensitive"}
        if unknown:
            raise serializers.ValidationError(f"metadata has unknown fields {sorted(unknown)}")
        tags = data.get("tags")
        if tags is not None and not (isinstance(tags, dict) and all(_is_text_list(item) for item in tags.values())):
            raise serializers.ValidationError("metadata.tags must map names to lists of strings")
        if data.get("properties") is not None and not _is_text_map(data["properties"]):
            raise serializers.ValidationError("metadata.properties must map names to strings")
        if data.get("sensitive") is not None and not _is_text_list(data["sensitive"]):
            raise serializers.ValidationError("metadata.sensitive must be a list of strings")
        return data


_RULE_TEXT_FIELDS = {"name", "doc", "kind", "mode", "type", "expr", "onSuccess", "onFailure"}
_RULE_LISTS = ("migrationRules", "domainRules", "encodingRules")


class RuleSetField(serializers.JSONField):
    """Confluent's rule set: {"migrationRules": [rule], "domainRules": [rule], "encodingRules": [rule]}."""

    def to_internal_value(self, data):
        data = super().to_internal_value(data)
        if not isinstance(data, dict):
            raise serializers.ValidationError("ruleSet must be an object with migrationRules and domainRules")
        unknown = set(data) - set(_RULE_LISTS)
        if unknown:
            raise serializers.ValidationError(f"ruleSet has unknown fields {sorted(unknown)}")
        for key in _RULE_LISTS:
            rules = data.get(key)
            if rules is None:
                continue
            if not isinstance(rules, list):
                raise serializers.ValidationError(f"ruleSet.{key} must be a list of rules")
            for rule in rules:
                self._check_rule(key, rule)
        return data

    @staticmethod
    def _check_rule(key: str, rule) -> None:
        if not isinstance(rule, dict) or not isinstance(rule.get("name"), str):
            raise serializers.ValidationError(f"each rule of ruleSet.{key} must be an object with a string name")
        unknown = set(rule) - _RULE_TEXT_FIELDS - {"tags", "params", "disabled"}
        wrong = [
            name for name in _RULE_TEXT_FIELDS & set(rule) if rule[name] is not None and not isinstance(rule[name], str)
        ]
        if unknown or wrong:
            raise serializers.ValidationError(
                f"rule {rule['name']!r} has unknown or non-text fields {sorted(unknown | set(wrong))}"
            )
        if rule.get("tags") is not None and not _is_text_list(rule["tags"]):
            raise serializers.ValidationError(f"rule {rule['name']!r}: tags must be a list of strings")
        if rule.get("params") is not None and not _is_text_map(rule["params"]):
            raise serializers.ValidationError(f"rule {rule['name']!r}: params must map names to strings")
        if rule.get("disabled") is not None and not isinstance(rule["disabled"], bool):
            raise serializers.ValidationError(f"rule {rule['name']!r}: disabled must be true or false")


class ReferenceSerializer(serializers.Serializer):
    name = StrictCharField(max_length=255)
    subject = StrictCharField(max_length=255)
    # -1 means the latest version; registration pins it to the concrete number.
    version = StrictIntegerField(min_value=-1, max_value=MAX_VERSION)

    def validate_version(self, value):
        if value == 0:
            raise serializers.ValidationError("A reference version is -1 (latest) or between 1 and 2^31-1.")
        return value


class SchemaInputSerializer(serializers.Serializer):
    """The body of Confluent's register, lookup and compatibility calls."""

    schema = StrictCharField(trim_whitespace=False, allow_blank=False)
    schemaType = StrictCharField(required=False, default="PROTOBUF")
    # Confluent reads "references": null as no references.
    references = ReferenceSerializer(many=True, required=False, allow_null=True, default=list)
    metadata = MetadataField(required=False, allow_null=True, default=None)
    ruleSet = RuleSetField(required=False, allow_null=True, default=None)
    # IMPORT mode's id and version; the service checks their range (42205 / 42202).
    id = StrictIntegerField(required=False, allow_null=True, default=None)
    version = StrictIntegerField(required=False, allow_null=True, default=None)
    normalize = StrictBooleanField(required=False, allow_null=True, default=None)

    def validate_schemaType(self, value):
        if value.upper() != "PROTOBUF":
            raise serializers.ValidationError(f"Only PROTOBUF schemas are supported, not {value}.")
        return "PROTOBUF"

    def references_list(self) -> list[Reference]:
        references = self.validated_data["references"] or []
        return [Reference(ref["name"], ref["subject"], ref["version"]) for ref in references]


class ConfigInputSerializer(serializers.Serializer):
    compatibility = StrictCharField(required=False)
    compatibilityLevel = StrictCharField(required=False)
    compatibilityRules = StrictCharField(required=False)
    normalize = StrictBooleanField(required=False, allow_null=True)
    lintExcept = serializers.ListField(child=StrictCharField(max_length=100), required=False, allow_null=True)
    alias = StrictCharField(required=False, allow_null=True, max_length=255)
    defaultMetadata = MetadataField(required=False, allow_null=True)
    overrideMetadata = MetadataField(required=False, allow_null=True)
    defaultRuleSet = RuleSetField(required=False, allow_null=True)
    overrideRuleSet = RuleSetField(required=False, allow_null=True)
    compatibilityGroup = StrictCharField(required=False, allow_null=True, max_length=255)
    validateFields = StrictBooleanField(required=False, allow_null=True)
    reviewPolicy = StrictCharField(required=False, allow_null=True)
    lintPolicy = StrictCharField(required=False, allow_null=True)
    requiredApprovals = StrictIntegerField(required=False, allow_null=True, min_value=0, max_value=MAX_PAGE)
    noticeHours = StrictIntegerField(required=False, allow_null=True, min_value=0, max_value=MAX_PAGE)
    deprecationGraceDays = StrictIntegerField(required=False, allow_null=True, min_value=0, max_value=MAX_PAGE)
    deprecationRemovalDays = StrictIntegerField(required=False, allow_null=True, min_value=1, max_value=MAX_PAGE)


class ModeInputSerializer(serializers.Serializer):
    mode = StrictCharField()


class MessageSizesInputSerializer(serializers.Serializer):
    """Sizes of serialized messages a transport client saw for one subject since its last report."""

    subject = serializers.CharField(max_length=255)
    sizes = serializers.ListField(
        child=serializers.IntegerField(min_value=0, max_value=2**31 - 1), min_length=1, max_length=1000
    )


class DeprecationInputSerializer(serializers.Serializer):
    """The body of POST .../deprecate: why, what replaces it, and when it stops being served."""

    reason = serializers.CharField(required=False, allow_blank=True, default="")
    # A subject name (its latest version), or {"subject": ..., "version": ...}.
    successor = serializers.JSONField(required=False, allow_null=True, default=None)
    sunset = serializers.DateTimeField(required=False, allow_null=True, default=None)


# Output serializers: they describe every answer's body in the OpenAPI document, field by field.
# Optional keys (`required=False`) appear in an answer only when they have a value, as Confluent's do.


class FindingSerializer(serializers.Serializer):
    """A breaking change, lint finding or compile error at a place in a file."""

    path = serializers.CharField()
    line = serializers.IntegerField()
    column = serializers.IntegerField()
    rule = serializers.CharField()
    message = serializers.CharField()
    confluent = serializers.CharField(required=False, help_text="Confluent's difference name (CONFLUENT rule set).")


class SchemaOutputSerializer(serializers.Serializer):
    """A schema by id or guid (GET /schemas/ids/{id}, /schemas/guids/{guid})."""

    schemaType = serializers.CharField()
    schema = serializers.CharField()
    references = ReferenceSerializer(many=True, required=False)
    metadata = serializers.JSONField(required=False)
    ruleSet = serializers.JSONField(required=False)
    guid = serializers.CharField(required=False)
    maxId = serializers.IntegerField(required=False, help_text="With fetchMaxId=true: the highest schema id.")


class VersionOutputSerializer(serializers.Serializer):
    """A subject version: Confluent's fields plus the semantic version and state."""

    subject = serializers.CharField()
    version = serializers.IntegerField()
    id = serializers.IntegerField()
    schemaType = serializers.CharField()
    schema = serializers.CharField()
    references = ReferenceSerializer(many=True, required=False)
    metadata = serializers.JSONField(required=False)
    ruleSet = serializers.JSONField(required=False)
    semanticVersion = serializers.CharField()
    state = serializers.CharField()
    deleted = serializers.BooleanField(required=False)


class RegisteredOutputSerializer(serializers.Serializer):
    """The answer to a registration: the schema id (with verbose=true or format=full, the whole version)."""

    id = serializers.IntegerField()
    subject = serializers.CharField(required=False)
    version = serializers.IntegerField(required=False)
    schemaType = serializers.CharField(required=False)
    schema = serializers.CharField(required=False)
    references = ReferenceSerializer(many=True, required=False)
    semanticVersion = serializers.CharField(required=False)
    state = serializers.CharField(required=False)


class ManagedVersionOutputSerializer(VersionOutputSerializer):
    """A version as the management API shows it, with its change, lint findings and author."""

    change = serializers.CharField(help_text="MAJOR, MINOR, PATCH or NONE against the previous version.")
    lintFindings = FindingSerializer(many=True)
    createdAt = serializers.DateTimeField()
    createdBy = serializers.CharField(allow_null=True)
    created = serializers.BooleanField(required=False, help_text="On POST: whether a new version was made.")


class SubjectVersionRefOutputSerializer(serializers.Serializer):
    subject = serializers.CharField()
    version = serializers.IntegerField()


class CompatibilityOutputSerializer(serializers.Serializer):
    is_compatible = serializers.BooleanField()
    messages = serializers.ListField(child=serializers.CharField(), required=False)
    findings = FindingSerializer(many=True, required=False)


class ManagedCompatibilityOutputSerializer(serializers.Serializer):
    is_compatible = serializers.BooleanField()
    compatibilityLevel = serializers.CharField()
    compatibilityRules = serializers.CharField()
    findings = FindingSerializer(many=True)


class ConfigOutputSerializer(serializers.Serializer):
    """Compatibility and governance settings; PUT answers with `compatibility` for the level, as Confluent does."""

    compatibilityLevel = serializers.CharField(required=False)
    compatibility = serializers.CharField(required=False)
    compatibilityRules = serializers.CharField(required=False)
    normalize = serializers.BooleanField(required=False)
    lintExcept = serializers.ListField(child=serializers.CharField(), required=False)
    reviewPolicy = serializers.CharField(required=False)
    lintPolicy = serializers.CharField(required=False)
    requiredApprovals = serializers.IntegerField(required=False)
    noticeHours = serializers.IntegerField(required=False)


class ModeOutputSerializer(serializers.Serializer):
    mode = serializers.CharField()


class PrivateCopyOutputSerializer(serializers.Serializer):
    """A tenant's subject shadowing a shared one: its live versions, and why retiring it would be refused."""

    tenant = serializers.CharField()
    subject = serializers.CharField()
    versions = serializers.ListField(child=serializers.IntegerField())
    latestEqualsShared = serializers.BooleanField()
    retirable = serializers.BooleanField()
    refusals = serializers.ListField(child=serializers.CharField())


# Bare lists and numbers some answers are, as OpenAPI schemas (drf-spectacular reads these dicts as they are).
SUBJECT_NAMES = {"type": "array", "items": {"type": "string"}}
VERSION_NUMBERS = {"type": "array", "items": {"type": "integer"}}
SCHEMA_IDS = {"type": "array", "items": {"type": "integer"}}
VERSION_NUMBER = {"type": "integer"}
