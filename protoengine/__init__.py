"""The protobuf engine: compile, compare, lint and version .proto schemas.

Nothing in this package imports Django, so the API, the Celery workers and the
command line (`python -m protoengine ...`) all call the same functions.
"""
