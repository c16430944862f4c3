"""Stripe-shaped API errors raised inside the sandbox and rendered by its API blueprint."""

from __future__ import annotations

from typing import Any


class StripeError(Exception):
    """An error the sandbox answers the way Stripe does: a status and an `error` object."""

    def __init__(
        self,
        message: str,
        *,
        status: int = 400,
        type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body: dict[str, Any] = {"type": type, "message": message}
        if code:
            self.body["code"] = code
            self.body["doc_url"] = f"https://docs.stripe.com/error-codes/{code.replace('_', '-')}"
        if param:
            self.body["param"] = param
        self.body.update(extra)

    @classmethod
    def missing(cls, object_name: str, object_id: str, param: str = "id") -> StripeError:
        return cls(
            f"No such {object_name}: '{object_id}'",
            status=404,
            code="resource_missing",
            param=param,
        )

    @classmethod
    def unknown_param(cls, param: str) -> StripeError:
        return cls(f"Received unknown parameter: {param}", code="parameter_unknown", param=param)

    @classmethod
    def missing_param(cls, param: str) -> StripeError:
        return cls(f"Missing required param: {param}.", code="parameter_missing", param=param)

    @classmethod
    def invalid(
        cls, param: str, message: str, code: str = "parameter_invalid_empty"
    ) -> StripeError:
        return cls(message, code=code, param=param)

    @classmethod
    def card_declined(cls, decline_code: str, message: str, charge: str | None) -> StripeError:
        return cls(
            message,
            status=402,
            type="card_error",
            code="card_declined",
            decline_code=decline_code,
            charge=charge,
        )
