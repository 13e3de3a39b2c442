"""Content negotiation that says what went wrong: `?format=xml` is a 400 naming the formats the endpoint has.

DRF's default answers an unknown `format` with a bare 404 "Not found.", which reads as if the endpoint
did not exist.
"""

from __future__ import annotations

from typing import Any

from rest_framework.negotiation import DefaultContentNegotiation


class ExplainingContentNegotiation(DefaultContentNegotiation):
    def filter_renderers(self, renderers: list[Any], format: str) -> list[Any]:  # noqa: A002 (DRF's name)
        matched = [renderer for renderer in renderers if renderer.format == format]
        if not matched:
            from config.exceptions import ApplicationError  # here: config.exceptions imports DRF's views, which import us

            allowed = list(dict.fromkeys(renderer.format for renderer in renderers))
            raise ApplicationError(
                f"format: unknown value {format!r}; expected one of: {', '.join(allowed)}",
                extra={"param": "format", "value": format, "allowed": allowed},
            )
        return matched
