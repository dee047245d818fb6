from django.apps import AppConfig


class SchemasAppConfig(AppConfig):
    name = "schemas_app"
    verbose_name = "Schema registry"

    def ready(self):
        from auditlog.registry import auditlog

        from schemas_app import cache, models

        cache.connect_invalidation()

        # Every change to these rows lands in the audit log, whoever makes it and however.
        for model in (
            models.Tenant,
            models.Schema,
            models.Subject,
            models.SubjectVersion,
            models.SubjectConfig,
            models.SubjectMode,
        ):
            auditlog.register(model)
        auditlog.register(models.TenantBinding)
        auditlog.register(models.TenantConfig)
        auditlog.register(models.SubjectPrefixGrant)
        # A token's keyed hash is no secret, but it has no place in the history either.
        auditlog.register(models.ApiToken, exclude_fields=["digest"])
