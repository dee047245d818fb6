"""Let the bundled platform admin group open the reviewers' console.

A platform admin reviews changes in the admin's console (the review queue and the subjects and versions it
links to). The admin asks for Django's model view permissions on
top of staff status, which the groups lacked, so a staff account in the "platform admin" group was refused
the console. What each page then shows and allows stays decided by the roles (tenants readable, approve).
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

VIEW_PERMISSIONS = {
    "platform admin": [
        ("schemas_app", "changerequest"),
        ("schemas_app", "approval"),
        ("schemas_app", "reviewcomment"),
        ("schemas_app", "subject"),
        ("schemas_app", "subjectversion"),
        ("schemas_app", "schema"),
    ],
}


def grant_view_permissions(apps, schema_editor):
    # Permissions are normally created after every migration ran; the group needs them now.
    app_config = apps.get_app_config("schemas_app")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, models in VIEW_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=name)
        for app_label, model in models:
            group.permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=f"view_{model}"))


def revoke_view_permissions(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, models in VIEW_PERMISSIONS.items():
        for group in Group.objects.filter(name=name):
            for app_label, model in models:
                group.permissions.remove(
                    *Permission.objects.filter(content_type__app_label=app_label, codename=f"view_{model}")
                )


class Migration(migrations.Migration):
    dependencies = [
        ("schemas_app", "0015_cache_generation"),
    ]

    operations = [migrations.RunPython(grant_view_permissions, revoke_view_permissions)]
