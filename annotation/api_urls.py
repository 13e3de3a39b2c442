"""URL routes; filled by the area that owns this module."""

urlpatterns: list = []
