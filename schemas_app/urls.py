"""Routes of the Confluent-compatible API and the management API."""
urlpatterns: list = []
