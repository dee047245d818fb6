from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("schemas_app", "0014_code_generation"),
    ]

    operations = [
        migrations.AddField(
            model_name="registryinstance",
            name="cache_generation",
            field=models.PositiveBigIntegerField(default=0),
        ),
    ]
