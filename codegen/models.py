"""codegen has no models: code generation jobs and archives live in schemas_app (see schemas_app/codegen_jobs.py)."""
