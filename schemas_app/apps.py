from django.apps import AppConfig


class SchemasAppConfig(AppConfig):
    name = "schemas_app"
    verbose_name = "Schema registry"

    def ready(self):
        from auditlog.models import LogEntry
        from auditlog.registry import auditlog
        from django.contrib.auth.models import Group
        from django.db.models.signals import post_save, pre_delete, pre_save
        from guardian.models import GroupObjectPermission, UserObjectPermission

        from schemas_app import access_cache, audit_chain, auditing, cache, models

        cache.connect_invalidation()
        access_cache.connect_invalidation()

        # Every change to these rows lands in the audit log, whoever makes it and however.
        for model in (
            models.Tenant,
            models.Schema,
            models.SchemaReference,
            models.Subject,
            models.SubjectVersion,
            models.SubjectConfig,
            models.SubjectMode,
            models.ChangeRequest,
            models.Approval,
            models.ReviewComment,
            UserObjectPermission,
            GroupObjectPermission,
            Group,
        ):
            auditlog.register(model)
        auditlog.register(models.TenantBinding)
        auditlog.register(models.TenantConfig)
        auditlog.register(models.SubjectPrefixGrant)
        # A token's keyed hash is no secret, but it has no place in the history either.
        auditlog.register(models.ApiToken, exclude_fields=["digest"])
        auditlog.register(models.Subscription, mask_fields=["webhook_secret"])
        # Entries are sealed into the hash chain as they are written, and never changed afterwards.
        pre_save.connect(audit_chain.refuse_change, sender=LogEntry, dispatch_uid="audit-refuse-change")
        pre_save.connect(
            audit_chain.insert_waiting_entries_first, sender=LogEntry, dispatch_uid="audit-insert-waiting-first"
        )
        post_save.connect(audit_chain.on_log_entry_saved, sender=LogEntry, dispatch_uid="audit-seal")
        pre_delete.connect(audit_chain.refuse_delete, sender=LogEntry, dispatch_uid="audit-refuse-delete")
        auditing.connect_request_receiver()
