"""Routes of code generation: /generate/{language} and /generated/{language}/{version}."""

urlpatterns: list = []
