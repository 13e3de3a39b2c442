"""The project's one application error type, and the DRF handler that renders it like a ValidationError."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions as drf_exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


class ApplicationError(Exception):
    """A request the platform understood and refuses: `message` says what, where and why."""

    status_code = 400

    def __init__(self, message: str, *, extra: dict[str, Any] | None = None, status_code: int | None = None):
        super().__init__(message)
        self.message = message
        self.extra = extra or {}
        if status_code is not None:
            self.status_code = status_code


def validation_summary(errors: Any, where: str = "") -> list[str]:
    """DRF's nested field errors as "field: why" lines, nested fields dotted ("votes.audio: ...")."""
    if isinstance(errors, dict):
        return [line for key, value in errors.items() for line in validation_summary(value, f"{where}.{key}" if where else str(key))]
    if isinstance(errors, list):
        if all(not isinstance(item, (dict, list)) for item in errors):
            return [f"{where}: {' '.join(map(str, errors))}" if where else " ".join(map(str, errors))] if errors else []
        return [line for index, item in enumerate(errors) for line in validation_summary(item, f"{where}[{index}]")]
    return [f"{where}: {errors}" if where else str(errors)]


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Render every refusal as {"message": ..., "extra": {...}} with a 4xx status."""
    if isinstance(exc, DjangoValidationError):
        exc = drf_exceptions.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
    elif isinstance(exc, Http404):
        exc = drf_exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = drf_exceptions.PermissionDenied()
    if isinstance(exc, ApplicationError):
        return Response({"message": exc.message, "extra": exc.extra}, status=exc.status_code)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, drf_exceptions.ValidationError):
        summary = "; ".join(validation_summary(response.data))
        message = f"Validation error: {summary}" if summary else "Validation error"
        response.data = {"message": message, "extra": {"fields": response.data}}
    elif isinstance(response.data, dict) and "detail" in response.data:
        response.data = {"message": str(response.data["detail"]), "extra": {}}
    return response
