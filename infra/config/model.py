"""The base of every config section, and rules several sections share.

`Model` gives each section camelCase keys, rejects unknown keys and freezes the
parsed value. Rules that compare fields live in a section's `raw_checks`, which
`Model` runs on the raw input *even when some field failed to parse*, so one run
reports every mistake.

The shared rules: Kubernetes (DNS-1123) names, resource quantities, image tags and
ACM certificate ARNs, used by the sections here and by `apps.py`.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator
from pydantic.alias_generators import to_camel

from slipway.components import app_rules as rules
from slipway.components.capacity.quantity import cpu_millicores, memory_mib
from slipway.program.config.errors import Issue, merged, problems


def anchored(pattern: re.Pattern[str]) -> re.Pattern[str]:
    """The library's rule (matched whole with fullmatch there) for `.match` here: one definition."""
    return re.compile(f"^(?:{pattern.pattern})$")


DNS1123_LABEL = anchored(rules.DNS1123_LABEL)


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def dns1123_name_issues(where: str, name: Any) -> list[Issue]:
    """A Kubernetes object name: a DNS-1123 label of at most 63 characters."""
    if isinstance(name, str) and (not DNS1123_LABEL.match(name) or len(name) > 63):
        return [Issue(where, name, "is not a DNS-1123 name", "use lowercase letters, digits and '-'")]
    return []


def quantity_example(key: str) -> str:
    """How to write a request or limit of resource `key` (cpu, else memory)."""
    return "250m" if key == "cpu" else "256Mi"


def parse_quantity(where: str, key: str, value: Any) -> tuple[int | None, list[Issue]]:
    """A request or limit of resource `key`: (millicores for cpu, else MiB; []), or (None, [the issue at `where`])."""
    parse = cpu_millicores if key == "cpu" else memory_mib
    try:
        return parse(value), []
    except ValueError as e:
        return None, [Issue(where, value, str(e).split(" ", 1)[1], f"write it like {quantity_example(key)}")]


class Model(BaseModel):
    """Base for every config section: camelCase keys, unknown keys rejected, frozen."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True)

    @classmethod
    def raw_checks(cls, data: dict[str, Any], context: dict[str, Any]) -> list[Issue]:
        """Cross-field rules on the raw (camelCase) input; defensive about types."""
        return []

    @model_validator(mode="wrap")
    @classmethod
    def _run_raw_checks(cls, data: Any, handler: Any, info: Any) -> Any:
        issues: list[Issue] = []
        broken: Exception | None = None
        if isinstance(data, dict):
            # Python callers may use field names; raw checks read the YAML's camelCase keys.
            raw = {
                (f.alias or n) if n in data else n: v
                for n, f in cls.model_fields.items()
                if n in data
                for v in [data[n]]
            }
            try:
                issues = cls.raw_checks({**data, **raw}, info.context or {})
            except (TypeError, AttributeError, KeyError, IndexError, ValueError) as crash:
                # Raw checks read YAML as written and a value of the wrong type can trip one;
                # the schema then reports that value (field, value, fix). A crash on input the
                # schema accepts is a bug, never swallowed: it is raised below.
                issues, broken = [], crash
            else:
                broken = None
        try:
            result = handler(data)
        except ValidationError as exc:
            if issues:
                raise merged(exc, issues, data) from None
            raise
        if broken is not None:
            raise broken
        if issues:
            raise problems(issues)
        return result


ACM_ARN = anchored(rules.ACM_ARN)


def certificate_arn_issues(where: str, cert: Any) -> list[Issue]:
    """An Ingress's certificateArn, when written, must be an ACM certificate ARN."""
    if isinstance(cert, str) and not ACM_ARN.match(cert):
        return [
            Issue(where, cert, "is not an ACM certificate ARN", "write arn:aws:acm:<region>:<account>:certificate/<id>")
        ]
    return []


def missing_certificate_issues(where: str, cert: Any, internet_facing: bool, problem: str, fix: str) -> list[Issue]:
    """An internet-facing ALB needs a certificate (else it serves plain HTTP on the internet)."""
    return [Issue(where, None, problem, fix)] if internet_facing and not cert else []


def image_issues(where: str, image: Any) -> list[Issue]:
    """An image must name a tag (or digest) other than `latest`."""
    if not isinstance(image, str) or not image:
        return [Issue(where, image, "is empty", "name an image with a tag, e.g. ghcr.io/org/tool:1.4.2")]
    if "@sha256:" in image:
        return []
    last = image.rsplit("/", 1)[-1]
    tag = last.split(":", 1)[1] if ":" in last else ""
    if tag in ("", "latest"):
        return [Issue(where, image, "has no tag or the tag `latest`, so what runs changes without a deploy",
                      "pin a version tag or a digest, e.g. python:3.12.7-slim")]  # fmt: skip
    return []


def kubernetes_namespace(ns: str) -> bool:
    """Is `ns` Kubernetes' own (default, kube-system, kube-public, kube-node-lease) or under its
    reserved `kube-` prefix: never a namespace slipway creates or runs apps and add-ons in."""
    from slipway.components.namespaces import SYSTEM_NAMESPACES

    return ns in SYSTEM_NAMESPACES or ns.startswith("kube-")
