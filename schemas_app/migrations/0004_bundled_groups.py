"""Create the bundled groups of the spec's access policy, and the shared tenant for the common catalogue.

Each group holds its roles everywhere (model permissions); the service team holds none until
`grant_role write --group "service team" --prefix ...` gives it subjects, prefixes or tenants.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP_ROLES = {
    "service team": [],
    "platform admin": ["approve_changes", "write_schemas"],
    "CI pipeline": ["start_codegen"],
    "auditor": ["read_audit"],
    "super admin": [
        "read_schemas",
        "write_schemas",
        "approve_changes",
        "start_codegen",
        "delete_schemas",
        "read_audit",
    ],
}


def create_groups(apps, schema_editor):
    # Permissions are normally created after every migration ran; the groups need them now.
    app_config = apps.get_app_config("schemas_app")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    ContentType = apps.get_model("contenttypes", "ContentType")
    tenant_type = ContentType.objects.get(app_label="schemas_app", model="tenant")
    for name, codenames in GROUP_ROLES.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(*Permission.objects.filter(content_type=tenant_type, codename__in=codenames))
    Tenant = apps.get_model("schemas_app", "Tenant")
    Tenant.objects.get_or_create(slug="shared", defaults={"name": "Shared catalogue", "shared": True})


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=GROUP_ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("schemas_app", "0003_access_roles_and_tenant_bindings"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
