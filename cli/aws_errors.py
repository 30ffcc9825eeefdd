"""What a botocore `ClientError` says: its error code and message, and which codes are refusals."""

from __future__ import annotations

from typing import Any

# A policy refused the call: IAM's and most services' codes.
ACCESS_DENIED = frozenset({"AccessDenied", "AccessDeniedException"})
# ACCESS_DENIED plus the codes EC2 and some other services use for the same refusal.
REFUSED = ACCESS_DENIED | {"UnauthorizedOperation", "UnauthorizedException"}


def error_code(exc: Any, default: str = "") -> str:
    """The AWS error code of a ClientError (`AccessDenied`, `NoSuchBucket`, `404`), or `default`."""
    return str(exc.response.get("Error", {}).get("Code", default))


def error_message(exc: Any, default: str = "") -> str:
    """The AWS error message of a ClientError, or `default` when AWS sent none."""
    return str(exc.response.get("Error", {}).get("Message", default))
