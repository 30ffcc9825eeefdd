"""What every doctor check receives (`DoctorContext`) and returns (`Finding`s)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from botocore.exceptions import ClientError

from slipway.cli.aws_errors import error_code, error_message
from slipway.program.config import StackConfig

Status = Literal["pass", "warn", "fail", "skip"]


@dataclass(frozen=True)
class Finding:
    """One line of the doctor's report."""

    check: str
    """The check's short name, e.g. `subnet tags` (groups lines in the table)."""
    status: Status
    subject: str
    """What was looked at: a subnet id, an app, a node group, a principal."""
    detail: str
    """What was found, in a sentence."""
    fix: str = ""
    """What to do about it; required for warn and fail."""

    def __post_init__(self) -> None:
        if self.status in ("warn", "fail") and not self.fix:
            raise ValueError(f"{self.check}/{self.subject}: a {self.status} finding needs a fix")

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


@dataclass
class DoctorContext:
    """The stack as configured, and boto3 clients in its region with its profile."""

    stack: str
    region: str
    cfg: StackConfig
    cluster_name: str
    session: Any
    """A boto3.Session with the stack's profile and region."""
    profile: str | None = None
    """The AWS profile doctor runs with (None: the environment's credentials)."""
    _clients: dict[str, Any] = field(default_factory=dict, repr=False)
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self.session.client(service, region_name=self.region)
        return self._clients[service]

    def cluster(self) -> dict[str, Any] | None:
        """`eks:DescribeCluster` of the stack's cluster; None before it exists or when
        the call was refused (then `cluster_unreadable` says why). Cached."""
        if "cluster" not in self._cache:
            eks = self.client("eks")
            self._cache["cluster_error"] = None
            try:
                self._cache["cluster"] = eks.describe_cluster(name=self.cluster_name)["cluster"]
            except eks.exceptions.ResourceNotFoundException:
                self._cache["cluster"] = None
            except ClientError as exc:
                self._cache["cluster"] = None
                self._cache["cluster_error"] = f"{error_code(exc)}: {error_message(exc)}".strip(": ")
        return self._cache["cluster"]

    @property
    def cluster_unreadable(self) -> str | None:
        """Why eks:DescribeCluster failed (not 'not found'), or None."""
        self.cluster()
        return self._cache.get("cluster_error")
