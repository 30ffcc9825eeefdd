"""AWS hard limits on what slipway writes from the config: tags and IAM policy size.

- Tags (Tagging AWS Resources user guide, "Tag naming limits and requirements",
  https://docs.aws.amazon.com/tag-editor/latest/userguide/tagging.html): at most 50 tags per
  resource; keys up to 128 characters, values up to 256; the `aws:` prefix is reserved for AWS
  (a tag key starting with it is refused by every API that takes tags).
- IAM (IAM user guide, "IAM and AWS STS quotas", https://docs.aws.amazon.com/IAM/latest/UserGuide/
  reference_iam-quotas.html): a role's inline policies may total 10,240 characters, whitespace
  not counted. An app's `serviceAccount.policyStatements` become one inline policy of its role
  (components/access.py `WorkloadRole`).

None of these can be raised: each is an error.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from slipway.components.iam import policy_document
from slipway.program.guardrails import Finding, Site, guardrail

if TYPE_CHECKING:
    from slipway.program.capacity import ClusterPlan
    from slipway.program.config import StackConfig

MAX_TAGS = 50
MAX_KEY, MAX_VALUE = 128, 256
# Tags slipway itself puts on a resource besides `slipway:tags`: slipway/stack,
# slipway/environment, managed-by (infra/wiring.py ownership_tags) and, on the busiest
# resources (private subnets), Name, the ELB role tag, karpenter.sh/discovery and one
# kubernetes.io/cluster/<name> tag per cluster the VPC serves.
OWN_TAGS = 3
EXTRA_TAGS = 3  # Name, the ELB role tag, karpenter.sh/discovery (cluster tags are counted per cluster)
MAX_INLINE_POLICY = 10240


@guardrail
def tag_limits(cfg: StackConfig, plan: ClusterPlan, site: Site) -> list[Finding]:
    out = []
    for field, tags in (("tags", cfg.tags), ("nodeTags", cfg.node_tags)):
        for key, value in sorted(tags.items()):
            if key.lower().startswith("aws:"):
                out.append(
                    Finding(
                        "error",
                        f"{field}.{key}",
                        value,
                        "uses the aws: prefix, which AWS reserves for its own tags (every tagging API refuses it)",
                        "choose a key without aws:",
                    )
                )
            if len(key) > MAX_KEY:
                out.append(
                    Finding(
                        "error",
                        f"{field}",
                        key,
                        f"is a tag key of {len(key)} characters; AWS allows {MAX_KEY}",
                        "shorten the key",
                    )
                )
            if len(value) > MAX_VALUE:
                out.append(
                    Finding(
                        "error",
                        f"{field}.{key}",
                        f"({len(value)} characters)",
                        f"is longer than the {MAX_VALUE} characters AWS allows in a tag value",
                        "shorten the value",
                    )
                )
    clusters = 1
    busiest = OWN_TAGS + len(cfg.tags) + EXTRA_TAGS + clusters
    if busiest > MAX_TAGS:
        out.append(
            Finding(
                "error",
                "tags",
                f"{len(cfg.tags)} tags",
                f"leave the private subnets with {busiest} tags ({OWN_TAGS} of slipway's ownership tags and "
                f"{EXTRA_TAGS + clusters} for discovery and Name), and AWS allows {MAX_TAGS} per resource",
                f"keep at most {MAX_TAGS - OWN_TAGS - EXTRA_TAGS - clusters} keys in slipway:tags",
            )
        )
    on_nodes = OWN_TAGS + len(cfg.node_tags) + 1  # + Name
    if on_nodes > MAX_TAGS:
        out.append(
            Finding(
                "error",
                "nodeTags",
                f"{len(cfg.node_tags)} tags",
                f"leave the nodes' instances with {on_nodes} tags, and AWS allows {MAX_TAGS}",
                f"keep at most {MAX_TAGS - OWN_TAGS - 1} keys in slipway:nodeTags",
            )
        )
    return out


@guardrail
def inline_policy_size(cfg: StackConfig, plan: ClusterPlan, site: Site) -> list[Finding]:
    out = []
    for name, app in sorted(cfg.apps.items()):
        statements = app.service_account.policy_statements if app.service_account else []
        if not statements:
            continue
        document = policy_document([dict(s) for s in statements])
        size = len("".join(json.dumps(document).split()))
        if size > MAX_INLINE_POLICY:
            out.append(
                Finding(
                    "error",
                    f"apps.{name}.serviceAccount.policyStatements",
                    f"{len(statements)} statements",
                    f"make an inline role policy of {size:,} characters (whitespace aside), and IAM allows "
                    f"{MAX_INLINE_POLICY:,} per role (a hard limit)",
                    "merge statements (one statement with several actions or resources, wildcards such as "
                    "arn:aws:s3:::bucket/*), or attach a managed policy you create outside slipway",
                )
            )
    return out
