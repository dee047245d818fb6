"""Input serializers of the registry API."""

from rest_framework import serializers

from schemas_app.preparation import Reference


class ReferenceSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=255)
    subject = serializers.CharField(max_length=255)
    version = serializers.IntegerField()


class SchemaInputSerializer(serializers.Serializer):
    """The body of Confluent's register, lookup and compatibility calls."""

    schema = serializers.CharField(trim_whitespace=False, allow_blank=False)
    schemaType = serializers.CharField(required=False, default="PROTOBUF")
    # Confluent reads "references": null as no references.
    references = ReferenceSerializer(many=True, required=False, allow_null=True, default=list)
    metadata = serializers.JSONField(required=False, allow_null=True, default=None)
    ruleSet = serializers.JSONField(required=False, allow_null=True, default=None)
    id = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=1)
    version = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=1)
    normalize = serializers.BooleanField(required=False, allow_null=True, default=None)

    def validate_schemaType(self, value):
        if value.upper() != "PROTOBUF":
            raise serializers.ValidationError(f"Only PROTOBUF schemas are supported, not {value}.")
        return "PROTOBUF"

    def references_list(self) -> list[Reference]:
        references = self.validated_data["references"] or []
        return [Reference(ref["name"], ref["subject"], ref["version"]) for ref in references]


class ConfigInputSerializer(serializers.Serializer):
    compatibility = serializers.CharField(required=False)
    compatibilityLevel = serializers.CharField(required=False)
    compatibilityRules = serializers.CharField(required=False)
    normalize = serializers.BooleanField(required=False, allow_null=True)
    lintExcept = serializers.ListField(child=serializers.CharField(), required=False, allow_null=True)
    alias = serializers.CharField(required=False, allow_null=True)
    defaultMetadata = serializers.JSONField(required=False, allow_null=True)
    overrideMetadata = serializers.JSONField(required=False, allow_null=True)
    defaultRuleSet = serializers.JSONField(required=False, allow_null=True)
    overrideRuleSet = serializers.JSONField(required=False, allow_null=True)
    compatibilityGroup = serializers.CharField(required=False, allow_null=True)
    validateFields = serializers.BooleanField(required=False, allow_null=True)
    reviewPolicy = serializers.CharField(required=False, allow_null=True)
    lintPolicy = serializers.CharField(required=False, allow_null=True)
    requiredApprovals = serializers.IntegerField(required=False, allow_null=True)
    noticeHours = serializers.IntegerField(required=False, allow_null=True)


class ModeInputSerializer(serializers.Serializer):
    mode = serializers.CharField()


class MessageSizesInputSerializer(serializers.Serializer):
    """Sizes of serialized messages a transport client saw for one subject since its last report."""

    subject = serializers.CharField(max_length=255)
    sizes = serializers.ListField(
        child=serializers.IntegerField(min_value=0, max_value=2**31 - 1), min_length=1, max_length=1000
    )
